/**
 * Input checks at the public entry points: every bad input is a clear error naming the problem, and a failed call
 * changes nothing (the stream's exported state is the same before and after, no tensor is leaked, and the stream
 * then continues exactly as one that never saw the bad call). Cases already covered elsewhere are not repeated:
 * encoderCpc.test.ts (CPC forward: short / NaN / empty / [2,3,T] / int32), mimiStream.test.ts (MimiStream.step:
 * NaN, batch 2, empty, Int16Array, sub-frame call at stream start; importState: {encoder: 'cpc'}, other frame_hz),
 * buildAudioEncoder.test.ts (buildAudioEncoder; EncoderSession.push: Float64Array, NaN, after flush),
 * wav.test.ts (readWavMono channel out of range).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { CausalResamplerState, CausalStreamingResampler } from '../src/audio/causalResampler';
import { resample } from '../src/audio/resample';
import { writeWav } from '../src/audio/wav';
import { AudioInputError, readAudio16k } from '../src/audio/readAudio';
import { CpcStream, CpcStreamState, EncoderCPC } from '../src/models/cpc/encoderCpc';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { EncoderSession } from '../src/pipeline/encoderSession';
import { MIMI_TINY_OVERRIDES } from '../src/models/mimi/mimiConfig';
import { MimiStream, MimiStreamState } from '../src/models/mimi/mimiStream';
import { RawTensor } from '../src/weights/types';
import { openWeights } from '../src/weights/store';
import { goldenPath } from './helpers/golden';

let cpc: EncoderCPC;
let mimi: EncoderMimi;

beforeAll(async () => {
  await setBackend('wasm');
  cpc = EncoderCPC.load(await openWeights(goldenPath('weights', 'cpc_lstm_manifest.json')));
  mimi = EncoderMimi.load(await openWeights(goldenPath('weights', 'mimi_tiny_weights.safetensors')), { frameHz: 12.5, config: MIMI_TINY_OVERRIDES });
});

afterAll(() => {
  cpc.dispose();
  mimi.dispose();
});

/** States hold typed arrays and a bigint (cache_position): a stable string form to compare. */
function serialize(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : ArrayBuffer.isView(v) ? [v.constructor.name, ...Array.from(v as Float32Array, String)] : v));
}

const sig = (n: number, k = 0) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((i + k * 977) / (7 + k)) + 0.05 * Math.cos(i / 3));

type ErrorCheck = RegExp | (new (...a: never[]) => Error);

/** Expects `f` to throw `err` (class and/or message) and to leave no tensor behind. */
function expectRejectedNoLeak(f: () => unknown, ...errs: ErrorCheck[]): void {
  const tensors = tf.memory().numTensors;
  for (const e of errs) expect(f).toThrow(e);
  expect(tf.memory().numTensors).toBe(tensors);
}

/** Expects `f` to throw `err` (class and/or message) and to change neither the stream's state nor tf.memory(). */
function expectRejectedUnchanged(stream: { exportState(): unknown; calls: number }, f: () => unknown, ...errs: ErrorCheck[]): void {
  const before = serialize(stream.exportState());
  const calls = stream.calls;
  expectRejectedNoLeak(f, ...errs);
  expect(stream.calls).toBe(calls);
  expect(serialize(stream.exportState())).toBe(before);
}

/** Two streams from `open`, both fed the same `steps` windows of W samples: one to reject bad calls, one reference. */
function warmedPair<S extends { step(w: Float32Array): tf.Tensor }>(open: () => S, steps: number, W: number): [S, S] {
  const pair: [S, S] = [open(), open()];
  for (let k = 0; k < steps; k++) for (const st of pair) st.step(sig(W, k)).dispose();
  return pair;
}

function stepData(s: { step(w: Float32Array): tf.Tensor }, w: Float32Array): Float32Array {
  const y = s.step(w);
  const d = (y.dataSync() as Float32Array).slice();
  y.dispose();
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
describe('EncoderCPC.forward', () => {
  it.each<[string, () => Float32Array | tf.Tensor, RegExp, new (...a: never[]) => Error]>([
    ['Float64Array', () => new Float64Array(1920) as never, /EncoderCPC\.forward: expected a Float32Array or a tf\.Tensor, got object/, TypeError],
    ['an array of rows', () => [new Float32Array(1920)] as never, /expected a Float32Array or a tf\.Tensor/, TypeError],
    ['null', () => null as never, /got null/, TypeError],
    ['a rank-4 tensor', () => tf.zeros([1, 1, 1, 1920]), /shape \[T\], \[B, T\] or \[B, 1, T\], got \[1,1,1,1920\]/, RangeError],
    ['a bool tensor', () => tf.zeros([1920], 'bool'), /expected a float32 tensor, got bool/, TypeError],
    ['an empty tensor', () => tf.zeros([2, 0]), /empty input/, RangeError],
    ['Infinity in a tensor', () => tf.fill([1, 1920], Infinity), /input contains non-finite samples/, RangeError],
    ['-Infinity in a Float32Array', () => Object.assign(sig(1920), { 5: -Infinity }), /sample 5 is -Infinity/, RangeError],
  ])('rejects %s', (_name, make, msg, cls) => {
    const x = make();
    expectRejectedNoLeak(() => cpc.forward(x), msg, cls);
    if (x instanceof tf.Tensor) x.dispose();
  });
});

describe('EncoderCPC.step (explicit state)', () => {
  it('rejects a state of another batch, hidden size or kind, leaving the state alive and unchanged', () => {
    const s2 = cpc.stream();
    const x2 = tf.tensor2d([...sig(1920), ...sig(1920, 1)], [2, 1920]);
    s2.step(x2).dispose();
    x2.dispose();
    const st2 = s2.exportState();
    const batch2 = cpc.gAR.baseNet.importState(st2.ar!);
    const h128 = { h: tf.zeros([1, 128]) as tf.Tensor2D, c: tf.zeros([1, 128]) as tf.Tensor2D };
    const noCell = { h: tf.zeros([1, 256]) as tf.Tensor2D };
    const w = sig(1920);
    const n = tf.memory().numTensors;
    expect(() => cpc.step(w, batch2)).toThrow(/EncoderCPC\.step: state has batch 2 but the window has batch 1/);
    expect(() => cpc.step(w, h128)).toThrow(/state is h \[1,128\] c \[1,128\]; this LSTM needs h and c of \[batch, 256\]/);
    expect(() => cpc.step(w, noCell)).toThrow(/state is h \[1,256\]; this LSTM needs h and c/);
    expect(tf.memory().numTensors).toBe(n);
    expect(batch2.h.isDisposed).toBe(false);
    expect(serialize(cpc.gAR.baseNet.exportState(batch2))).toBe(serialize(st2.ar));
    tf.dispose([batch2.h, batch2.c!, h128.h, h128.c, noCell.h]);
    s2.dispose();
  });
});

describe('CpcStream.step', () => {
  it('rejects bad windows without touching the state, then continues as if they never came', () => {
    const [s, ref] = warmedPair(() => cpc.stream(), 3, 1920);
    const int32 = tf.zeros([1920], 'int32');
    const rank4 = tf.zeros([1, 1, 1, 1920]);
    const batch2 = tf.zeros([2, 1920]);
    expectRejectedUnchanged(s, () => s.step(sig(cpc.minSamples - 1)), RangeError, /shorter than the receptive field: at least \d+ samples are needed/);
    expectRejectedUnchanged(s, () => s.step(new Float64Array(1920) as never), TypeError, /EncoderCPC\.step: expected a Float32Array or a tf\.Tensor/);
    expectRejectedUnchanged(s, () => s.step(int32), TypeError, /expected a float32 tensor, got int32/);
    expectRejectedUnchanged(s, () => s.step(rank4), RangeError, /got \[1,1,1,1920\]/);
    expectRejectedUnchanged(s, () => s.step(batch2), RangeError, /state has batch 1 but the window has batch 2/);
    expectRejectedUnchanged(s, () => s.step(Object.assign(sig(1920), { 1000: NaN })), RangeError, /sample 1000 is NaN/);
    expectRejectedUnchanged(s, () => s.step(new Float32Array(0)), RangeError, /empty input/);
    tf.dispose([int32, rank4, batch2]);
    expect(stepData(s, sig(1920, 3))).toEqual(stepData(ref, sig(1920, 3)));
    s.dispose();
    ref.dispose();
  });
});

describe('CpcStream.importState', () => {
  let s: CpcStream;
  let good: CpcStreamState;
  beforeAll(() => {
    s = cpc.stream();
    s.step(sig(1920, 4)).dispose();
    good = s.exportState();
  });
  afterAll(() => s.dispose());
  const ar = (o: Record<string, unknown>) => ({ encoder: 'cpc', ar: { ...good.ar!, ...o } }) as CpcStreamState;

  it('refuses a Mimi stream state and non-states', () => {
    const m = mimi.stream();
    m.step(sig(1600)).dispose();
    expectRejectedUnchanged(s, () => s.importState(m.exportState() as never), TypeError, /CpcStream\.importState: not a CPC stream state \(encoder: "mimi"\)/);
    expectRejectedUnchanged(s, () => s.importState(null as never), TypeError, /not a CPC stream state \(encoder: undefined\)/);
    expectRejectedUnchanged(s, () => s.importState(m.exportCoreState() as never), TypeError, /not a CPC stream state/);
    m.dispose();
  });

  it('refuses a state of another hidden size, recurrent kind or array size, or with non-finite values', () => {
    expectRejectedUnchanged(s, () => s.importState(ar({ hidden: 128, h: new Float32Array(128), c: new Float32Array(128) })), RangeError, /recurrent state is LSTM with hidden 128; this layer is LSTM with hidden 256/);
    expectRejectedUnchanged(s, () => s.importState(ar({ mode: 'GRU', c: undefined })), RangeError, /recurrent state is GRU with hidden 256; this layer is LSTM/);
    expectRejectedUnchanged(s, () => s.importState(ar({ h: new Float32Array(255) })), RangeError, /recurrent state arrays do not hold batch 1 x hidden 256 values/);
    expectRejectedUnchanged(s, () => s.importState(ar({ c: undefined })), RangeError, /do not hold batch 1 x hidden 256/);
    expectRejectedUnchanged(s, () => s.importState(ar({ batch: 2 })), RangeError, /do not hold batch 2 x hidden 256/);
    expectRejectedUnchanged(s, () => s.importState(ar({ h: Object.assign(good.ar!.h.slice(), { 3: NaN }) })), RangeError, /CpcStream\.importState: ar\.h\[3\] is NaN; a state must be finite/);
    expectRejectedUnchanged(s, () => s.importState(ar({ c: Object.assign(good.ar!.c!.slice(), { 0: Infinity }) })), RangeError, /ar\.c\[0\] is Infinity/);
  });

  it('a batch-2 state is accepted (a CPC stream takes its batch from the windows) and then refuses batch-1 windows', () => {
    const b = cpc.stream();
    b.importState({ encoder: 'cpc', ar: { ...good.ar!, batch: 2, h: new Float32Array(512), c: new Float32Array(512) } });
    expectRejectedUnchanged(b, () => b.step(sig(1920)), RangeError, /state has batch 2 but the window has batch 1/);
    b.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('EncoderMimi.forward', () => {
  it.each<[string, () => Float32Array | Float32Array[] | tf.Tensor, RegExp, new (...a: never[]) => Error]>([
    ['an empty Float32Array', () => new Float32Array(0), /EncoderMimi\.forward: empty input/, RangeError],
    ['an empty batch', () => [], /EncoderMimi\.forward: empty batch/, RangeError],
    ['an empty tensor', () => tf.zeros([1, 0]), /empty input/, RangeError],
    ['NaN in row 1', () => [sig(1600), Object.assign(sig(1600), { 7: NaN })], /EncoderMimi\.forward \(row 1\): sample 7 is NaN/, RangeError],
    ['Infinity in a tensor', () => tf.tensor1d(Object.assign(sig(1600), { 9: Infinity })), /sample 9 is Infinity/, RangeError],
    ['a Float64Array', () => new Float64Array(1600) as never, /expected a Float32Array, an array of them, or a tf\.Tensor/, TypeError],
    ['a Float64Array row', () => [new Float64Array(1600)] as never, /row 0 is not a Float32Array/, TypeError],
    ['an int32 tensor', () => tf.zeros([1600], 'int32'), /expected a float32 tensor, got int32/, TypeError],
    ['a rank-4 tensor', () => tf.zeros([1, 1, 1, 1600]), /shape \[T\], \[B, T\] or \[B, 1, T\], got \[1,1,1,1600\]/, RangeError],
    ['a [B, 2, T] tensor', () => tf.zeros([1, 2, 1600]), /got \[1,2,1600\]/, RangeError],
    ['rows of unequal length', () => [sig(1600), sig(1000)], /row 1 has 1000 samples, row 0 has 1600/, RangeError],
  ])('rejects %s', (_name, make, msg, cls) => {
    const x = make();
    expectRejectedNoLeak(() => mimi.forward(x), msg, cls);
    if (x instanceof tf.Tensor) x.dispose();
  });
});

describe('MimiStream.step', () => {
  it('rejects bad windows without touching the state, then continues as if they never came', () => {
    const [s, ref] = warmedPair(() => mimi.stream(), 20, 1600);
    const int32 = tf.zeros([1600], 'int32');
    const rank4 = tf.zeros([1, 1, 1, 1600]);
    const batch2 = tf.zeros([2, 1600]);
    const inf = tf.tensor2d(Object.assign(sig(1600), { 700: Infinity }), [1, 1600]);
    expectRejectedUnchanged(s, () => s.step(int32), TypeError, /MimiStream\.step: expected a float32 tensor, got int32/);
    expectRejectedUnchanged(s, () => s.step(rank4), RangeError, /got \[1,1,1,1600\]/);
    expectRejectedUnchanged(s, () => s.step(new Float64Array(1600) as never), TypeError, /expected a Float32Array, an array of them, or a tf\.Tensor/);
    expectRejectedUnchanged(s, () => s.step(batch2), RangeError, /window has batch 2, the stream was opened with batch 1/);
    expectRejectedUnchanged(s, () => s.step(inf), RangeError, /sample 700 is Infinity/);
    expectRejectedUnchanged(s, () => s.step(Object.assign(sig(1600), { 0: -Infinity })), RangeError, /sample 0 is -Infinity/);
    expectRejectedUnchanged(s, () => s.step([sig(1600), sig(1500)]), RangeError, /row 1 has 1500 samples/);
    // A window shorter than its context (a truncated buffer), and one with fewer new samples than one Mimi frame.
    expectRejectedUnchanged(s, () => s.step(sig(200)), RangeError, /window of 200 samples is shorter than its 320 samples of context; MaAI's loop calls with 1600/);
    expectRejectedUnchanged(s, () => s.step(sig(320 + 640)), RangeError, /640 new samples at 16 kHz give 960 samples at 24000 Hz, fewer than one Mimi frame \(1920\); send at least 1280/);
    expectRejectedUnchanged(s, () => s.step(sig(320 + 1279), { finalize: true }), RangeError, /fewer than one Mimi frame/);
    tf.dispose([int32, rank4, batch2, inf]);
    for (let k = 20; k < 24; k++) expect(stepData(s, sig(1600, k))).toEqual(stepData(ref, sig(1600, k)));
    expect(s.position).toBe(ref.position);
    s.dispose();
    ref.dispose();
  });
});

describe('MimiStream.importState', () => {
  let s: MimiStream;
  let good: MimiStreamState;
  beforeAll(() => {
    s = mimi.stream();
    for (let k = 0; k < 20; k++) s.step(sig(1600, k)).dispose();
    good = s.exportState();
  });
  afterAll(() => s.dispose());
  const coreWith = (name: string, t: Partial<RawTensor> | null): Array<[string, RawTensor]> =>
    good.core.flatMap(([n, v]) => (n !== name ? [[n, v]] : t === null ? [] : [[n, { ...v, ...t } as RawTensor]])) as Array<[string, RawTensor]>;

  it('refuses a CPC stream state', () => {
    const c = cpc.stream();
    c.step(sig(1920)).dispose();
    expectRejectedUnchanged(s, () => s.importState(c.exportState() as never), TypeError, /MimiStream\.importState: not a Mimi stream state \(encoder: "cpc"\)/);
    c.dispose();
  });

  it('refuses a state of another batch, hidden size or frameConvCache size', () => {
    const s2 = mimi.stream({ batch: 2 });
    s2.step([sig(1600), sig(1600, 1)]).dispose();
    expectRejectedUnchanged(s, () => s.importState(s2.exportState()), RangeError, /MimiStream\.importState: state has batch 2 \(audio resampler rows\), the stream has batch 1/);
    // The batch of the core alone (a fresh batch-2 stream has no resampler rows yet).
    const fresh2 = mimi.stream({ batch: 2 }).exportState();
    expectRejectedUnchanged(s, () => s.importState(fresh2), RangeError, /MimiStream\.importState: state has batch 2, the stream has batch 1/);
    s2.dispose();
    expectRejectedUnchanged(s, () => s.importState({ ...good, hidden: 512 }), RangeError, /state is for hidden 512 at 12\.5 Hz; this encoder is hidden 64 at 12\.5 Hz/);
    expectRejectedUnchanged(s, () => s.importState({ ...good, frameConvCache: new Float32Array(10) }), RangeError, /frameConvCache has the wrong size/);
  });

  it('refuses a broken core or resampler state after validating it, leaving everything as it was', () => {
    expectRejectedUnchanged(s, () => s.importState({ ...good, core: coreWith('past_0', null) }), RangeError, /Mimi state: missing "past_0"/);
    const p1 = good.core.find(([n]) => n === 'past_1')![1];
    const nan = Float32Array.from(p1.data as Float32Array);
    nan[5] = NaN;
    expectRejectedUnchanged(s, () => s.importState({ ...good, core: coreWith('past_1', { data: nan }) }), RangeError, /"past_1" value 5 is NaN; a state must be finite/);
    expectRejectedUnchanged(s, () => s.importState({ ...good, core: undefined as never }), TypeError, /expected the flat core state .*got undefined/);
    expectRejectedUnchanged(s, () => s.importState({ ...good, audioResampler: { ...good.audioResampler, orig: 8000 } }), RangeError, /state is for 8000 -> 24000 Hz, this resampler is 16000 -> 24000 Hz/);
    expectRejectedUnchanged(s, () => s.importState({ ...good, audioResampler: { ...good.audioResampler, inTotal: -1 } }), RangeError, /bad inTotal -1/);
  });
});

describe('MimiStream.importCoreState', () => {
  let s: MimiStream;
  let core: Array<[string, RawTensor]>;
  beforeAll(() => {
    s = mimi.stream();
    for (let k = 0; k < 20; k++) s.step(sig(1600, k)).dispose();
    core = s.exportCoreState();
  });
  afterAll(() => s.dispose());
  const withEntry = (name: string, t: Partial<RawTensor> | null): Array<[string, RawTensor]> =>
    core.flatMap(([n, v]) => (n !== name ? [[n, v]] : t === null ? [] : [[n, { ...v, ...t } as RawTensor]])) as Array<[string, RawTensor]>;

  it('refuses stream states (of either encoder) in place of the flat core state', () => {
    const c = cpc.stream();
    expectRejectedUnchanged(s, () => s.importCoreState(c.exportState() as never), TypeError, /Mimi state: expected the flat core state \(an array of \[name, tensor\] pairs or a Map\), got a "cpc" stream state/);
    expectRejectedUnchanged(s, () => s.importCoreState(s.exportState() as never), TypeError, /got a "mimi" stream state/);
    expectRejectedUnchanged(s, () => s.importCoreState(null as never), TypeError, /got null/);
    c.dispose();
  });

  it('refuses missing, extra, mis-shaped, mis-typed, non-finite entries and a bad position', () => {
    const p0 = core.find(([n]) => n === 'past_0')![1];
    const pos = s.position;
    const cases: Array<[Array<[string, RawTensor]> | Map<string, RawTensor>, RegExp]> = [
      [withEntry('pad_cache_0', null), /Mimi state: missing "pad_cache_0" \(a Mimi state has \d+ entries\)/],
      [[...core, ['past_99', p0]], /unexpected entries past_99 \(a state of another encoder or config\?\)/],
      [new Map([...core, ['h', p0]]), /unexpected entries h/],
      [withEntry('past_0', { shape: [1, 4, 16, 32], data: new Float32Array(2048) }), /"past_0" is F32 \[1,4,16,32\], expected F32 \[1,4,16,16\]/],
      [withEntry('past_0', { dtype: 'F64', data: Float64Array.from(p0.data as Float32Array) }), /"past_0" is F64 \[1,4,16,16\], expected F32/],
      [withEntry('past_1', { shape: [1, 4, 16, 8], data: new Float32Array(512) }), /"past_1" is F32 \[1,4,16,8\], expected F32 \[1,4,16,16\]/], // after past_0 was made: no leak
      [withEntry('past_2', { data: Object.assign(Float32Array.from(p0.data as Float32Array), { 11: -Infinity }) }), /"past_2" value 11 is -Infinity/],
      [withEntry('cache_position', { data: BigInt64Array.from([-1n]) }), /cache_position -1 is not a non-negative integer/],
      [withEntry('cache_position', { shape: [2], data: BigInt64Array.from([1n, 2n]) }), /"cache_position" must hold one value/],
    ];
    for (const [bad, msg] of cases) expectRejectedUnchanged(s, () => s.importCoreState(bad), RangeError, msg);
    expect(s.position).toBe(pos);
  });

  it('refuses a core state of another batch', () => {
    const s2 = mimi.stream({ batch: 2 });
    expectRejectedUnchanged(s, () => s.importCoreState(s2.exportCoreState()), RangeError, /MimiStream\.importCoreState: state has batch 2, the stream has batch 1/);
    s2.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('EncoderSession', () => {
  it('push rejects non-finite and non-Float32Array chunks without consuming anything', () => {
    const x = sig(16000);
    const s = new EncoderSession(mimi);
    const ref = new EncoderSession(mimi);
    const a = s.push(x.subarray(0, 5000));
    const b = ref.push(x.subarray(0, 5000));
    expect(a.data).toEqual(b.data);
    const pending = s.pending;
    const calls = s.calls;
    expect(() => s.push(Object.assign(sig(800), { 799: Infinity }))).toThrow(/EncoderSession\.push: sample 799 is Infinity/);
    expect(() => s.push(null as never)).toThrow(TypeError);
    expect(() => s.push([0.1, 0.2] as never)).toThrow(/expected a Float32Array of 16 kHz samples/);
    expect(s.push(new Float32Array(0)).frames).toBe(0); // an empty chunk is a no-op, not an error
    expect(s.pending).toBe(pending);
    expect(s.calls).toBe(calls);
    const c = s.push(x.subarray(5000));
    const d = ref.push(x.subarray(5000));
    expect(c.frames).toBe(d.frames);
    expect(c.data).toEqual(d.data);
    s.close();
    ref.close();
  });

  it('push after close is an error', () => {
    const s = new EncoderSession(mimi);
    s.close();
    expect(() => s.push(sig(100))).toThrow(/EncoderSession: push after flush\/close/);
  });

  it('refuses a CPC call rate whose window is shorter than the receptive field, or not positive', () => {
    expect(() => new EncoderSession(cpc, { frameHz: 400 })).toThrow(/a window of 360 samples is shorter than CPC's receptive field \(\d+ samples\)/);
    expect(() => new EncoderSession(cpc, { callHz: 0 })).toThrow(/call rate must be a positive number of Hz, got 0/);
    expect(() => new EncoderSession(cpc, { frameHz: NaN })).toThrow(/call rate must be a positive number of Hz, got NaN/);
    expect(() => new EncoderSession(cpc, { frameHz: 10, callHz: 20 })).toThrow(/callHz 20 and frameHz 10 disagree/);
    expect(() => new EncoderSession(mimi, { context: 160 })).toThrow(/context is fixed at load \(320 samples\), got 160/);
    expect(() => new EncoderSession(mimi, { callHz: 25 })).toThrow(/fewer than one Mimi frame \(1280 at 16 kHz\)/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('CausalStreamingResampler', () => {
  it('refuses rates that are not positive finite numbers', () => {
    expect(() => new CausalStreamingResampler(0, 24000)).toThrow(/rates must be positive, got 0 -> 24000/);
    expect(() => new CausalStreamingResampler(16000, NaN)).toThrow(/got 16000 -> NaN/);
    expect(() => new CausalStreamingResampler(Infinity, 24000)).toThrow(RangeError);
  });

  it('checkState refuses a state of other rates or with bad fields; process never changes the state it is given', () => {
    const r = new CausalStreamingResampler(16000, 24000);
    const s0 = r.initialState();
    const frozen = JSON.stringify(s0);
    const good = r.process([sig(1280)], s0).state;
    expect(JSON.stringify(s0)).toBe(frozen);
    expect(r.checkState(good)).toEqual(good);
    const bad: Array<[CausalResamplerState, RegExp]> = [
      [{ ...good, orig: 8000 }, /state is for 8000 -> 24000 Hz, this resampler is 16000 -> 24000 Hz/],
      [{ ...good, next: 12.5 }, /state is for 16000 -> 12\.5 Hz/],
      [null as never, /state is for undefined -> undefined Hz/],
      [{ ...good, nextT: -1 }, /bad nextT -1/],
      [{ ...good, nextT: NaN }, /bad nextT NaN/],
      [{ ...good, outTotal: Infinity }, /bad outTotal Infinity/],
      [{ ...good, inTotal: 1280.5 }, /inTotal 1280\.5 must be an integer sample count/],
      [{ ...good, prev: 'x' as never }, /prev must be null or an array of finite numbers/],
      [{ ...good, prev: [NaN] }, /prev must be null or an array of finite numbers/],
    ];
    for (const [s, msg] of bad) {
      expect(() => r.checkState(s)).toThrow(RangeError);
      expect(() => r.checkState(s)).toThrow(msg);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('wrong sample rate', () => {
  it('resample refuses rates that are not positive integers, naming the rate', () => {
    const x = sig(441);
    expect(() => resample(x, 0, 16000)).toThrow(/resample: fromRate must be a positive integer sample rate, got 0/);
    expect(() => resample(x, 44100.5, 16000)).toThrow(/fromRate must be a positive integer sample rate, got 44100\.5/);
    expect(() => resample(x, -16000, 16000)).toThrow(/got -16000/);
    expect(() => resample(x, NaN, 16000)).toThrow(/fromRate .* got NaN/);
    expect(() => resample(x, 44100, Infinity)).toThrow(/toRate must be a positive integer sample rate, got Infinity/);
    expect(() => resample(x, 44100, 0)).toThrow(RangeError);
  });

  it('resample refuses other dtypes and non-finite samples', () => {
    expect(() => resample(new Float64Array(10) as never, 8000, 16000)).toThrow(/resample: expected a Float32Array/);
    expect(() => resample(Object.assign(sig(100), { 3: NaN }), 8000, 16000)).toThrow(/resample: sample 3 is NaN; audio must be finite/);
  });

  describe('readAudio16k (audio file input)', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maai-entry-'));
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const wav = (name: string, chans: Float32Array[], rate: number) => {
      const f = path.join(tmp, name);
      fs.writeFileSync(f, writeWav(chans, rate, 'float32'));
      return f;
    };

    it('refuses a rate other than 16 kHz when resampling is off, and resamples otherwise', () => {
      const f = wav('8k.wav', [sig(8000)], 8000);
      expect(() => readAudio16k(f, 'mix', false)).toThrow(AudioInputError);
      expect(() => readAudio16k(f, 'mix', false)).toThrow(/8k\.wav: sample rate 8000 Hz, expected 16000$/);
      expect(readAudio16k(f, 'mix', true).length).toBe(16000);
      const g = wav('16k.wav', [sig(1600)], 16000);
      expect(readAudio16k(g, 'mix', false).length).toBe(1600);
    });

    it('names a missing file and a channel out of range', () => {
      expect(() => readAudio16k(path.join(tmp, 'nope.wav'), 'mix', true)).toThrow(AudioInputError);
      expect(() => readAudio16k(path.join(tmp, 'nope.wav'), 'mix', true)).toThrow(/input file not found: .*nope\.wav/);
      const f = wav('stereo.wav', [sig(1600), sig(1600, 1)], 16000);
      expect(() => readAudio16k(f, 2, true)).toThrow(/channel 2 is out of range: the file has 2 channel\(s\)/);
    });
  });
});
