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
  /** VAP cases: the encoder's own weights (the VAP model's come from `weights`). */
  encoderWeights?: WeightStore;
  /** Folder holding `<signal>.safetensors`; needed by cases that name a signal. */
  signalsDir?: string;
  /** The case's input signal already in memory (browsers fetch it); used instead of reading `signalsDir`. */
  signal?: Float32Array;
  tolerance?: number;
}

/** Output of a run: features [N, C] as a flat array, and the per-call emitted counts for streams. */
export interface RunOutput {
  data: Float32Array;
  shape: number[];
  emitted?: number[];
  /** Input position (16 kHz samples consumed) at each call of a stream. */
  callEnd?: number[];
}

/** Several outputs, each compared with its reference tensor; `emitted_ok` for counts checked by the runner itself. */
export interface PartsOutput {
  /** `ref`: the case tensor to compare with; `refFrom`: only its rows from this index on. */
  parts: Record<string, RunOutput & { ref: string; refFrom?: number }>;
  emitted_ok?: boolean;
}

type Runner = (c: GoldenCase, opts: ParityOptions) => Promise<RunOutput | PartsOutput>;

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
  return { data: r.data, shape: [r.frames, r.dim], emitted: r.emitted, callEnd: r.callEnd };
}

export function signalFor(c: GoldenCase, opts: ParityOptions): Float32Array {
  const sig = c.meta.signal;
  if (typeof sig !== 'string') throw new FormatError(`case ${c.name}: meta has no "signal"`);
  if (opts.signal) return opts.signal;
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

/** The JSON line `maai-encoder parity` prints for a result (the parity page shows the same). */
export function parityLine(r: ParityResult): Omit<ParityResult, 'parts'> & { parts?: ParityResult['parts'] } {
  const line = { case: r.case, kind: r.kind, shape_ok: r.shape_ok, emitted_ok: r.emitted_ok, max_abs: r.max_abs, rel: r.rel, pass: r.pass };
  return r.parts ? { ...line, parts: r.parts } : line;
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
      if (p.refFrom) {
        // Compare with the reference's rows from `refFrom` on.
        const per = ref.data.length / Math.max(1, ref.shape[0]);
        ref.data = ref.data.subarray(p.refFrom * per);
        ref.shape = [ref.shape[0] - p.refFrom, ...ref.shape.slice(1)];
      }
      parts[name] = compareArrays(p.data, p.shape, ref.data, ref.shape);
    }
    const all = Object.values(parts);
    const shape_ok = all.every((p) => p.shape_ok);
    const rel = Math.max(...all.map((p) => p.rel));
    const max_abs = Math.max(...all.map((p) => p.max_abs));
    const emitted_ok = out.emitted_ok ?? true;
    return { case: c.name, kind: c.meta.kind, shape_ok, emitted_ok, max_abs, rel, pass: shape_ok && emitted_ok && rel <= tol, parts };
  }
  const ref = caseTensor(c, 'output');
  const cmp = compareArrays(out.data, out.shape, ref.data, ref.shape);
  // Per-call counts, and where the realtime loop made each call (the golden streams record both).
  const same = (got: number[] | undefined, want: number[]) => !!got && got.length === want.length && got.every((v, i) => v === want[i]);
  let emitted_ok = true;
  if (c.tensors.has('emitted')) emitted_ok = same(out.emitted, caseInts(c, 'emitted'));
  if (c.tensors.has('call_end_sample')) emitted_ok = emitted_ok && same(out.callEnd, caseInts(c, 'call_end_sample'));
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
