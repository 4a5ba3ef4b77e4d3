/**
 * VAP benchmark: MaAI's whole two-channel realtime pipeline (both encoders' streams + the VAP step + publishing)
 * on full-size deterministic weights, timed per 100 ms of audio arriving on both channels (CPC at 10 Hz: one step
 * per call; Mimi at 12.5 Hz: 5 steps per 4 calls), after warm-up calls that fill the VAP cache to its context.
 * Offline RTF: both channels encoded and one forward over all frames. Prints figures; asserts nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MIMI_CONFIG } from '../models/mimi/mimiConfig';
import { buildFromManifest } from '../weights/detweights';
import { WeightStore } from '../weights/store';
import { buildVap } from '../pipeline/buildVap';
import { Maai } from '../pipeline/maai';
import { runVapOffline } from '../pipeline/vapOffline';
import { disposeOutput } from '../models/vap/vapModel';
import { fullManifests, vapManifests } from './manifests';
import { stats } from './stats';

export interface VapBenchOptions {
  calls: number;
  runs: number;
  seconds: number;
  /** 16 kHz test signal, at least `seconds` long (channel 2 gets it shifted by 1.7 s). */
  signal: Float32Array;
  /** Maai's context_len_sec (20 by default, as Maai's default call). */
  contextSec?: number;
  log: (line: string) => void;
  out: Record<string, number | string>;
}

const time = (f: () => void): number => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};

export async function runVapBench(o: VapBenchOptions): Promise<void> {
  const enc = fullManifests();
  const vap = vapManifests();
  const contextSec = o.contextSec ?? 20;
  const a = o.signal;
  // Channel 2: the same signal shifted by 1.7 s (a different speaker's audio for the model).
  const b = new Float32Array(a.length);
  b.set(a.subarray(27200));
  b.set(a.subarray(0, 27200), a.length - 27200);
  for (const name of ['cpc', 'mimi'] as const) {
    const built = await buildVap({
      weights: WeightStore.fromTensors(buildFromManifest(vap[name]), `vap_${name}`),
      encoderWeights: WeightStore.fromTensors(buildFromManifest(enc[name]), name),
      contextLenSec: contextSec,
      mimiConfig: name === 'mimi' ? { ...MIMI_CONFIG } : undefined,
    });
    const tag = `vap+${name}`.padEnd(9);
    try {
      const hz = built.model.config.frameHz;
      const m = new Maai(built.model, built.encoder);
      const chunk = 1600;
      let pos = 0;
      const call = () => {
        if (pos + chunk > a.length) pos = 0;
        m.process(a.subarray(pos, pos + chunk), b.subarray(pos, pos + chunk));
        pos += chunk;
      };
      // Warm-up until the VAP cache holds its full context (the steady state of a long conversation).
      const warm = Math.ceil((built.model.config.contextLimit * 16000) / hz / chunk) + 5;
      for (let i = 0; i < warm; i++) call();
      const medians: number[] = [];
      const all: number[] = [];
      for (let r = 0; r < o.runs; r++) {
        const per = Array.from({ length: o.calls }, () => time(call));
        medians.push(stats(per).median);
        all.push(...per);
      }
      const s = stats(all);
      const med = stats(medians).median;
      o.log(
        `${tag} stream (2 channels, encoder + VAP, context ${contextSec}s = ${built.model.config.contextLimit} frames, cache ${m.cacheLength})  ms/100ms-of-audio  ` +
          `median ${med.toFixed(2)}  p95 ${s.p95.toFixed(2)}  min ${s.min.toFixed(2)}  max ${s.max.toFixed(2)}`,
      );
      Object.assign(o.out, { [`vap_${name}_stream_ms_median`]: med, [`vap_${name}_stream_ms_p95`]: s.p95 });
      m.dispose();
      const n = Math.round(o.seconds * 16000);
      const off = () => {
        const r = runVapOffline(built.model, built.encoder, a.subarray(0, n), b.subarray(0, n));
        r.out.pNow.dataSync();
        disposeOutput(r.out);
        tf.dispose([r.enc, r.x1, r.x2]);
      };
      off();
      const rtf = stats(Array.from({ length: Math.max(1, Math.min(o.runs, 3)) }, () => time(off) / 1000 / o.seconds));
      o.log(`${tag} offline RTF on ${o.seconds}s x 2 channels  median ${rtf.median.toFixed(4)}  (n=${rtf.n})`);
      o.out[`vap_${name}_offline_rtf`] = rtf.median;
    } finally {
      built.model.dispose();
      built.encoder.dispose();
    }
  }
}
