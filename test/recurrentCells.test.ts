import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { Recurrent } from '../src/layers/recurrent';
import { hasFusedCell } from '../src/backend/recurrentCells';

/** Runs a fresh LSTM or GRU over x from state s on the active backend; returns host copies of y, h, c. */
function run(mode: 'LSTM' | 'GRU', w: Record<string, Float32Array>, I: number, H: number, x: Float32Array, B: number, T: number, h0: Float32Array, c0: Float32Array) {
  const G = (mode === 'LSTM' ? 4 : 3) * H;
  const rnn = new Recurrent(mode, I, H, {
    weightIh: tf.tensor2d(w.ih.subarray(0, G * I), [G, I]),
    weightHh: tf.tensor2d(w.hh.subarray(0, G * H), [G, H]),
    biasIh: tf.tensor1d(w.bi.subarray(0, G)),
    biasHh: tf.tensor1d(w.bh.subarray(0, G)),
  });
  const xt = tf.tensor3d(x, [B, T, I]);
  const state = { h: tf.tensor2d(h0, [B, H]), c: mode === 'LSTM' ? tf.tensor2d(c0, [B, H]) : undefined };
  const r = rnn.forward(xt, state);
  const out = { y: r.y.dataSync().slice(), h: r.state.h.dataSync().slice(), c: r.state.c?.dataSync().slice() };
  tf.dispose([xt, state.h, ...(state.c ? [state.c] : []), r.y, r.state.h, ...(r.state.c ? [r.state.c] : []), ...rnn.variables()]);
  return out;
}

describe('fused recurrent cells (wasm) against the composite ops (cpu)', () => {
  it('LSTM and GRU: outputs and final states agree over 40 steps, batch 2', async () => {
    let seed = 5;
    const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * s);
    const [I, H, B, T] = [24, 32, 2, 40];
    const w = { ih: rand(4 * H * I, 0.8), hh: rand(4 * H * H, 0.8), bi: rand(4 * H), bh: rand(4 * H) };
    const x = rand(B * T * I, 2);
    const h0 = rand(B * H);
    const c0 = rand(B * H, 2);
    for (const mode of ['LSTM', 'GRU'] as const) {
      await setBackend('cpu');
      expect(hasFusedCell(mode)).toBe(false);
      const ref = run(mode, w, I, H, x, B, T, h0, c0);
      await setBackend('wasm');
      expect(hasFusedCell(mode)).toBe(true);
      const before = tf.memory().numTensors;
      const got = run(mode, w, I, H, x, B, T, h0, c0);
      expect(tf.memory().numTensors).toBe(before);
      for (const k of ['y', 'h', 'c'] as const) {
        const a = got[k];
        const b = ref[k];
        if (mode === 'GRU' && k === 'c') {
          expect(a).toBeUndefined();
          continue;
        }
        expect(a!.length).toBe(b!.length);
        let m = 0;
        for (let i = 0; i < a!.length; i++) m = Math.max(m, Math.abs(a![i] - b![i]));
        expect(m).toBeLessThan(2e-6);
      }
    }
  });
});
