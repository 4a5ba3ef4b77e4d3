/**
 * Runs a golden case exactly as its `meta` describes and compares with its reference output. Used by the
 * `maai-encoder parity` command and by the test suite.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EncoderCPC } from '../models/cpc/encoderCpc';
import { WeightStore } from '../weights/store';
import { FormatError } from '../weights/types';
import { RealtimeRun, runRealtime } from '../pipeline/realtimeLoop';
import { Comparison, DEFAULT_TOLERANCE, compareArrays } from './compare';
import { GoldenCase, caseInts, caseTensor, loadSignal } from './goldenCase';
import { validateCaseMeta } from './caseMeta';

export interface ParityResult {
  case: string;
  kind: string;
  shape_ok: boolean;
  emitted_ok: boolean;
  max_abs: number;
  rel: number;
  pass: boolean;
  /** Per-tensor comparisons for cases with several outputs (mimi_core). */
  parts?: Record<string, Comparison>;
}

export interface ParityOptions {
  weights: WeightStore;
  /** Folder holding `<signal>.safetensors`; needed by cases that name a signal. */
  signalsDir?: string;
  tolerance?: number;
}

/** Output of a run: features [N, C] as a flat array, and the per-call emitted counts for streams. */
export interface RunOutput {
  data: Float32Array;
  shape: number[];
  emitted?: number[];
}

type Runner = (c: GoldenCase, opts: ParityOptions) => Promise<RunOutput | { parts: Record<string, RunOutput & { ref: string }> }>;

// No prototype: a kind such as "constructor" or "toString" finds no runner.
const runners: Record<string, Runner> = Object.assign(Object.create(null) as Record<string, Runner>, {
  cpc_offline: async (c: GoldenCase, o: ParityOptions) => runCpc(c, o, false),
  cpc_stream: async (c: GoldenCase, o: ParityOptions) => runCpc(c, o, true),
});

/** Adds a runner for a case kind (the Mimi encoders register theirs). */
export function registerParityRunner(kind: string, r: Runner): void {
  runners[kind] = r;
}

/** A realtime run as a runner's output (MaAI's loop never finalizes: the golden streams do not either). */
export function realtimeOutput(r: RealtimeRun): RunOutput {
  return { data: r.data, shape: [r.frames, r.dim], emitted: r.emitted };
}

export function signalFor(c: GoldenCase, opts: ParityOptions): Float32Array {
  const sig = c.meta.signal;
  if (typeof sig !== 'string') throw new FormatError(`case ${c.name}: meta has no "signal"`);
  if (!opts.signalsDir) throw new FormatError(`case ${c.name} needs its input signal "${sig}": pass --signals DIR`);
  const file = path.join(opts.signalsDir, `${sig}.safetensors`);
  if (!fs.existsSync(file)) throw new FormatError(`case ${c.name}: signal file not found: ${file}`);
  const s = loadSignal(file);
  if (s.sampleRate !== 16000) throw new FormatError(`${file}: sample rate ${s.sampleRate}, expected 16000`);
  return s.samples;
}

/** A number from a case's meta, or `dflt` when absent; anything else is a FormatError naming the key. */
export function metaNumber(c: GoldenCase, key: string, dflt?: number): number {
  const v = c.meta[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(`case ${c.name}: meta "${key}" must be a number`);
  return v;
}

async function runCpc(c: GoldenCase, o: ParityOptions, stream: boolean): Promise<RunOutput> {
  const mode = c.meta.ar_mode;
  if (mode !== undefined && mode !== 'LSTM' && mode !== 'GRU') throw new FormatError(`case ${c.name}: ar_mode must be LSTM or GRU`);
  const enc = EncoderCPC.load(o.weights, { arMode: mode as 'LSTM' | 'GRU' | undefined });
  try {
    const wave = signalFor(c, o);
    if (!stream) {
      const y = enc.forward(wave);
      const out = { data: y.dataSync() as Float32Array, shape: y.shape.slice(1) };
      y.dispose();
      return out;
    }
    const window = metaNumber(c, 'window', 1920);
    const shift = metaNumber(c, 'shift', 1600);
    const geometry = { window, shift, context: window - shift, leadingZeros: metaNumber(c, 'leading_zeros', 320) };
    return realtimeOutput(runRealtime(enc, wave, { geometry, chunk: metaNumber(c, 'chunk_samples', 160), finalize: false }));
  } finally {
    enc.dispose();
  }
}

export async function runParity(c: GoldenCase, opts: ParityOptions): Promise<ParityResult> {
  validateCaseMeta(c.name, c.meta); // also for cases built in code, not read by loadCase
  const runner = runners[c.meta.kind];
  if (!runner) throw new FormatError(`case ${c.name}: unknown kind "${c.meta.kind}" (known: ${Object.keys(runners).join(', ')})`);
  const tol = opts.tolerance ?? DEFAULT_TOLERANCE;
  const out = await runner(c, opts);
  if ('parts' in out) {
    const parts: Record<string, Comparison> = {};
    for (const [name, p] of Object.entries(out.parts)) {
      const ref = caseTensor(c, p.ref);
      parts[name] = compareArrays(p.data, p.shape, ref.data, ref.shape);
    }
    const all = Object.values(parts);
    const shape_ok = all.every((p) => p.shape_ok);
    const rel = Math.max(...all.map((p) => p.rel));
    const max_abs = Math.max(...all.map((p) => p.max_abs));
    return { case: c.name, kind: c.meta.kind, shape_ok, emitted_ok: true, max_abs, rel, pass: shape_ok && rel <= tol, parts };
  }
  const ref = caseTensor(c, 'output');
  const cmp = compareArrays(out.data, out.shape, ref.data, ref.shape);
  let emitted_ok = true;
  if (c.tensors.has('emitted')) {
    const want = caseInts(c, 'emitted');
    emitted_ok = !!out.emitted && out.emitted.length === want.length && out.emitted.every((v, i) => v === want[i]);
  }
  return {
    case: c.name,
    kind: c.meta.kind,
    shape_ok: cmp.shape_ok,
    emitted_ok,
    max_abs: cmp.max_abs,
    rel: cmp.rel,
    pass: cmp.shape_ok && emitted_ok && cmp.rel <= tol,
  };
}
