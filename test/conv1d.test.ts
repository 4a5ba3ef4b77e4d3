import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { Conv1d } from '../src/layers/conv1d';

/** nn.Conv1d on host arrays, float64: x [T, Cin] channels-last, w [out, in/g, k]. */
function refConv(x: Float32Array, T: number, cin: number, w: Float32Array, b: Float32Array | null, o: { out: number; k: number; stride: number; pad: number; dil: number; g: number }): { y: Float64Array; T: number } {
  const ig = cin / o.g;
  const og = o.out / o.g;
  const To = Math.floor((T + 2 * o.pad - (o.k - 1) * o.dil - 1) / o.stride) + 1;
  const y = new Float64Array(To * o.out);
  for (let t = 0; t < To; t++)
    for (let co = 0; co < o.out; co++) {
      const grp = Math.floor(co / og);
      let s = b ? b[co] : 0;
      for (let ci = 0; ci < ig; ci++)
        for (let j = 0; j < o.k; j++) {
          const ti = t * o.stride - o.pad + j * o.dil;
          if (ti >= 0 && ti < T) s += x[ti * cin + grp * ig + ci] * w[(co * ig + ci) * o.k + j];
        }
      y[t * o.out + co] = s;
    }
  return { y, T: To };
}

describe('Conv1d (fused conv2d, bias inside the kernel)', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`matches nn.Conv1d for padding, stride, dilation, groups and bias (${backend})`, async () => {
      await setBackend(backend);
      let seed = 11;
      const rand = (n: number) => Float32Array.from({ length: n }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5));
      const cases = [
        { cin: 4, out: 6, k: 3, stride: 1, pad: 1, dil: 1, g: 1, bias: true, T: 17 },
        { cin: 4, out: 6, k: 4, stride: 2, pad: 0, dil: 1, g: 1, bias: false, T: 16 },
        { cin: 6, out: 4, k: 3, stride: 1, pad: 2, dil: 2, g: 2, bias: true, T: 9 },
        { cin: 4, out: 8, k: 5, stride: 3, pad: 2, dil: 1, g: 4, bias: false, T: 20 },
      ];
      for (const c of cases) {
        const x = rand(c.T * c.cin);
        const w = rand(c.out * (c.cin / c.g) * c.k);
        const b = c.bias ? rand(c.out) : null;
        const conv = new Conv1d(
          { inChannels: c.cin, outChannels: c.out, kernelSize: c.k, stride: c.stride, padding: c.pad, dilation: c.dil, groups: c.g, bias: c.bias },
          tf.tensor3d(w, [c.out, c.cin / c.g, c.k]),
          b ? tf.tensor1d(b) : null,
        );
        const xt = tf.tensor3d(x, [1, c.T, c.cin]);
        const y = conv.forward(xt);
        const ref = refConv(x, c.T, c.cin, w, b, c);
        expect(y.shape).toEqual([1, ref.T, c.out]);
        expect(conv.outputLength(c.T)).toBe(ref.T);
        const got = y.dataSync();
        for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - ref.y[i])).toBeLessThan(1e-5);
        tf.dispose([xt, y, ...conv.variables()]);
      }
    });
  }
});
