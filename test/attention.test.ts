import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { MimiAttention, slidingWindowMask } from '../src/layers/attention';
import { Linear } from '../src/layers/linear';
import { RotaryEmbedding } from '../src/layers/rope';

describe('MimiAttention fused q/k/v copy', () => {
  it('follows the projection weights when they are replaced (train, freeze again, infer)', async () => {
    await setBackend('wasm');
    let seed = 9;
    const rand = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5)), shape);
    const [hidden, heads, D, L] = [16, 2, 8, 5];
    const lin = () => new Linear(hidden, heads * D, rand([heads * D, hidden]), null);
    const attn = new MimiAttention(lin(), lin(), lin(), new Linear(heads * D, hidden, rand([hidden, heads * D]), null), heads, D);
    const rope = new RotaryEmbedding(D);
    const { cos, sin } = rope.tables(0, L);
    const ctx = { rope, cos, sin, mask: slidingWindowMask(0, L, 0, L, 250) };
    const x = rand([1, L, hidden]) as tf.Tensor3D;
    const run = () => {
      const y = attn.forward(x, ctx).y;
      const d = (y.dataSync() as Float32Array).slice();
      y.dispose();
      return d;
    };
    const viaVariables = () => {
      for (const p of [attn.qProj, attn.kProj, attn.vProj]) p.weightT.trainable = true;
      const d = run();
      for (const p of [attn.qProj, attn.kProj, attn.vProj]) p.weightT.trainable = false;
      return d;
    };
    const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    const before = run();
    expect(maxDiff(before, viaVariables())).toBeLessThan(1e-6);
    // An optimizer step would do this: new data for the q and v weights.
    const q2 = rand([hidden, heads * D]);
    const v2 = rand([hidden, heads * D]);
    attn.qProj.weightT.assign(q2);
    attn.vProj.weightT.assign(v2);
    const after = run();
    expect(maxDiff(after, before)).toBeGreaterThan(1e-3);
    expect(maxDiff(after, viaVariables())).toBeLessThan(1e-6);
    const n = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(n);
    attn.disposeFused();
    tf.dispose([q2, v2, x, cos, sin, ctx.mask, ...attn.variables()]);
  });
});
