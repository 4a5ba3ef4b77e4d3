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
