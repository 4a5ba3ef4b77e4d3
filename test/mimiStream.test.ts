/** Streaming semantics of EncoderMimi on the tiny config: state transfer, memory, rollback, reset, interleaving. */
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { MIMI_TINY_OVERRIDES } from '../src/models/mimi/mimiConfig';
import { MimiStream } from '../src/models/mimi/mimiStream';
import { openWeights, WeightStore } from '../src/weights/store';
import { goldenPath, goldenSignal } from './helpers/golden';

let store: WeightStore;
beforeAll(async () => {
  await setBackend('wasm');
  store = await openWeights(goldenPath('weights', 'mimi_tiny_weights.safetensors'));
});

const load = (frameHz: number) => EncoderMimi.load(store, { frameHz, config: MIMI_TINY_OVERRIDES });

/** Deterministic noise-like test signal. */
function signal(n: number, seed = 1): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = 0.3 * Math.sin(i * 0.013 * (1 + (seed % 5))) + 0.1 * (s / 2 ** 32 - 0.5);
  }
  return x;
}

/** The call windows of MaAI's loop over `x`: context + emit samples, shifted by emit. */
function windows(enc: EncoderMimi, x: Float32Array): Float32Array[] {
  const ctx = enc.contextSamples;
  const emit = enc.getStreamingEmitSamples16k();
  const padded = new Float32Array(ctx + x.length);
  padded.set(x, ctx);
  const out: Float32Array[] = [];
  for (let s = 0; s + ctx + emit <= padded.length; s += emit) out.push(padded.slice(s, s + ctx + emit));
  return out;
}

function run(stream: MimiStream, ws: Float32Array[]): { frames: Float32Array[]; emitted: number[] } {
  const frames: Float32Array[] = [];
  const emitted: number[] = [];
  for (const w of ws) {
    const y = stream.step(w);
    emitted.push(y.shape[1]);
    frames.push((y.dataSync() as Float32Array).slice());
    y.dispose();
  }
  return { frames, emitted };
}

describe.each([10, 12.5])('MimiStream at %s Hz', (hz) => {
  it('continues identically after its state is exported and imported into a fresh encoder', () => {
    const encA = load(hz);
    const ws = windows(encA, signal(16000 * 14));
    const N = 150; // past the tiny sliding window (16 frames) and the first KV wrap
    const a = encA.stream();
    run(a, ws.slice(0, N));
    const state = a.exportState();
    const refTail = run(a, ws.slice(N));
    const encB = load(hz);
    const b = encB.stream();
    // structuredClone: the state is plain data that survives a copy (e.g. postMessage to a worker).
    b.importState(structuredClone(state));
    const tail = run(b, ws.slice(N));
    expect(tail.emitted).toEqual(refTail.emitted);
    for (let i = 0; i < tail.frames.length; i++) expect(tail.frames[i]).toEqual(refTail.frames[i]);
    expect(b.position).toBe(a.position);
    [a, b].forEach((s) => s.dispose());
    encA.dispose();
    encB.dispose();
  });

  it('keeps tf.memory() flat over 1000 steps and the KV cache at its capacity', () => {
    const enc = load(hz);
    const ws = windows(enc, signal(enc.getStreamingEmitSamples16k() * 1010, 7));
    const s = enc.stream();
    run(s, ws.slice(0, 10));
    const before = tf.memory();
    const flat = s.exportCoreState();
    const capacity = flat.find(([n]) => n === 'past_0')![1].shape[2];
    for (let i = 10; i < ws.length; i++) {
      const y = s.step(ws[i]);
      expect(Number.isFinite((y.dataSync() as Float32Array)[0] ?? 0)).toBe(true);
      y.dispose();
      if (i % 250 === 0) {
        expect(tf.memory().numTensors).toBe(before.numTensors);
        expect(tf.memory().numBytes).toBe(before.numBytes);
      }
    }
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    for (const [name, t] of s.exportCoreState()) if (name.startsWith('past_')) expect(t.shape[2]).toBe(capacity);
    expect(capacity).toBe(16); // tiny sliding_window; the full model's is 250
    expect(s.position).toBe(2 * ws.length);
    s.dispose();
    enc.dispose();
  });

  it('leaves the state unchanged when a step fails', () => {
    const enc = load(hz);
    const ws = windows(enc, signal(16000 * 3, 3));
    const s = enc.stream();
    run(s, ws.slice(0, 5));
    const before = serialize(s.exportState());
    const bad = ws[5].slice();
    bad[100] = NaN;
    expect(() => s.step(bad)).toThrow(/sample 100 is NaN/);
    expect(() => s.step([ws[5], ws[5]])).toThrow(/batch 2/);
    expect(() => s.step(new Float32Array(0))).toThrow(/empty/);
    expect(() => s.step(new Int16Array(10) as unknown as Float32Array)).toThrow(TypeError);
    const after = serialize(s.exportState());
    expect(after).toBe(before);
    s.dispose();
    enc.dispose();
  });

  it('reset() gives the outputs of a fresh stream', () => {
    const enc = load(hz);
    const ws = windows(enc, signal(16000 * 3, 5));
    const s = enc.stream();
    const first = run(s, ws);
    s.reset();
    const second = run(s, ws);
    expect(second.emitted).toEqual(first.emitted);
    second.frames.forEach((f, i) => expect(f).toEqual(first.frames[i]));
    s.dispose();
    enc.dispose();
  });

  it('refuses a state from another encoder', () => {
    const enc = load(hz);
    const s = enc.stream();
    expect(() => s.importState({ encoder: 'cpc' } as never)).toThrow(/not a Mimi stream state/);
    const other = load(hz === 10 ? 12.5 : 10).stream();
    expect(() => s.importState(other.exportState())).toThrow(/Hz/);
    s.dispose();
    other.dispose();
    enc.dispose();
  });
});

describe('MimiStream finalize', () => {
  it('flushes the resampler to round(1.5 * samples) within the last step', () => {
    const enc = load(12.5);
    const ws = windows(enc, signal(1280 * 6, 9));
    const s = enc.stream();
    const emitted = ws.map((w, i) => {
      const y = s.step(w, { finalize: i === ws.length - 1 });
      const n = y.shape[1];
      y.dispose();
      return n;
    });
    const st = s.exportState();
    expect(st.audioResampler.inTotal).toBe(1280 * 6);
    expect(st.audioResampler.outTotal).toBe(1920 * 6); // 1919 on the first call, the flush owes one more
    expect(emitted).toEqual([1, 1, 1, 1, 1, 1]);
    const tail = s.finalize();
    expect(tail.shape).toEqual([1, 0, 64]);
    tail.dispose();
    s.dispose();
    enc.dispose();
  });

  it('refuses a call too short for one Mimi frame, leaving the state as it was', () => {
    const enc = load(12.5);
    const s = enc.stream();
    const before = serialize(s.exportState());
    expect(() => s.step(new Float32Array(1320).fill(0.1), { finalize: true })).toThrow(/fewer than one Mimi frame \(1920\)/);
    expect(serialize(s.exportState())).toBe(before);
    s.dispose();
    enc.dispose();
  });
});

describe('interleaved streams', () => {
  it.each([2, 8])('%i streams interleaved give the same outputs as each alone', (n) => {
    const enc = load(10);
    const sigs = Array.from({ length: n }, (_, i) => windows(enc, signal(16000 * 2, 11 + i)));
    const alone = sigs.map((ws) => {
      const s = enc.stream();
      const r = run(s, ws);
      s.dispose();
      return r;
    });
    const streams = sigs.map(() => enc.stream());
    const got = sigs.map(() => [] as Float32Array[]);
    for (let k = 0; k < sigs[0].length; k++) {
      for (let i = 0; i < n; i++) {
        const y = streams[i].step(sigs[i][k]);
        got[i].push((y.dataSync() as Float32Array).slice());
        y.dispose();
      }
    }
    for (let i = 0; i < n; i++) got[i].forEach((f, k) => expect(f).toEqual(alone[i].frames[k]));
    streams.forEach((s) => s.dispose());
    enc.dispose();
  });
});

function serialize(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : ArrayBuffer.isView(v) ? Array.from(v as Float32Array, String) : v));
}
