/** The two-channel realtime pipeline (MaAI's Maai class): chunking, state transfer, reset, memory, errors. */
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { buildVap, BuiltVap } from '../src/pipeline/buildVap';
import { Maai, VapResult } from '../src/pipeline/maai';
import { MIMI_TINY_OVERRIDES } from '../src/models/mimi/mimiConfig';
import { loadSignal } from '../src/parity/goldenCase';
import { goldenVapPath } from './helpers/goldenVap';
import { goldenPath } from './helpers/golden';

let cpc: BuiltVap;
let mimi: BuiltVap;
let w1: Float32Array;
let w2: Float32Array;
beforeAll(async () => {
  await setBackend('wasm');
  cpc = await buildVap({ weights: goldenVapPath('weights', 'vap_cpc_manifest.json'), encoderWeights: goldenPath('weights', 'cpc_lstm_manifest.json'), contextLenSec: 1 });
  mimi = await buildVap({ weights: goldenVapPath('weights', 'vap_mimi_tiny_manifest.json'), encoderWeights: goldenPath('weights', 'mimi_tiny_weights.safetensors'), mimiConfig: MIMI_TINY_OVERRIDES, contextLenSec: 0.8 });
  const s = loadSignal(goldenVapPath('signals', 'duo_short.safetensors')).samples;
  w1 = s.subarray(0, s.length / 2).slice(0, 24000);
  w2 = s.subarray(s.length / 2).slice(0, 24000);
});
afterAll(() => {
  for (const b of [cpc, mimi]) {
    b.model.dispose();
    b.encoder.dispose();
  }
});

/** Feeds both channels in pieces of the given sizes (cycled). */
function feed(m: Maai, a: Float32Array, b: Float32Array, sizes: number[], from = 0, to = a.length): VapResult[] {
  const out: VapResult[] = [];
  for (let p = from, k = 0; p < to; k++) {
    const e = Math.min(to, p + sizes[k % sizes.length]);
    out.push(...m.process(a.subarray(p, e), b.subarray(p, e)));
    p = e;
  }
  return out;
}

/** A deep copy of plain data (typed arrays copied), as a state crossing a process boundary. */
function copy<T>(x: T): T {
  if (ArrayBuffer.isView(x)) return (x as unknown as Float32Array).slice() as unknown as T;
  if (Array.isArray(x)) return x.map(copy) as unknown as T;
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, copy(v)])) as T;
  return x;
}

const strip = (r: VapResult[]) => r.map(({ step, endSample, pNow, pFuture, vad }) => ({ step, endSample, pNow, pFuture, vad }));

describe.each([
  ['cpc', () => cpc, 1],
  ['mimi', () => mimi, 2],
] as const)('%s pipeline', (_name, get, n) => {
  test('any chunking gives the same results as 160-sample chunks; step timing as Maai', () => {
    const ref = feed(new Maai(get().model, get().encoder, { inferenceChunkFrames: n }), w1, w2, [160]);
    const spf = Math.round(16000 / get().model.config.frameHz) * n;
    expect(ref.map((r) => r.endSample)).toEqual(Array.from({ length: Math.floor(w1.length / spf) }, (_, i) => (i + 1) * spf));
    for (const r of ref) for (const p of [...r.pNow, ...r.pFuture, ...r.vad]) expect(p >= 0 && p <= 1).toBe(true);
    const m = new Maai(get().model, get().encoder, { inferenceChunkFrames: n });
    expect(strip(feed(m, w1, w2, [1, 333, 7000, 64]))).toEqual(strip(ref));
    m.dispose();
  });

  test('exported state (plain data) continues identically in a new pipeline; reset starts over', () => {
    const a = new Maai(get().model, get().encoder, { inferenceChunkFrames: n });
    const whole = feed(a, w1, w2, [160]);
    a.reset();
    const first = feed(a, w1, w2, [160], 0, 11200 + 80);
    const state = a.exportState();
    expect(state.vapCache!.length).toBe(28);
    const b = new Maai(get().model, get().encoder, { inferenceChunkFrames: n });
    b.importState(copy(state));
    const rest = feed(b, w1, w2, [160], 11280);
    expect(strip([...first, ...rest])).toEqual(strip(whole));
    // A bad import names the problem and changes nothing.
    const bad = copy(state);
    bad.vapCache![3][1].shape = [1, 4, 3, 64];
    expect(() => b.importState(bad)).toThrow(/VAP cache import: "ar2.0.v" has shape \[1,4,3,64\]/);
    expect(() => b.importState({ ...state, inferenceChunkFrames: 3 })).toThrow(/inferenceChunkFrames 3/);
    b.importState(state);
    expect(strip(feed(b, w1, w2, [160], 11280))).toEqual(strip(rest));
    a.dispose();
    b.dispose();
  });
});

test('tensor count stays flat over many steps; bad input is rejected without a step', () => {
  const m = new Maai(cpc.model, cpc.encoder);
  const z = new Float32Array(1600);
  feed(m, z, z, [1600], 0, 1600 * 15); // past the context limit (10 frames): the cache is full
  const before = tf.memory().numTensors;
  for (let i = 0; i < 40; i++) m.process(z.map((_, j) => Math.sin(i + j / 50) * 0.1), z);
  expect(tf.memory().numTensors).toBe(before);
  expect(m.cacheLength).toBe(9);
  const steps = m.steps;
  expect(() => m.process(new Float32Array(10), new Float32Array(11))).toThrow(/10 and 11 samples/);
  expect(() => m.process(Float32Array.of(NaN), Float32Array.of(0))).toThrow(/x1/);
  expect(m.steps).toBe(steps);
  expect(() => new Maai(cpc.model, cpc.encoder, { inferenceChunkFrames: 2 })).toThrow(/needs the Mimi encoder/);
  m.dispose();
});

test("dropFirstEncoderOutput (Maai's ONNX-Mimi path) skips the first encoder output", () => {
  const m = new Maai(mimi.model, mimi.encoder, { dropFirstEncoderOutput: true });
  const r = feed(m, w1.subarray(0, 6400), w2.subarray(0, 6400), [160]);
  expect(r.map((x) => [x.step, x.endSample])).toEqual([[0, 2560], [1, 3840], [2, 5120], [3, 6400]]);
  m.dispose();
});

test('a VAP step with bad inputs throws and leaves the cache usable', () => {
  const x = tf.zeros([1, 1, 256]) as tf.Tensor3D;
  const first = cpc.model.step(x, x, null);
  const before = tf.memory().numTensors;
  const bad = tf.zeros([1, 1, 128]) as tf.Tensor3D;
  expect(() => cpc.model.step(bad, bad, first.cache)).toThrow(/x1 must be \[B, T, 256\], got \[1,1,128\]/);
  expect(() => cpc.model.step(x, tf.zeros([1, 2, 256]) as tf.Tensor3D, first.cache)).toThrow(/x1 \[1,1,256\] and x2 \[1,2,256\] differ/);
  expect(tf.memory().numTensors).toBe(before + 2);
  const next = cpc.model.step(x, x, first.cache);
  expect(next.cache.ar[0].k.shape).toEqual([2, 4, 2, 64]);
  tf.dispose([x, bad]);
});
