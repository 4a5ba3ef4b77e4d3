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
