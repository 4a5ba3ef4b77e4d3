// Per-kernel wall time of full-size Mimi (12.5 Hz) on wasm: streaming steps (80 ms calls) or offline forwards of
// 10 s. Usage: node scripts/run-ts.mjs bench/profMimi.ts [threads] [runs] [stream|offline] [backend]
import { BackendName, setBackend } from '../src/backend';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { MIMI_CONFIG } from '../src/models/mimi/mimiConfig';
import { WeightStore } from '../src/weights/store';
import { buildFromManifest } from '../src/weights/detweights';
import { fullManifests } from '../src/bench/manifests';
import { benchSignal } from '../src/bench/bench';
import { profileKernels } from './profileKernels';

(async () => {
  const threads = Number(process.argv[2] ?? 1);
  const runs = Number(process.argv[3] ?? 50);
  const offline = process.argv[4] === 'offline';
  // A 5th argument names another backend (e.g. tensorflow; threads = TensorFlow's intra-op threads there).
  await setBackend((process.argv[5] ?? 'wasm') as BackendName, { threads });
  const enc = EncoderMimi.load(WeightStore.fromTensors(buildFromManifest(fullManifests().mimi)), { frameHz: 12.5, config: { ...MIMI_CONFIG } });
  const sig = benchSignal(10);
  if (offline) {
    enc.forward(sig).dispose();
    profileKernels(runs, () => enc.forward(sig));
    return;
  }
  const s = enc.stream();
  const win = (k: number) => sig.subarray((k * 1280) % 100000, ((k * 1280) % 100000) + 1600);
  // Past 125 steps the KV cache is full: the steady state.
  for (let i = 0; i < 150; i++) s.step(win(i)).dispose();
  profileKernels(runs, (i) => s.step(win(i + 150)));
})();
