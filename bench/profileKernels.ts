// Times every tfjs kernel call of `steps` runs of `run` (wall time per runKernel: exact on synchronous backends
// such as wasm and cpu) and prints totals per kernel and per kernel+input shapes, per run. Each run's output is
// read back (dataSync) and disposed.
import * as tf from '@tensorflow/tfjs-core';

export function profileKernels(steps: number, run: (i: number) => tf.Tensor, top = 40): void {
  const eng = tf.engine() as unknown as { runKernel: (n: string, i: Record<string, tf.Tensor>, a: object) => unknown };
  const orig = eng.runKernel.bind(eng);
  const agg = new Map<string, { n: number; ms: number }>();
  eng.runKernel = (name, inputs, attrs) => {
    const t0 = performance.now();
    const r = orig(name, inputs, attrs);
    const dt = performance.now() - t0;
    const key = `${name} ${Object.values(inputs).filter((t) => t != null).map((t) => (t as tf.Tensor).shape.join('x')).join(',')}`;
    const a = agg.get(key) ?? { n: 0, ms: 0 };
    a.n++;
    a.ms += dt;
    agg.set(key, a);
    return r;
  };
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const y = run(i);
    y.dataSync();
    y.dispose();
  }
  const total = (performance.now() - t0) / steps;
  eng.runKernel = orig;
  const rows = [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const byKernel = new Map<string, number>();
  let kernSum = 0;
  for (const [k, v] of rows) {
    const n = k.split(' ')[0];
    byKernel.set(n, (byKernel.get(n) ?? 0) + v.ms / steps);
    kernSum += v.ms / steps;
  }
  console.log(`per run ${total.toFixed(2)} ms, in kernels ${kernSum.toFixed(2)} ms, kernel calls ${rows.reduce((s, r) => s + r[1].n, 0) / steps}`);
  console.log([...byKernel.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.padEnd(14)} ${v.toFixed(3)} ms`).join('\n'));
  console.log('--- by input shapes');
  for (const [k, v] of rows.slice(0, top)) console.log(`${(v.ms / steps).toFixed(3)} ms  x${v.n / steps}  ${k}`);
}
