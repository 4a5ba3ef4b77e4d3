/** MaAI's published VAP state dict layout (.pt): the same tensors and outputs as the manifests; clear errors. */
import { setBackend } from '../src/backend';
import { buildFromManifest, readManifest } from '../src/weights/detweights';
import { WeightStore } from '../src/weights/store';
import { RawTensor } from '../src/weights/types';
import { inspectVapCheckpoint, vapConfigFor } from '../src/models/vap/vapConfig';
import { VapGPT } from '../src/models/vap/vapModel';
import { VapEncoder } from '../src/models/vap/vapEncoder';
import { buildVap, openVapWeights } from '../src/pipeline/buildVap';
import { runParity } from '../src/parity/runCase';
import { registerVapParity } from '../src/parity/vapRunners';
import { goldenVapCase, goldenVapPath } from './helpers/goldenVap';

beforeAll(async () => {
  await setBackend('wasm');
  registerVapParity();
});

const PT = { cpc: 'vap_cpc_state_dict.pt', mimi: 'vap_mimi_tiny_state_dict.pt' };
const MANIFEST = { cpc: 'vap_cpc_manifest.json', mimi: 'vap_mimi_tiny_manifest.json' };

describe.each(['cpc', 'mimi'] as const)('%s state dict', (kind) => {
  let pt: WeightStore;
  beforeAll(async () => {
    pt = await openVapWeights(goldenVapPath('pt', PT[kind]));
  });

  test('holds every manifest tensor bit for bit', () => {
    const m = buildFromManifest(readManifest(goldenVapPath('weights', MANIFEST[kind])));
    for (const [name, t] of m) {
      expect(pt.shapeOf(name)).toEqual(t.shape);
      const a = pt.getArray(name);
      const b = t.data as Float32Array;
      const diff = a.findIndex((v, i) => v !== b[i]);
      if (diff >= 0) throw new Error(`${name}[${diff}]: ${a[diff]} vs ${b[diff]}`);
    }
  });

  test('inspect reads the configuration', () => {
    const info = inspectVapCheckpoint(pt);
    expect(info).toMatchObject({ encoder: kind, dim: 256, channelLayers: 1, crossLayers: 3, numHeads: 4, ffnDim: 768 });
    if (kind === 'cpc') expect(info).toMatchObject({ downsampleKernel: 10, frameHz: 10 });
    else expect(info).toMatchObject({ encoderDim: 64 });
  });
});

test('the .pt files alone (encoder read from the state dict) pass the golden cases', async () => {
  for (const [kind, name] of [['cpc', 'vap_cpc_offline_duo_short'], ['mimi', 'vap_mimi_tiny_stream_duo_short']] as const) {
    const pt = await openVapWeights(goldenVapPath('pt', PT[kind]));
    const r = await runParity(goldenVapCase(name), { weights: pt, signalsDir: goldenVapPath('signals') });
    expect({ name, pass: r.pass, emitted_ok: r.emitted_ok }).toEqual({ name, pass: true, emitted_ok: true });
    expect(r.rel).toBeLessThanOrEqual(1e-4);
  }
});

test('buildVap takes the config from the checkpoint; missing and misshaped tensors are errors naming them', async () => {
  const built = await buildVap({ weights: goldenVapPath('pt', PT.cpc), contextLenSec: 3 });
  expect(built.model.config).toMatchObject({ frameHz: 10, contextLimit: 30 });
  expect(built.encoder.encoder.outputDim).toBe(256);
  built.model.dispose();
  built.encoder.dispose();

  const base = buildFromManifest(readManifest(goldenVapPath('weights', MANIFEST.cpc)));
  const cfg = vapConfigFor(inspectVapCheckpoint(WeightStore.fromTensors(base)), 10, 3);
  const without = new Map(base);
  without.delete('ar.layers.1.mha_cross.value.weight');
  expect(() => VapGPT.load(WeightStore.fromTensors(without, 'x.json'), cfg)).toThrow('x.json: missing tensor "ar.layers.1.mha_cross.value.weight"');
  const bad = new Map(base);
  bad.set('ar.layers.0.ffnetwork.0.weight', { dtype: 'F32', shape: [768, 128], data: new Float32Array(768 * 128) } as RawTensor);
  expect(() => VapGPT.load(WeightStore.fromTensors(bad, 'y.json'), cfg)).toThrow('y.json: tensor "ar.layers.0.ffnetwork.0.weight" has shape [768,128], expected [768,256]');
  const codebook = new Map(base);
  codebook.set('objective.codebook.emb.weight', { dtype: 'F32', shape: [256, 8], data: new Float32Array(256 * 8) } as RawTensor);
  expect(() => VapGPT.load(WeightStore.fromTensors(codebook, 'z.json'), cfg)).toThrow(/z.json: "objective.codebook.emb.weight" row 1 is not the bits of its index/);
  // No CPC encoder in a manifest without encoder weights: the error names the tensor.
  expect(() => VapEncoder.load('cpc', WeightStore.fromTensors(base, 'v.json'), null)).toThrow(/missing tensor "encoder.gEncoder/);
  await expect(buildVap({ weights: WeightStore.fromTensors(base), encoder: 'mimi' })).rejects.toThrow(/a cpc VAP checkpoint, but the encoder asked for is mimi/);
});
