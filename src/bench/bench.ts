/**
 * Benchmarks on full-size deterministic weights (detweights v1 layouts of kyutai/mimi and the CPC checkpoint):
 * streaming ms per call, offline real-time factor, weight load time and peak RSS. Prints figures; asserts nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { EncoderCPC } from '../models/encoderCpc';
import { EncoderMimi } from '../models/encoderMimi';
import { MIMI_CONFIG } from '../models/mimiConfig';
import { Manifest, buildFromManifest } from '../weights/detweights';
import { writeSafetensors } from '../weights/safetensors';
import { openWeights } from '../weights/store';
import { fullManifests } from './manifests';
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
  encoders?: Array<'cpc' | 'mimi'>;
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

  if (encoders.includes('cpc')) {
    const file = writeTemp(cpc, 'cpc');
    try {
      let enc!: EncoderCPC;
      const loadMs = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        const e = EncoderCPC.load(await openWeights(file));
        loadMs.push(performance.now() - t0);
        if (r < runs - 1) e.dispose();
        else enc = e;
      }
      out.cpc_load_s = stats(loadMs).median / 1000;
      const s = enc.stream();
      const win = signal.subarray(0, 1920);
      for (let i = 0; i < warmup; i++) s.step(win).dispose();
      const st = repeatedRuns(runs, calls, (k) => {
        const w = signal.subarray((k * 1600) % (signal.length - 1920), ((k * 1600) % (signal.length - 1920)) + 1920);
        return time(() => {
          const y = s.step(w);
          y.dataSync();
          y.dispose();
        });
      });
      s.dispose();
      log(`cpc   stream  ms/100ms-call  median ${st.median.toFixed(2)}  p95 ${st.p95.toFixed(2)}  min ${st.min.toFixed(2)}  max ${st.max.toFixed(2)}  (${st.runs} runs x ${calls} calls: median of run medians; p95/min/max over all calls)`);
      Object.assign(out, { cpc_stream_ms_median: st.median, cpc_stream_ms_p95: st.p95, cpc_stream_ms_min: st.min, cpc_stream_ms_max: st.max });
      enc.forward(signal.subarray(0, 16000)).dispose();
      const off = Array.from({ length: runs }, () => time(() => enc.forward(signal).dispose()) / 1000 / seconds);
      const so = stats(off);
      log(`cpc   offline RTF on ${seconds}s  median ${so.median.toFixed(4)}  min ${so.min.toFixed(4)}  max ${so.max.toFixed(4)}  (n=${so.n})`);
      Object.assign(out, { cpc_offline_rtf: so.median, cpc_offline_rtf_min: so.min, cpc_offline_rtf_max: so.max });
      enc.dispose();
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  if (encoders.includes('mimi')) {
    const file = writeTemp(mimi, 'mimi');
    try {
      let enc!: EncoderMimi;
      const loadMs = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        const e = EncoderMimi.load(await openWeights(file), { frameHz: 12.5, config: { ...MIMI_CONFIG } });
        loadMs.push(performance.now() - t0);
        if (r < runs - 1) e.dispose();
        else enc = e;
      }
      const sl = stats(loadMs);
      out.mimi_load_s = sl.median / 1000;
      log(`mimi  load full weights (safetensors -> tfjs)  median ${(sl.median / 1000).toFixed(3)} s`);
      const s = enc.stream();
      const W = enc.getStreamingCallWindow16k();
      const shift = enc.getStreamingEmitSamples16k();
      const window = (k: number) => {
        const o = (k * shift) % (signal.length - W);
        return signal.subarray(o, o + W);
      };
      for (let i = 0; i < warmup; i++) s.step(window(i)).dispose();
      const st = repeatedRuns(runs, calls, (k) =>
        time(() => {
          const y = s.step(window(k + warmup));
          y.dataSync();
          y.dispose();
        }),
      );
      s.dispose();
      log(`mimi  stream  ms/80ms-call  median ${st.median.toFixed(2)}  p95 ${st.p95.toFixed(2)}  min ${st.min.toFixed(2)}  max ${st.max.toFixed(2)}  (${st.runs} runs x ${calls} calls: median of run medians; p95/min/max over all calls)`);
      Object.assign(out, { mimi_stream_ms_median: st.median, mimi_stream_ms_p95: st.p95, mimi_stream_ms_min: st.min, mimi_stream_ms_max: st.max });
      enc.forward(signal.subarray(0, 16000)).dispose();
      const off = Array.from({ length: runs }, () => time(() => enc.forward(signal).dispose()) / 1000 / seconds);
      const so = stats(off);
      log(`mimi  offline RTF on ${seconds}s  median ${so.median.toFixed(4)}  min ${so.min.toFixed(4)}  max ${so.max.toFixed(4)}  (n=${so.n})`);
      Object.assign(out, { mimi_offline_rtf: so.median, mimi_offline_rtf_min: so.min, mimi_offline_rtf_max: so.max });
      enc.dispose();
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
  out.peak_rss_mb = process.resourceUsage().maxRSS / 1024;
  log(`peak RSS ${(out.peak_rss_mb as number).toFixed(0)} MB`);
  return out;
}
