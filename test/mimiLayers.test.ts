import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { SeanetEncoder } from '../src/models/mimi/seanet';
import { MIMI_CONFIG, MIMI_TINY_OVERRIDES, mimiConfig } from '../src/models/mimi/mimiConfig';
import { WeightStore } from '../src/weights/store';
import { buildFromManifest, readManifest } from '../src/weights/detweights';
import { compareArrays } from '../src/parity/compare';
import { caseTensor } from '../src/parity/goldenCase';
import { goldenCase, goldenPath } from './helpers/golden';

beforeAll(async () => {
  await setBackend('wasm');
});

const configs = { tiny: mimiConfig(MIMI_TINY_OVERRIDES), full: mimiConfig({ ...MIMI_CONFIG }) };

describe.each(['tiny', 'full'] as const)('Mimi %s layers vs core intermediates', (size) => {
  const store = WeightStore.fromTensors(buildFromManifest(readManifest(goldenPath('weights', `mimi_${size}_manifest.json`))));
  const c = goldenCase(`mimi_${size}_core_intermediates`);
  const input = caseTensor(c, 'input_24k');

  it('SEANet offline matches seanet_out', () => {
    const enc = SeanetEncoder.load(store, configs[size]);
    const ref = caseTensor(c, 'seanet_out'); // [C, T]
    const y = tf.tidy(() => tf.transpose(tf.squeeze(enc.forward(tf.tensor3d(input.data, [1, input.data.length, 1])), [0])));
    const cmp = compareArrays(y.dataSync(), y.shape, ref.data, ref.shape);
    y.dispose();
    console.log(size, 'seanet', cmp);
    expect(cmp.shape_ok).toBe(true);
    expect(cmp.rel).toBeLessThanOrEqual(1e-4);
  });
});

import { MimiTransformer } from '../src/models/mimi/transformer';
describe.each(['tiny', 'full'] as const)('Mimi %s transformer', (size) => {
  const store = WeightStore.fromTensors(buildFromManifest(readManifest(goldenPath('weights', `mimi_${size}_manifest.json`))));
  const c = goldenCase(`mimi_${size}_core_intermediates`);
  it('offline matches transformer_out given seanet_out', () => {
    const tr = MimiTransformer.load(store, configs[size]);
    const s = caseTensor(c, 'seanet_out');
    const ref = caseTensor(c, 'transformer_out');
    const y = tf.tidy(() => tf.squeeze(tr.forward(tf.expandDims(tf.transpose(tf.tensor2d(s.data, s.shape as [number, number])), 0) as tf.Tensor3D), [0]));
    const cmp = compareArrays(y.dataSync(), y.shape, ref.data, ref.shape);
    y.dispose();
    console.log(size, 'transformer', cmp);
    expect(cmp.shape_ok).toBe(true);
    expect(cmp.rel).toBeLessThanOrEqual(1e-4);
  });
});
