// Per-kernel wall time of full-size CPC on wasm (kernels are synchronous there, so the wall time of each
// runKernel call is the kernel's): streaming steps (100 ms calls) or offline forwards of 10 s.
// Usage: node scripts/run-ts.mjs bench/profCpc.ts [threads] [runs] [stream|offline] [backend]
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, setBackend } from '../src/backend';
import { EncoderCPC } from '../src/models/cpc/encoderCpc';
import { WeightStore } from '../src/weights/store';
import { buildFromManifest } from '../src/weights/detweights';
import { fullManifests } from '../src/bench/manifests';
import { benchSignal } from '../src/bench/bench';
import { profileKernels } from './profileKernels';

(async () => {
  const threads = Number(process.argv[2] ?? 1);
  const steps = Number(process.argv[3] ?? 100);
  // A 5th argument names another backend (e.g. tensorflow; threads = TensorFlow's intra-op threads there).
  await setBackend((process.argv[5] ?? 'wasm') as BackendName, { threads });
  const enc = EncoderCPC.load(WeightStore.fromTensors(buildFromManifest(fullManifests().cpc)));
  const sig = benchSignal(10);
  const win = (k: number) => sig.subarray((k * 1600) % 100000, ((k * 1600) % 100000) + 1920);
  if (process.argv[4] === 'offline') {
    enc.forward(sig).dispose();
    profileKernels(steps, () => enc.forward(sig));
    return;
  }
  const s = enc.stream();
  for (let i = 0; i < 20; i++) s.step(win(i)).dispose();
  profileKernels(steps, (i) => s.step(win(i + 20)));
})();
