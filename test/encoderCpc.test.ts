import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { EncoderCPC } from '../src/models/encoderCpc';
import { WeightStore } from '../src/weights/store';
import { buildFromManifest, readManifest } from '../src/weights/detweights';
import { compareArrays } from '../src/parity/compare';
import { caseInts, caseTensor } from '../src/parity/goldenCase';
import { goldenCase, goldenPath, goldenSignal } from './helpers/golden';

const store = (mode: string) => WeightStore.fromTensors(buildFromManifest(readManifest(goldenPath('weights', `cpc_${mode}_manifest.json`))));

beforeAll(async () => {
  await setBackend('wasm');
});

describe.each(['lstm', 'gru'])('EncoderCPC %s', (mode) => {
  let enc: EncoderCPC;
  beforeAll(() => {
    enc = EncoderCPC.load(store(mode), { arMode: mode.toUpperCase() as 'LSTM' | 'GRU' });
  });
  afterAll(() => enc.dispose());

  it.each(['short_mix', 'speech_en'])('offline %s matches golden', (sig) => {
    const c = goldenCase(`cpc_${mode}_offline_${sig}`);
    const ref = caseTensor(c, 'output');
    const y = enc.forward(goldenSignal(sig));
    const cmp = compareArrays(y.dataSync(), y.shape.slice(1), ref.data, ref.shape);
    y.dispose();
    console.log(`cpc_${mode}_offline_${sig}`, cmp);
    expect(cmp.shape_ok).toBe(true);
    expect(cmp.rel).toBeLessThanOrEqual(1e-4);
  });
});
