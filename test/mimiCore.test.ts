import { setBackend } from '../src/backend';
import { runParity } from '../src/parity/runCase';
import { registerMimiParity } from '../src/parity/mimiRunners';
import { loadCase } from '../src/parity/goldenCase';
import { openWeights } from '../src/weights/store';
import { goldenPath } from './helpers/golden';

beforeAll(async () => {
  await setBackend('wasm');
  registerMimiParity();
});

const weights = (size: string) =>
  size === 'tiny' ? openWeights(goldenPath('weights', 'mimi_tiny_weights.safetensors')) : openWeights(goldenPath('weights', 'mimi_full_manifest.json'));

describe('Mimi core parity', () => {
  it.each([
    ['cases', 'mimi_tiny_core_intermediates', 'tiny'],
    ['cases', 'mimi_full_core_intermediates', 'full'],
    ['onnx', 'mimi_tiny_core_2s', 'tiny'],
    ['onnx', 'mimi_full_core_10s', 'full'],
  ])('%s/%s', async (dir, name, size) => {
    const r = await runParity(loadCase(goldenPath(dir, `${name}.safetensors`)), { weights: await weights(size) });
    console.log(name, JSON.stringify(r));
    expect(r.shape_ok).toBe(true);
    for (const p of Object.values(r.parts!)) expect(p.rel).toBeLessThanOrEqual(1e-4);
    expect(r.pass).toBe(true);
  });
});
