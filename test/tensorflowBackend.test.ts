/**
 * The native TensorFlow backend (@tensorflow/tfjs-node, installed by `maai-encoder setup-backend tensorflow`).
 * Where it is not installed these tests check the error that says how to install it; CI installs it and sets
 * MAAI_REQUIRE_TENSORFLOW=1, so there a missing or broken install fails the suite.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, chooseAutoBackend, setBackend } from '../src/backend';
import { resolveNative } from '../src/backend/nativeHost';

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
