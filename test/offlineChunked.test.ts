/**
 * The chunked offline pass behind EncoderMimi.forward and EncoderCPC.forward equals the one-shot pass (rel <= 1e-5,
 * exact shapes) on signals several chunks long, for chunk sizes that do and do not divide the signal, in batches,
 * at both Mimi frame rates and for both CPC recurrent kinds; progress is reported up to the total.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { EncoderCPC } from '../src/models/cpc/encoderCpc';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { MIMI_TINY_OVERRIDES } from '../src/models/mimi/mimiConfig';
import { compareArrays } from '../src/parity/compare';
import { openWeights } from '../src/weights/store';
import { goldenPath } from './helpers/golden';

const sig = (n: number, k = 0) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((i + k * 977) / (7 + k)) + 0.2 * Math.sin(i / 1500 + k) * Math.cos(i / 3.3));

function run(f: () => tf.Tensor3D): { data: Float32Array; shape: number[] } {
  const y = f();
  const r = { data: (y.dataSync() as Float32Array).slice(), shape: y.shape };
  y.dispose();
  return r;
}

function expectEqual(a: { data: Float32Array; shape: number[] }, b: { data: Float32Array; shape: number[] }): void {
  expect(a.shape).toEqual(b.shape);
  const c = compareArrays(a.data, a.shape, b.data, b.shape);
  expect(c.rel).toBeLessThanOrEqual(1e-5);
}

beforeAll(async () => {
  await setBackend('wasm');
});

/**
 * `x` in chunks of `chunk` samples equals one piece, leaves no tensor behind, and reports progress once per value,
 * in order, ending at 1.
 */
function expectChunkedEqualsWhole(enc: EncoderMimi | EncoderCPC, x: Float32Array, chunk: number): void {
  const n = x.length;
  const tensors = tf.memory().numTensors;
  const whole = run(() => enc.forward(x, { chunkSamples: n + 1 }));
  const seen: number[] = [];
  const parts = run(() => enc.forward(x, { chunkSamples: chunk, onProgress: (d, t) => seen.push(d / t) }));
  expectEqual(parts, whole);
  expect(tf.memory().numTensors).toBe(tensors);
  expect(seen.length).toBeGreaterThan(Math.floor(n / chunk));
  expect(seen[seen.length - 1]).toBe(1);
  expect(seen.every((v, i) => i === 0 || v > seen[i - 1])).toBe(true); // each value once, in order
}

describe('EncoderMimi.forward in chunks', () => {
  const encoders: Record<string, EncoderMimi> = {};
  beforeAll(async () => {
    const store = await openWeights(goldenPath('weights', 'mimi_tiny_weights.safetensors'));
    for (const hz of [10, 12.5]) encoders[hz] = EncoderMimi.load(store, { frameHz: hz, config: MIMI_TINY_OVERRIDES });
  });
  afterAll(() => Object.values(encoders).forEach((e) => e.dispose()));

  // 16 kHz lengths: exact multiples of the chunk and of the 80 ms frame, and remainders of 1 sample and more.
  it.each([
    [10, 3 * 16000 + 7, 1280],
    [10, 2 * 16000, 3 * 1280],
    [12.5, 3 * 16000 + 1, 2 * 1280],
    [12.5, 40 * 1280, 4 * 1280],
    [10, 25 * 16000 + 333, 16000], // 25 s: the tiny window (16 frames) wraps many times
  ])('at %s Hz, %i samples in chunks of %i equal one piece', (hz, n, chunk) => {
    expectChunkedEqualsWhole(encoders[hz], sig(n), chunk);
  });

  it('a batch of two rows in chunks equals each row in one piece', () => {
    const enc = encoders[10];
    const a = sig(5 * 16000 + 100, 1);
    const b = sig(5 * 16000 + 100, 2);
    const parts = run(() => enc.forward([a, b], { chunkSamples: 1280 * 3 }));
    const wa = run(() => enc.forward(a));
    const wb = run(() => enc.forward(b));
    const half = parts.data.length / 2;
    expectEqual({ data: parts.data.slice(0, half), shape: [1, ...parts.shape.slice(1)] }, wa);
    expectEqual({ data: parts.data.slice(half), shape: [1, ...parts.shape.slice(1)] }, wb);
  });

  it('refuses a chunk shorter than one frame', () => {
    expect(() => encoders[10].forward(sig(16000), { chunkSamples: 100 })).toThrow(/EncoderMimi\.forward: chunkSamples must be a number of 16 kHz samples >= 1280, got 100/);
  });
});

describe('EncoderCPC.forward in chunks', () => {
  const encoders: Record<string, EncoderCPC> = {};
  beforeAll(async () => {
    for (const kind of ['lstm', 'gru']) encoders[kind] = EncoderCPC.load(await openWeights(goldenPath('weights', `cpc_${kind}_manifest.json`)));
  });
  afterAll(() => Object.values(encoders).forEach((e) => e.dispose()));

  it.each([
    ['lstm', 3 * 16000 + 7, 320],
    ['lstm', 4 * 16000, 1600],
    ['gru', 2 * 16000 + 161, 640],
    ['gru', 12 * 16000 + 5, 16000],
  ])('%s: %i samples in chunks of %i equal one piece', (kind, n, chunk) => {
    expectChunkedEqualsWhole(encoders[kind], sig(n, 3), chunk);
  });

  it('a [2, T] tensor in chunks equals one piece', () => {
    const enc = encoders.lstm;
    const n = 3 * 16000 + 99;
    const x = tf.tensor2d([...sig(n, 1), ...sig(n, 2)], [2, n]);
    const whole = run(() => enc.forward(x));
    const parts = run(() => enc.forward(x, { chunkSamples: 960 }));
    expectEqual(parts, whole);
    x.dispose();
  });

  it('refuses a chunk shorter than one output frame', () => {
    expect(() => encoders.lstm.forward(sig(16000), { chunkSamples: 319 })).toThrow(/EncoderCPC\.forward: chunkSamples must be a number of 16 kHz samples >= 320, got 319/);
  });
});
