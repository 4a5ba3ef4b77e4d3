/**
 * The native TensorFlow backend (@tensorflow/tfjs-node, installed by `maai-encoder setup-backend tensorflow`).
 * Where it is not installed these tests check the error that says how to install it; CI installs it and sets
 * MAAI_REQUIRE_TENSORFLOW=1, so there a missing or broken install fails the suite.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, chooseAutoBackend, setBackend } from '../src/backend';
import { resolveNative } from '../src/backend/nativeHost';
import { hasLayerNorm, hasLstmSequence } from '../src/backend/tensorflowKernels';
import { LayerNorm } from '../src/layers/layerNorm';
import { Recurrent } from '../src/layers/recurrent';
import { disposeAll } from '../src/layers/param';
import { TracedSteps, tracedStepsUnavailable } from '../src/backend/tfFunction';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { EncoderCPC } from '../src/models/cpc/encoderCpc';
import { MIMI_TINY_OVERRIDES } from '../src/models/mimi/mimiConfig';
import { WeightStore, openWeights } from '../src/weights/store';
import { buildFromManifest, readManifest } from '../src/weights/detweights';
import { goldenPath } from './helpers/golden';

const installed = resolveNative('tensorflow') !== null;
const required = process.env.MAAI_REQUIRE_TENSORFLOW === '1';

describe('tensorflow backend', () => {
  it(required || installed ? 'is installed and loads; auto picks it' : 'is not installed: the error says how to install it', async () => {
    if (required) expect(installed).toBe(true);
    if (!installed) {
      await expect(setBackend('tensorflow')).rejects.toThrow(/setup-backend tensorflow/);
      expect(chooseAutoBackend().backend).toBe('wasm');
      return;
    }
    expect(await setBackend('tensorflow')).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(y.dataSync())).toEqual([11]);
    y.dispose();
    const auto = chooseAutoBackend();
    expect(auto.backend).toBe('tensorflow');
    expect(auto.reason).toMatch(/tfjs-node/);
  });

  it('auto is the default choice and MAAI_BACKEND overrides it', async () => {
    const saved = process.env.MAAI_BACKEND;
    try {
      process.env.MAAI_BACKEND = 'cpu';
      expect(await setBackend()).toBe('cpu');
      process.env.MAAI_BACKEND = 'nope';
      await expect(setBackend()).rejects.toThrow(/MAAI_BACKEND must be auto or one of/);
      delete process.env.MAAI_BACKEND;
      expect(await setBackend()).toBe(installed ? 'tensorflow' : 'wasm');
      await expect(setBackend('bogus' as never)).rejects.toBeInstanceOf(BackendError);
    } finally {
      process.env.MAAI_BACKEND = saved;
    }
  });
});

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** max |a - b| / rms(b). */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  let ss = 0;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    ss += b[i] * b[i];
  }
  return m / Math.sqrt(ss / b.length);
}

(installed ? describe : describe.skip)('tensorflow kernel replacements against the cpu backend', () => {
  /** Runs f on cpu and on tensorflow with the same host inputs; returns both outputs as arrays. */
  async function both(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[], number[][]]> {
    const run = (check = true) => {
      const before = tf.memory().numTensors;
      const out = tf.tidy(f);
      const arr = Array.isArray(out) ? out : [out];
      const data = arr.map((t) => t.dataSync() as Float32Array);
      const shapes = arr.map((t) => t.shape);
      tf.dispose(arr);
      if (check) expect(tf.memory().numTensors).toBe(before);
      return { data, shapes };
    };
    await setBackend('cpu');
    const ref = run();
    await setBackend('tensorflow');
    run(false); // first call: cached constants (axes tensors) are made
    const got = run();
    expect(got.shapes).toEqual(ref.shapes);
    return [got.data, ref.data, got.shapes];
  }

  it('MatMul / BatchMatMul with every transpose, and fused products with bias and relu', async () => {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const [got, ref] = await both(() => {
        const a = tf.tensor(values(3 * 5, 1), tA ? [5, 3] : [3, 5]);
        const b = tf.tensor(values(5 * 4, 2), tB ? [4, 5] : [5, 4]);
        const a3 = tf.tensor(values(2 * 3 * 5, 3), tA ? [2, 5, 3] : [2, 3, 5]);
        const bias = tf.tensor1d(values(4, 4));
        return [
          tf.matMul(a, b, tA, tB),
          tf.matMul(a3, b, tA, tB),
          tf.fused.matMul({ a, b, transposeA: tA, transposeB: tB, bias }),
          tf.fused.matMul({ a: a3, b, transposeA: tA, transposeB: tB, bias, activation: 'relu' }),
          tf.fused.matMul({ a, b, transposeA: tA, transposeB: tB, bias, activation: 'elu' }),
        ];
      });
      got.forEach((g, i) => expect(rel(g, ref[i])).toBeLessThan(1e-6));
    }
  });

  it('Mean over any axes, keepDims or not', async () => {
    const [got, ref] = await both(() => {
      const x = tf.tensor3d(values(2 * 3 * 4, 5), [2, 3, 4]);
      return [tf.mean(x, -1, true), tf.mean(x, [0, 2]), tf.mean(x), tf.mean(tf.tensor1d([1, 2, 4], 'int32'))];
    });
    got.forEach((g, i) => expect(rel(g, ref[i])).toBeLessThan(1e-6));
  });

  it('an LSTM sequence as one kernel equals the per-step cells, from zero, from a given state and after new weights', async () => {
    const I = 6;
    const H = 5;
    const make = () =>
      new Recurrent('LSTM', I, H, {
        weightIh: tf.tensor2d(values(4 * H * I, 6), [4 * H, I]),
        weightHh: tf.tensor2d(values(4 * H * H, 7), [4 * H, H]),
        biasIh: tf.tensor1d(values(4 * H, 8)),
        biasHh: tf.tensor1d(values(4 * H, 9)),
      });
    await setBackend('tensorflow');
    expect(hasLstmSequence()).toBe(true);
    const [got, ref] = await both(() => {
      const rnn = make();
      const x = tf.tensor3d(values(2 * 7 * I, 10), [2, 7, I]);
      const a = rnn.forward(x, null);
      const b = rnn.forward(tf.tensor3d(values(2 * 3 * I, 11), [2, 3, I]), a.state);
      // New weights (a retrained layer): the prepared TensorFlow-layout copy is made again.
      rnn.wHhT.assign(tf.tensor2d(values(4 * H * H, 19), [H, 4 * H]));
      const d = rnn.forward(x, null);
      const out = [a.y, a.state.h, a.state.c!, b.y, b.state.h, b.state.c!, d.y];
      rnn.disposePrepared();
      disposeAll(rnn.variables());
      return out;
    });
    got.forEach((g, i) => expect(rel(g, ref[i])).toBeLessThan(1e-5));
  });

  it('GatherV2 without the host read of the indices: equal on any axis; an out-of-range index is still an error', async () => {
    const [got, ref] = await both(() => {
      const x = tf.tensor4d(values(2 * 3 * 5 * 4, 17), [2, 3, 5, 4]);
      const idx = tf.tensor1d([4, 0, 2, 2, 1], 'int32');
      return [tf.gather(x, idx, 2), tf.gather(x, tf.tensor1d([1, 0], 'int32'), 0), tf.gather(x, tf.tensor1d([3, 0, 1], 'int32'), 3)];
    });
    got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(ref[i])));
    await setBackend('tensorflow');
    const x = tf.tensor2d(values(6, 18), [2, 3]);
    expect(() => tf.gather(x, tf.tensor1d([0, 3], 'int32'), 1).dataSync()).toThrow(/3/);
    x.dispose();
  });

  it('LayerNorm as one fused kernel equals the plain ops, any rank and row count', async () => {
    await setBackend('tensorflow');
    expect(hasLayerNorm()).toBe(true);
    const [got, ref] = await both(() => {
      const ln = new LayerNorm(8, tf.tensor1d(values(8, 12)), tf.tensor1d(values(8, 13)), 1e-5);
      // Rows with large offsets and small spread, where a careless variance loses digits.
      const x = tf.add(tf.tensor3d(values(2 * 3 * 8, 14), [2, 3, 8]), tf.tensor3d(values(2 * 3, 15).map((v) => 100 * v), [2, 3, 1]));
      const out = [ln.forward(x), ln.forward(tf.tensor2d(values(8, 16), [1, 8])), ln.forward(tf.zeros([0, 8]))];
      disposeAll(ln.variables());
      return out;
    });
    expect(got[2].length).toBe(0);
    got.slice(0, 2).forEach((g, i) => expect(rel(g, ref[i])).toBeLessThan(1e-5));
  });
});

(installed ? describe : describe.skip)('traced steps: a whole step as one TensorFlow function', () => {
  const withFunctions = async <T>(on: boolean, f: () => T | Promise<T>): Promise<T> => {
    const saved = process.env.MAAI_TF_FUNCTIONS;
    process.env.MAAI_TF_FUNCTIONS = on ? '1' : '0';
    try {
      return await f();
    } finally {
      if (saved === undefined) delete process.env.MAAI_TF_FUNCTIONS;
      else process.env.MAAI_TF_FUNCTIONS = saved;
    }
  };

  /**
   * Whether these tests can run: the addon built by setup-backend has the functions (CI requires it); a stock
   * tfjs-node or one built by an older setup-backend lacks them, and the reason must say how to get them.
   */
  const ready = async (): Promise<boolean> => {
    await setBackend('tensorflow');
    const why = tracedStepsUnavailable();
    if (why === null) return true;
    expect(why).toMatch(/setup-backend/);
    if (required) throw new Error(`traced steps unavailable under MAAI_REQUIRE_TENSORFLOW=1: ${why}`);
    return false;
  };

  it('is available on the addon setup-backend builds', async () => {
    if (!(await ready())) return;
    expect(tracedStepsUnavailable()).toBeNull();
    await withFunctions(false, () => expect(tracedStepsUnavailable()).toBe('MAAI_TF_FUNCTIONS=0'));
  });

  it('runs a traced step as one function with the eager outputs; retraces on new shapes and replaced weights; refuses data reads', async () => {
    if (!(await ready())) return;
    const w = tf.variable(tf.tensor2d(values(4 * 6, 21), [4, 6]), false);
    // Host scalars, reshapes, a multi-output split, concat, a fused kernel replacement (matMul) and LayerNorm.
    const ln = new LayerNorm(6, tf.tensor1d(values(6, 22)), tf.tensor1d(values(6, 23)));
    const fn = ([x, s]: tf.Tensor[]) => {
      const h = ln.forward(tf.matMul(tf.reshape(x, [-1, 4]), w));
      const [a, b] = tf.split(h, [2, 4], 1);
      return [tf.concat([tf.mul(b, 0.5), tf.add(a, s)], 1), tf.relu(a)];
    };
    const traced = new TracedSteps();
    const x = tf.tensor3d(values(2 * 3 * 4, 24), [2, 3, 4]);
    const s = tf.tensor2d(values(6 * 2, 25), [6, 2]);
    const eager = fn([x, s]).map((t) => t.dataSync().slice());
    const before = tf.memory().numTensors;
    for (let call = 0; call < 3; call++) {
      const out = traced.run('toy', [x, s], fn);
      out.forEach((t, i) => expect(rel(t.dataSync(), eager[i])).toBeLessThan(1e-6));
      tf.dispose(out);
    }
    expect(traced.lastFallback).toBeNull();
    expect(traced.compiledCalls).toBe(2); // the first call traced (eagerly), the next two ran the function
    expect(tf.memory().numTensors).toBe(before);

    // Another input shape: a new trace, then the function.
    const x2 = tf.tensor3d(values(1 * 6 * 4, 26), [1, 6, 4]);
    tf.dispose(traced.run('toy', [x2, s], fn));
    const o2 = traced.run('toy', [x2, s], fn);
    expect(traced.compiledCalls).toBe(3);
    const e2 = fn([x2, s]);
    expect(rel(o2[0].dataSync(), e2[0].dataSync())).toBeLessThan(1e-6);
    tf.dispose([...o2, ...e2]);

    // A replaced weight (assign gives the variable a new handle; the old one is deleted): traced again.
    w.assign(tf.tensor2d(values(4 * 6, 27), [4, 6]));
    const o3 = traced.run('toy', [x, s], fn);
    const e3 = fn([x, s]);
    expect(traced.compiledCalls).toBe(3);
    expect(rel(o3[0].dataSync(), e3[0].dataSync())).toBeLessThan(1e-6);
    expect(rel(o3[0].dataSync(), eager[0])).toBeGreaterThan(1e-2);
    tf.dispose([...o3, ...e3]);

    // A step that reads tensor data cannot be a function: it stays eager and says why.
    const reads = ([a]: tf.Tensor[]) => [tf.mul(a, a.dataSync()[0])];
    for (let i = 0; i < 2; i++) tf.dispose(traced.run('reads', [x], reads));
    expect(traced.lastFallback).toMatch(/reads tensor data/);
    expect(traced.compiledCalls).toBe(3);
    // Off by environment: always eager.
    await withFunctions(false, () => tf.dispose(traced.run('toy', [x, s], fn)));
    expect(traced.compiledCalls).toBe(3);
    // clear() (a model's dispose) removes the functions; the next call traces again.
    traced.clear();
    for (let i = 0; i < 2; i++) tf.dispose(traced.run('toy', [x, s], fn));
    expect(traced.compiledCalls).toBe(4);
    traced.clear();
    tf.dispose([x, x2, s, w, ...ln.variables()]);
  });

  it('Mimi and CPC streams give the eager outputs with their steps traced, without growing memory', async () => {
    if (!(await ready())) return;
    const mimiStore = await openWeights(goldenPath('weights', 'mimi_tiny_weights.safetensors'));
    const cpcStore = WeightStore.fromTensors(buildFromManifest(readManifest(goldenPath('weights', 'cpc_lstm_manifest.json'))));
    const sig = Float32Array.from(values(16000 * 4, 31), (v) => 0.3 * v);
    const run = (enc: EncoderMimi | EncoderCPC, steps: number) => {
      const st = enc.stream();
      const { window: win, shift: emit } = enc.callWindow();
      const out: number[] = [];
      let tensorsAfterWarmup = 0;
      for (let i = 0; i < steps; i++) {
        const y = st.step(sig.subarray(i * emit, i * emit + win));
        out.push(...y.dataSync());
        y.dispose();
        if (i === steps - 6) tensorsAfterWarmup = tf.memory().numTensors;
      }
      expect(tf.memory().numTensors).toBe(tensorsAfterWarmup);
      return Float32Array.from(out);
    };
    for (const make of [() => EncoderMimi.load(mimiStore, { frameHz: 12.5, config: MIMI_TINY_OVERRIDES }), () => EncoderCPC.load(cpcStore)]) {
      const eager = await withFunctions(false, () => {
        const enc = make();
        const y = run(enc, 30);
        enc.dispose();
        return y;
      });
      const enc = make();
      const y = run(enc, 30);
      const traced = (enc as unknown as { traced: TracedSteps }).traced ?? (enc as unknown as { model: { traced: TracedSteps } }).model.traced;
      expect(traced.lastFallback).toBeNull();
      expect(traced.compiledCalls).toBeGreaterThan(15);
      expect(y.length).toBe(eager.length);
      expect(rel(y, eager)).toBeLessThan(1e-5);
      enc.dispose();
    }
  });
});
