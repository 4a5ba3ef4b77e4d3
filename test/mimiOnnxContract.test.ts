/**
 * MaAI's streaming ONNX contract (EncoderMimiOnnx): the flat state's names, dtypes, shapes and order, the ring
 * order of the KV buffers, ORT-style outputs, the meta JSON, and moving a stream through the flat state past the
 * KV window.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { MIMI_TINY_OVERRIDES } from '../src/models/mimi/mimiConfig';
import { MimiStream } from '../src/models/mimi/mimiStream';
import { rotateSlots } from '../src/models/mimi/onnxContract';
import { RawTensor } from '../src/weights/types';
import { openWeights, WeightStore } from '../src/weights/store';
import { goldenPath } from './helpers/golden';

let store: WeightStore;
let enc: EncoderMimi;
beforeAll(async () => {
  await setBackend('wasm');
  store = await openWeights(goldenPath('weights', 'mimi_tiny_weights.safetensors'));
  enc = EncoderMimi.load(store, { frameHz: 12.5, config: MIMI_TINY_OVERRIDES });
});
afterAll(() => enc.dispose());

const sig = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((i + 977 * k) / (5 + (k % 7))) + 0.05 * Math.cos(i / 3 + k));

function steps(s: MimiStream, from: number, n: number, W: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => {
    const y = s.step(sig(W, from + i));
    const d = (y.dataSync() as Float32Array).slice();
    y.dispose();
    return d;
  });
}

const ints = (t: RawTensor) => Array.from(t.data as BigInt64Array, Number);

describe('flat state in the contract form', () => {
  it('names, dtypes, shapes and order; positions wrapped modulo max_past_len and absolute', () => {
    const s = enc.stream();
    const W = enc.getStreamingCallWindow16k();
    steps(s, 0, 11, W); // 22 tokens: past the tiny KV window of 16
    const flat = s.exportCoreState();
    const spec = enc.getMimiStreamingOnnxIoSpec();
    expect(flat.map(([n]) => n)).toEqual([
      'cache_position',
      'position_ids',
      ...spec.padding_cache_shapes.map((_, i) => `pad_cache_${i}`),
      ...spec.past_key_value_shapes.map((_, j) => `past_${j}`),
    ]);
    const get = (n: string) => flat.find(([k]) => k === n)![1];
    expect(get('cache_position')).toMatchObject({ dtype: 'I64', shape: [2] });
    expect(ints(get('cache_position'))).toEqual([22 % 16, 23 % 16]);
    expect(ints(get('position_ids'))).toEqual([22, 23]);
    spec.padding_cache_shapes.forEach((shape, i) => expect(get(`pad_cache_${i}`)).toMatchObject({ dtype: 'F32', shape }));
    spec.past_key_value_shapes.forEach((shape, j) => expect(get(`past_${j}`)).toMatchObject({ dtype: 'F32', shape }));
    expect(spec.past_key_value_shapes[0]).toEqual([1, 4, 16, 16]);
    const two = s.exportCoreState({ framesPerCall: 2 });
    expect(ints(two[0][1])).toEqual([6, 7, 8, 9]);
    expect(ints(two[1][1])).toEqual([22, 23, 24, 25]);
    s.dispose();
  });

  it('keeps the KV buffers in ring order: slot p % max_past_len holds position p', () => {
    // Keys of the ring slot of position p equal the keys of the sliding-window slot of p, at any step.
    const s = enc.stream();
    const W = enc.getStreamingCallWindow16k();
    const history: Float32Array[] = []; // past_0 (keys of layer 0) after every step, ring order
    for (let k = 0; k < 12; k++) {
      steps(s, k, 1, W);
      history.push(s.exportCoreState().find(([n]) => n === 'past_0')![1].data as Float32Array);
    }
    const D = 16;
    const slot = (buf: Float32Array, head: number, i: number) => buf.subarray((head * 16 + i) * D, (head * 16 + i + 1) * D);
    // Position 9 was written at step 4 (tokens 8, 9) and is still in the window at step 11 (24 tokens, window 16).
    for (const head of [0, 3]) expect(slot(history[11], head, 9 % 16)).toEqual(slot(history[4], head, 9));
    // Position 20 (written at step 10) sits in slot 4 after the wrap.
    expect(slot(history[11], 0, 20 % 16)).toEqual(slot(history[10], 0, 4));
    s.dispose();
  });

  it('rotateSlots is the ring <-> sliding-window permutation and its inverse', () => {
    const x = Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => i);
    const r = rotateSlots(x, 2, 5, 3, 2);
    expect(Array.from(r.subarray(0, 15))).toEqual([9, 10, 11, 12, 13, 14, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rotateSlots(r, 2, 5, 3, 3)).toEqual(x);
    expect(rotateSlots(x, 2, 5, 3, 5)).toBe(x);
  });
});

describe('moving a stream through the flat state', () => {
  it('the core alone: MimiModel state exported after N calls and imported gives identical core outputs', () => {
    const model = enc.model;
    let st = model.initialState(1);
    const chunk = (k: number) => tf.tensor3d(sig(1920, k), [1, 1920, 1]);
    const run = (state: typeof st, from: number, n: number) => {
      const out: Float32Array[] = [];
      for (let k = from; k < from + n; k++) {
        const x = chunk(k);
        const r = model.step(x, state);
        x.dispose();
        if (state !== st) state.padCaches.concat(state.kv.flatMap((l) => [l.keys, l.values]) as never).forEach((t) => t.dispose());
        state = r.state;
        out.push(r.y.dataSync() as Float32Array);
        r.y.dispose();
      }
      return { out, state };
    };
    const first = run(st, 0, 131); // 262 tokens: the window of 16 wrapped many times, position not a multiple of 16
    st = first.state;
    const flat = model.exportState(st);
    const imported = model.importState(structuredClone(flat));
    expect(imported.position).toBe(262);
    const ref = run(st, 131, 20);
    const got = run(imported, 131, 20);
    got.out.forEach((g, i) => expect(g).toEqual(ref.out[i]));
  });

  it.each([150, 137])('after %i steps (past the KV window), a fresh stream continues identically', (N) => {
    const W = enc.getStreamingCallWindow16k();
    const a = enc.stream();
    steps(a, 0, N, W);
    const flat = structuredClone(a.exportCoreState());
    const rest = a.exportState();
    const ref = steps(a, N, 40, W);
    // The contract covers the Mimi core; the 16k -> 24k resampler runs outside the graph (as in EncoderMimiOnnx),
    // so the fresh stream gets the core from the flat form, then the rest of the state around that core (a whole
    // state is checked for consistency between its parts, so the core goes in first).
    const b = enc.stream();
    const tensors = tf.memory().numTensors;
    b.importCoreState(flat);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(b.position).toBe(2 * N);
    b.importState({ ...rest, core: b.exportCoreState() });
    expect(b.position).toBe(2 * N);
    const got = steps(b, N, 40, W);
    got.forEach((g, i) => expect(g).toEqual(ref[i]));
    [a, b].forEach((s) => s.dispose());
  });

  it('accepts what an ONNX Runtime session returns (the _out names, ORT tensors, embeddings), with MaAI position_ids counter', () => {
    const W = enc.getStreamingCallWindow16k();
    const a = enc.stream();
    steps(a, 0, 30, W);
    const flat = a.exportCoreState();
    const rest = a.exportState();
    const ref = steps(a, 30, 10, W);
    // As session.run returns it: an object of { type, dims, data } by output name; cache_position_out names the
    // next call's start slot (MaAI: start = cache_position_out[-1] % max_past_len).
    const ort: Record<string, { type: string; dims: number[]; data: RawTensor['data'] }> = {
      embeddings: { type: 'float32', dims: [1, 1, 64], data: new Float32Array(64) },
      cache_position_out: { type: 'int64', dims: [1], data: BigInt64Array.from([BigInt(60 % 16)]) },
    };
    for (const [n, t] of flat) {
      if (n === 'cache_position' || n === 'position_ids') continue;
      ort[n.replace(/^(pad_cache|past)_/, '$1_out_')] = { type: 'float32', dims: t.shape, data: t.data };
    }
    const b = enc.stream();
    expect(() => b.importCoreState(ort)).toThrow(/no "position_ids".*pass \{ position \}/);
    expect(() => b.importCoreState(ort, { position: 62 })).toThrow(/cache_position_out ends at slot 12, but position 62 is slot 14 of 16/);
    b.importCoreState(ort, { position: 60 });
    b.importState({ ...rest, core: b.exportCoreState() });
    steps(b, 30, 10, W).forEach((g, i) => expect(g).toEqual(ref[i]));
    expect(() => b.importCoreState({ ...ort, pad_cache_0: ort.pad_cache_out_0 }, { position: 60 })).toThrow(/"pad_cache_0" given twice \(as pad_cache_0 and its _out form\)/);
    [a, b].forEach((s) => s.dispose());
  });
});

describe('meta JSON', () => {
  it("is MaAI's continuous_mimi_*.json for N frames per call", () => {
    const meta = enc.getMimiStreamingOnnxMeta(2);
    expect(meta.required_params).toEqual({ frame_rate: 12.5, context_samples: 320, frames_per_call: 2, wave_16k_call_window: 2880, wave_24k_mimi_input: 3840 });
    expect(meta.cache_position_len).toBe(4);
    expect(meta.max_past_len).toBe(16);
    expect(meta.num_pad_tensors).toBe(15);
    expect(meta.input_names.slice(0, 4)).toEqual(['wave_24k', 'cache_position', 'position_ids', 'pad_cache_0']);
    expect(meta.input_names.length).toBe(3 + 15 + 4);
    expect(meta.output_names.slice(0, 3)).toEqual(['embeddings', 'cache_position_out', 'pad_cache_out_0']);
    expect(meta.contract.spec.frames_per_call).toBe(2);
    expect(meta.contract.spec.padding_cache_shapes[0]).toEqual([1, 1, 6]);
    expect(meta.contract.past_template_shapes[0][2]).toBe(16);
    expect(JSON.parse(JSON.stringify(meta))).toEqual(meta);
    const e10 = EncoderMimi.load(store, { frameHz: 10, config: MIMI_TINY_OVERRIDES });
    expect(() => e10.getMimiStreamingOnnxMeta()).toThrow(/the ONNX contract runs at Mimi's 12.5 Hz; this encoder is at frame_hz 10/);
    e10.dispose();
  });
});
