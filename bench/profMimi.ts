// Per-kernel wall time of a full-size Mimi streaming step (wasm kernels are synchronous, so wall time per
// runKernel call is the kernel's time). Usage: node scripts/run-ts.mjs bench/profMimi.ts [threads] [steps]
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { EncoderMimi } from '../src/models/encoderMimi';
import { MIMI_CONFIG } from '../src/models/mimiConfig';
import { WeightStore } from '../src/weights/store';
import { buildFromManifest } from '../src/weights/detweights';
import { fullManifests } from '../src/bench/manifests';
import { benchSignal } from '../src/bench/bench';

(async () => {
  const threads = Number(process.argv[2] ?? 1);
  const steps = Number(process.argv[3] ?? 50);
  await setBackend('wasm', { threads });
  const enc = EncoderMimi.load(WeightStore.fromTensors(buildFromManifest(fullManifests().mimi)), { frameHz: 12.5, config: { ...MIMI_CONFIG } });
  const sig = benchSignal(10);
  const s = enc.stream();
  const win = (k: number) => sig.subarray((k * 1280) % 100000, ((k * 1280) % 100000) + 1600);
  for (let i = 0; i < 20; i++) s.step(win(i)).dispose();
  const eng = tf.engine() as unknown as { runKernel: (n: string, i: Record<string, tf.Tensor>, a: object) => unknown };
  const orig = eng.runKernel.bind(eng);
  const agg = new Map<string, { n: number; ms: number }>();
  let on = false;
  eng.runKernel = (name, inputs, attrs) => {
    if (!on) return orig(name, inputs, attrs);
    const t0 = performance.now();
    const r = orig(name, inputs, attrs);
    const dt = performance.now() - t0;
    const key = `${name} ${Object.values(inputs).map((t) => (t as tf.Tensor).shape.join('x')).join(',')}`;
    const a = agg.get(key) ?? { n: 0, ms: 0 };
    a.n++;
    a.ms += dt;
    agg.set(key, a);
    return r;
  };
  on = true;
  const offline = process.argv[4] === 'offline';
  if (offline) enc.forward(sig).dispose();
  const t0 = performance.now();
  if (offline) for (let i = 0; i < steps; i++) { const y = enc.forward(sig); y.dataSync(); y.dispose(); }
  else for (let i = 0; i < steps; i++) { const y = s.step(win(i + 20)); y.dataSync(); y.dispose(); }
  const total = (performance.now() - t0) / steps;
  on = false;
  const rows = [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const byKernel = new Map<string, number>();
  let kernSum = 0;
  for (const [k, v] of rows) { const n = k.split(' ')[0]; byKernel.set(n, (byKernel.get(n) ?? 0) + v.ms / steps); kernSum += v.ms / steps; }
  console.log(`step ${total.toFixed(2)} ms, kernels ${kernSum.toFixed(2)} ms, calls/step ${rows.reduce((s, r) => s + r[1].n, 0) / steps}`);
  console.log([...byKernel.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('\n'));
  console.log('--- top shapes');
  for (const [k, v] of rows.slice(0, 40)) console.log(`${(v.ms / steps).toFixed(3)} ms  x${v.n / steps}  ${k}`);
})();
