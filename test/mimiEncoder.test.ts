import { setBackend } from '../src/backend';
import { runParity } from '../src/parity/runCase';
import { registerMimiParity } from '../src/parity/mimiRunners';
import { loadCase } from '../src/parity/goldenCase';
import { openWeights, WeightStore } from '../src/weights/store';
import { goldenPath } from './helpers/golden';

beforeAll(async () => {
  await setBackend('wasm');
  registerMimiParity();
});

const stores: Record<string, WeightStore> = {};
async function weights(size: string): Promise<WeightStore> {
  stores[size] ??= await openWeights(
    size === 'tiny' ? goldenPath('weights', 'mimi_tiny_weights.safetensors') : goldenPath('weights', 'mimi_full_manifest.json'),
  );
  return stores[size];
}

const sizes = (process.env.MIMI_SIZES ?? 'tiny,full').split(',');
const cases: Array<[string, string]> = [];
for (const size of sizes) {
  for (const path of ['offline', 'stream']) {
    for (const hz of ['10p0hz', '12p5hz']) {
      for (const sig of ['short_mix', 'speech_en']) cases.push([`mimi_${size}_${path}_${hz}_${sig}`, size]);
    }
  }
}

describe('EncoderMimi golden parity (wasm)', () => {
  it.each(cases)('%s', async (name, size) => {
    const r = await runParity(loadCase(goldenPath('cases', `${name}.safetensors`)), {
      weights: await weights(size),
      signalsDir: goldenPath('signals'),
    });
    console.log(JSON.stringify(r));
    expect(r.shape_ok).toBe(true);
    expect(r.emitted_ok).toBe(true);
    expect(r.rel).toBeLessThanOrEqual(1e-4);
    expect(r.pass).toBe(true);
  });
});
