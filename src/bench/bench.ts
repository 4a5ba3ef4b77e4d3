/**
 * Benchmarks on full-size deterministic weights (detweights v1 layouts of kyutai/mimi and the CPC checkpoint):
 * streaming ms per call, offline real-time factor, weight load time and peak RSS. Prints figures; asserts nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { EncoderCPC } from '../models/cpc/encoderCpc';
import { EncoderMimi } from '../models/mimi/encoderMimi';
import { MIMI_CONFIG } from '../models/mimi/mimiConfig';
import { Manifest, buildFromManifest } from '../weights/detweights';
import { writeSafetensors } from '../weights/safetensors';
import { openWeights } from '../weights/store';
import { fullManifests } from './manifests';
import type { AudioEncoder, EncoderStream } from '../pipeline/types';
import { stats } from './stats';
export { stats } from './stats';

export interface BenchOptions {
  /** Streaming calls measured (after warm-up). */
  calls?: number;
  warmup?: number;
  /** Offline repetitions. */
  runs?: number;
  /** Seconds of audio for the offline RTF. */
  seconds?: number;
  /** 'vap': MaAI's two-channel VAP pipelines (CPC + VAP, full Mimi + VAP). */
  encoders?: Array<'cpc' | 'mimi' | 'vap'>;
  log?: (line: string) => void;
}

/** A deterministic test signal: tones plus low noise, 16 kHz. */
export function benchSignal(seconds: number): Float32Array {
  const n = Math.round(seconds * 16000);
  const x = new Float32Array(n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const noise = (seed / 2 ** 32 - 0.5) * 0.02;
    x[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000) * Math.sin((2 * Math.PI * 3 * i) / 16000) + noise;
  }
  return x;
}

function writeTemp(manifest: Manifest, name: string): string {
  const file = path.join(os.tmpdir(), `maai-bench-${process.pid}-${name}.safetensors`);
  fs.writeFileSync(file, writeSafetensors(buildFromManifest(manifest)));
  return file;
}

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/**
 * `runs` repetitions of `calls` timed calls (continuing one stream): the median of the per-run medians, and
 * p95 / min / max over every call.
 */
function repeatedRuns(runs: number, calls: number, one: (k: number) => number): { median: number; p95: number; min: number; max: number; runs: number } {
  const all: number[] = [];
  const medians: number[] = [];
  for (let r = 0; r < runs; r++) {
    const per = Array.from({ length: calls }, (_, i) => one(r * calls + i));
    medians.push(stats(per).median);
    all.push(...per);
  }
  const s = stats(all);
  return { median: stats(medians).median, p95: s.p95, min: s.min, max: s.max, runs };
}

export async function runBench(opts: BenchOptions = {}): Promise<Record<string, number | string>> {
  const calls = opts.calls ?? 100;
  const warmup = opts.warmup ?? 10;
  const runs = opts.runs ?? 5;
  const seconds = opts.seconds ?? 10;
  const log = opts.log ?? (() => {});
  const encoders = opts.encoders ?? ['cpc', 'mimi'];
  const out: Record<string, number | string> = { backend: tf.getBackend() };
  const signal = benchSignal(seconds);
  const { cpc, mimi } = fullManifests();

  const common = { runs, calls, warmup, seconds, signal, log, out };
  if (encoders.includes('cpc')) {
    await benchEncoder({ ...common, name: 'cpc', manifest: cpc, callMs: 100, load: async (f) => EncoderCPC.load(await openWeights(f)) });
  }
  if (encoders.includes('mimi')) {
    await benchEncoder({
      ...common,
      name: 'mimi',
      manifest: mimi,
      callMs: 80,
      load: async (f) => EncoderMimi.load(await openWeights(f), { frameHz: 12.5, config: { ...MIMI_CONFIG } }),
    });
  }
  if (encoders.includes('vap')) {
    const { runVapBench } = await import('./vapBench');
    await runVapBench({ calls, runs, seconds, signal, log, out });
  }
  out.peak_rss_mb = process.resourceUsage().maxRSS / 1024;
  log(`peak RSS ${(out.peak_rss_mb as number).toFixed(0)} MB`);
  return out;
}

/**
 * ms per streaming call through `s` (then disposed) after `warmup` calls. Each call gets `rows` windows of W
 * samples (row r starts 37 calls after row 0), handed over as the host array for one row or as a [rows, W] tensor
 * made inside the timed call (the upload is part of a call).
 */
export function timeStream(s: EncoderStream, rows: number, W: number, window: (k: number) => Float32Array, warmup: number, runs: number, calls: number, warmupMs: number[] = []) {
  const input = (k: number) => {
    if (rows === 1) return window(k);
    const w = new Float32Array(rows * W);
    for (let r = 0; r < rows; r++) w.set(window(k + 37 * r), r * W);
    return w;
  };
  const call = (w: Float32Array) => {
    const x = rows === 1 ? w : tf.tensor2d(w, [rows, W]);
    const y = s.step(x);
    y.dataSync();
    tf.dispose(x === w ? [y] : [x as tf.Tensor, y]);
  };
  try {
    for (let i = 0; i < warmup; i++) {
      const w = input(i);
      warmupMs.push(time(() => call(w)));
    }
    return repeatedRuns(runs, calls, (k) => {
      const w = input(k + warmup);
      return time(() => call(w));
    });
  } finally {
    s.dispose();
  }
}

/**
 * One encoder's figures under `${name}_...` keys: load time (median of `runs` loads from a safetensors file),
 * streaming ms per call through MaAI's windows (context 320 + callMs of new audio), offline RTF on the signal.
 */
async function benchEncoder(o: {
  name: 'cpc' | 'mimi';
  manifest: Manifest;
  callMs: number;
  load: (file: string) => Promise<AudioEncoder>;
  runs: number;
  calls: number;
  warmup: number;
  seconds: number;
  signal: Float32Array;
  log: (line: string) => void;
  out: Record<string, number | string>;
}): Promise<void> {
  const { name, runs, calls, warmup, seconds, signal, log, out } = o;
  const tag = name.padEnd(5);
  const file = writeTemp(o.manifest, name);
  try {
    let enc!: AudioEncoder;
    const loadMs: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const e = await o.load(file);
      loadMs.push(performance.now() - t0);
      if (r < runs - 1) e.dispose();
      else enc = e;
    }
    out[`${name}_load_s`] = stats(loadMs).median / 1000;
    log(`${tag} load full weights (safetensors -> tfjs)  median ${((out[`${name}_load_s`] as number)).toFixed(3)} s`);
    // MaAI's call geometry for one call every callMs (window = 320 context + new samples), cycling over the signal.
    const { window: W, shift } = enc.callWindow({ callHz: 1000 / o.callMs });
    const window = (k: number) => {
      const off = (k * shift) % (signal.length - W);
      return signal.subarray(off, off + W);
    };
    // Timed in the steady state of a long stream: Mimi's first calls fill its KV buffer (250 frames at 25 Hz: 10 s),
    // and until it is full they do more work as it grows (and on tensorflow they are not traced: see tfFunction.ts);
    // the mean of those first calls is reported apart.
    const steady = name === 'mimi' ? Math.max(warmup, Math.ceil(10000 / o.callMs) + 5) : warmup;
    const fillMs: number[] = [];
    const st = timeStream(enc.stream(), 1, W, window, steady, runs, calls, fillMs);
    if (name === 'mimi') {
      const m = fillMs.reduce((a, b) => a + b, 0) / fillMs.length;
      out.mimi_stream_first10s_ms_mean = m;
      log(`${tag} stream  first ${fillMs.length} calls (KV buffer filling)  mean ${m.toFixed(2)} ms`);
    }
    log(
      `${tag} stream  ms/${o.callMs}ms-call  median ${st.median.toFixed(2)}  p95 ${st.p95.toFixed(2)}  min ${st.min.toFixed(2)}  max ${st.max.toFixed(2)}` +
        `  (${st.runs} runs x ${calls} calls: median of run medians; p95/min/max over all calls)`,
    );
    Object.assign(out, { [`${name}_stream_ms_median`]: st.median, [`${name}_stream_ms_p95`]: st.p95, [`${name}_stream_ms_min`]: st.min, [`${name}_stream_ms_max`]: st.max });
    // Both speakers of a dialogue as one batch of 2 rows (one call encodes both channels).
    const st2 = timeStream(enc.stream({ batch: 2 }), 2, W, window, steady, runs, calls);
    log(`${tag} stream, 2 speakers as one batch of 2 rows  ms/call  median ${st2.median.toFixed(2)}  p95 ${st2.p95.toFixed(2)}  (${(st2.median / 2).toFixed(2)} per speaker)`);
    Object.assign(out, { [`${name}_stream2_ms_median`]: st2.median, [`${name}_stream2_ms_p95`]: st2.p95 });
    enc.forward(signal.subarray(0, 16000)).dispose();
    const so = stats(Array.from({ length: runs }, () => time(() => enc.forward(signal).dispose()) / 1000 / seconds));
    log(`${tag} offline RTF on ${seconds}s  median ${so.median.toFixed(4)}  min ${so.min.toFixed(4)}  max ${so.max.toFixed(4)}  (n=${so.n})`);
    Object.assign(out, { [`${name}_offline_rtf`]: so.median, [`${name}_offline_rtf_min`]: so.min, [`${name}_offline_rtf_max`]: so.max });
    enc.dispose();
  } finally {
    fs.rmSync(file, { force: true });
  }
}
