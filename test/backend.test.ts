import * as tf from '@tensorflow/tfjs-core';
import { setBackend, availableBackends, BackendError } from '../src/backend';

describe('backend', () => {
  it('initialises wasm and computes', async () => {
    await setBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(y.dataSync())).toEqual([11]);
  });
  it('initialises cpu', async () => {
    await setBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
  it('reports availability and explains missing peers', async () => {
    const av = availableBackends();
    expect(av.wasm.available).toBe(true);
    expect(av.cpu.available).toBe(true);
    if (!av.tensorflow.available) {
      await expect(setBackend('tensorflow')).rejects.toThrow(/npm install @tensorflow\/tfjs-node/);
    }
    await expect(setBackend('nope' as never)).rejects.toBeInstanceOf(BackendError);
  });
});

describe('wasm Slice / SplitV replacements', () => {
  /** Reference slice on host arrays. */
  function refSlice(data: Float32Array, shape: number[], begin: number[], size: number[]): number[] {
    const st = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const out: number[] = [];
    const idx = new Array(shape.length).fill(0);
    const n = size.reduce((a, b) => a * b, 1);
    for (let k = 0; k < n; k++) {
      let off = 0;
      for (let a = 0; a < shape.length; a++) off += (begin[a] + idx[a]) * st[a];
      out.push(data[off]);
      for (let a = shape.length - 1; a >= 0; a--) {
        if (++idx[a] < size[a]) break;
        idx[a] = 0;
      }
    }
    return out;
  }

  it('slices every rank and position like the reference', async () => {
    await setBackend('wasm');
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let trial = 0; trial < 300; trial++) {
      const rank = 1 + rnd(5);
      const shape = Array.from({ length: rank }, () => 1 + rnd(5));
      const begin = shape.map((d) => rnd(d));
      const size = shape.map((d, i) => rnd(d - begin[i] + 1));
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 0.5);
      const x = tf.tensor(data, shape);
      const y = tf.slice(x, begin, size);
      expect(y.shape).toEqual(size);
      expect(Array.from(y.dataSync())).toEqual(refSlice(data, shape, begin, size));
      tf.dispose([x, y]);
    }
    const i = tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32');
    expect(Array.from(tf.slice(i, [0, 1], [2, 2]).dataSync())).toEqual([2, 3, 5, 6]);
    const parts = tf.split(tf.tensor3d(Float32Array.from({ length: 24 }, (_, k) => k), [2, 3, 4]), [1, 3], 2);
    expect(Array.from(parts[0].dataSync())).toEqual([0, 4, 8, 12, 16, 20]);
    expect(parts[1].shape).toEqual([2, 3, 3]);
    expect(Array.from(parts[1].dataSync()).slice(0, 3)).toEqual([1, 2, 3]);
  });
});

describe('wasm BatchMatMul replacement (batched / transposed products through XNNPACK per batch entry)', () => {
  /** float64 reference of matMul with tfjs' batch broadcasting of a batch-1 side. */
  function refMatMul(a: Float32Array, as: number[], b: Float32Array, bs: number[], tA: boolean, tB: boolean): { data: Float64Array; shape: number[] } {
    const r = as.length;
    const bA = as.slice(0, -2).reduce((x, y) => x * y, 1);
    const bB = bs.slice(0, -2).reduce((x, y) => x * y, 1);
    const [ar, ac] = [as[r - 2], as[r - 1]];
    const [br, bc] = [bs[r - 2], bs[r - 1]];
    const M = tA ? ac : ar;
    const K = tA ? ar : ac;
    const N = tB ? br : bc;
    const batch = Math.max(bA, bB);
    const out = new Float64Array(batch * M * N);
    for (let i = 0; i < batch; i++) {
      const ao = (bA === 1 ? 0 : i) * ar * ac;
      const bo = (bB === 1 ? 0 : i) * br * bc;
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[ao + (tA ? k * ac + m : m * ac + k)] * b[bo + (tB ? n * bc + k : k * bc + n)];
          out[(i * M + m) * N + n] = s;
        }
    }
    return { data: out, shape: [...(bA >= bB ? as : bs).slice(0, -2), M, N] };
  }

  it('matches a float64 reference for batched, transposed and broadcast operands, and leaks no tensor', async () => {
    await setBackend('wasm');
    let seed = 3;
    const rand = (n: number) =>
      Float32Array.from({ length: n }, () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 2 ** 32 - 0.5;
      });
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[1, 8, 250, 64], [1, 8, 250, 64], false, true], // attention q k^T, offline
      [[1, 8, 250, 250], [1, 8, 250, 64], false, false], // probs v
      [[8, 64, 130], [8, 64, 96], true, false],
      [[8, 130, 64], [8, 96, 130], true, true],
      [[2, 4, 100, 80], [1, 1, 80, 70], false, false], // b broadcast
      [[1, 120, 90], [6, 100, 90], false, true], // a broadcast
      [[2, 8, 2, 64], [2, 8, 252, 64], false, true], // small: upstream's kernel
    ];
    const before = tf.memory().numTensors;
    const dataIds = () => tf.engine().backend.numDataIds();
    const idsBefore = dataIds();
    for (const [as, bs, tA, tB] of cases) {
      const av = rand(as.reduce((x, y) => x * y, 1));
      const bv = rand(bs.reduce((x, y) => x * y, 1));
      const a = tf.tensor(av, as);
      const b = tf.tensor(bv, bs);
      const y = tf.matMul(a, b, tA, tB);
      const ref = refMatMul(av, as, bv, bs, tA, tB);
      expect(y.shape).toEqual(ref.shape);
      const got = y.dataSync();
      let maxErr = 0;
      for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - ref.data[i]));
      expect(maxErr).toBeLessThan(1e-4);
      tf.dispose([a, b, y]);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(dataIds()).toBe(idsBefore);
    // Mismatched inner sizes on this path: an error, and no buffer left behind.
    const a = tf.zeros([8, 250, 64]);
    const b = tf.zeros([8, 250, 64]);
    expect(() => tf.matMul(a, b)).toThrow(/inner shapes/);
    expect(() => tf.matMul(a, b, true, false).dispose()).not.toThrow();
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    expect(dataIds()).toBe(idsBefore);
  });
});
