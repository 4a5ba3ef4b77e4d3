import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { EncoderCPC } from '../src/models/encoderCpc';
import { WeightStore } from '../src/weights/store';
import { buildFromManifest, readManifest } from '../src/weights/detweights';

(async () => {
  await setBackend((process.argv[2] as 'wasm') ?? 'wasm');
  const enc = EncoderCPC.load(WeightStore.fromTensors(buildFromManifest(readManifest('test/fixtures/golden/weights/cpc_lstm_manifest.json'))));
  const win = new Float32Array(1920).map((_, i) => Math.sin(i / 7) * 0.1);
  const s = enc.stream();
  for (let i = 0; i < 20; i++) s.step(win).dispose();
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) s.step(win).dataSync();
  console.log('step ms', (performance.now() - t0) / 100);
  const x = tf.tensor3d(win, [1, 1920, 1]);
  let t = performance.now();
  for (let i = 0; i < 100; i++) { const z = enc.gEncoder.forward(x); z.dataSync(); z.dispose(); }
  console.log('gEncoder ms', (performance.now() - t) / 100);
  const z = tf.zeros([1, 10, 256]) as tf.Tensor3D;
  t = performance.now();
  for (let i = 0; i < 100; i++) { const r = enc.gAR.baseNet.forward(z, null); r.y.dataSync(); tf.dispose([r.y, r.state.h, r.state.c!]); }
  console.log('lstm 10 steps ms', (performance.now() - t) / 100);
  const prof = await tf.profile(() => { const r = s.step(win); r.dataSync(); r.dispose(); });
  const agg: Record<string, [number, number]> = {};
  for (const k of prof.kernels) { const a = (agg[k.name] ??= [0, 0]); a[0]++; a[1] += k.kernelTimeMs as number; }
  console.log(Object.entries(agg).sort((a, b) => b[1][1] - a[1][1]).slice(0, 15));
})();
