import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
(async () => {
  await setBackend('wasm', { threads: Number(process.argv[2] ?? 1) });
  const t = (name: string, f: () => tf.Tensor, n = 20) => { f().dispose(); const t0 = performance.now(); for (let i = 0; i < n; i++) { const y = f(); y.dataSync(); y.dispose(); } console.log(name, ((performance.now() - t0) / n).toFixed(3), 'ms'); };
  for (const [L, Lk] of [[250, 250], [2, 252], [8, 258], [32, 282], [20, 20]]) {
    const q = tf.randomNormal([1, 8, L, 64]); const k = tf.randomNormal([1, 8, Lk, 64]);
    t(`qkT ${L}x${Lk}`, () => tf.matMul(q, k, false, true), 50);
    const p = tf.randomNormal([1, 8, L, Lk]);
    t(`pv ${L}x${Lk}`, () => tf.matMul(p, k), 50);
  }
  console.log('numTensors', tf.memory().numTensors, 'bytes', tf.memory().numBytes);
})();
