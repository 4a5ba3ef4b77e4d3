import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setBackend } from '../src/backend';
import { buildFromManifest, detweightsTensor, readManifest } from '../src/weights/detweights';
import { SafetensorsFile, writeSafetensors } from '../src/weights/safetensors';
import { WeightError, WeightStore, openWeights } from '../src/weights/store';
import { FormatError, RawTensor } from '../src/weights/types';
import { goldenPath } from './helpers/golden';

beforeAll(async () => {
  await setBackend('wasm');
});

function tensors(): Map<string, RawTensor> {
  return new Map<string, RawTensor>([
    ['conv.weight', { dtype: 'F32', shape: [2, 1, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }],
    ['conv.bias', { dtype: 'F32', shape: [2], data: new Float32Array([-1, 0.5]) }],
    ['half', { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x0001]) }],
    ['bhalf', { dtype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0x4049]) }],
    ['double', { dtype: 'F64', shape: [1, 2], data: new Float64Array([Math.PI, -2]) }],
    ['steps', { dtype: 'I64', shape: [], data: new BigInt64Array([60000n]) }],
    ['mask', { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) }],
    ['idx', { dtype: 'I32', shape: [2], data: new Int32Array([1, 2]) }],
  ]);
}

describe('WeightStore', () => {
  it('get with the right shape gives a float32 tfjs tensor of the values', () => {
    const store = WeightStore.fromTensors(tensors(), 'w');
    const before = tf.memory().numTensors;
    const t = store.get('conv.weight', [2, 1, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 1, 3]);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tf.memory().numTensors).toBe(before + 1); // the caller owns exactly one tensor
    t.dispose();
    // Without an expected shape: the stored shape.
    const b = store.get('conv.bias');
    expect(b.shape).toEqual([2]);
    b.dispose();
    expect(Array.from(store.getArray('conv.bias', [2]))).toEqual([-1, 0.5]);
    expect(store.shapeOf('conv.weight')).toEqual([2, 1, 3]);
    expect(store.has('conv.weight')).toBe(true);
    expect(store.has('nope')).toBe(false);
    expect(store.names).toEqual([...tensors().keys()]);
    expect(store.label).toBe('w');
  });

  it('shapeOf returns a copy', () => {
    const store = WeightStore.fromTensors(tensors());
    store.shapeOf('conv.bias').push(7);
    expect(store.shapeOf('conv.bias')).toEqual([2]);
  });

  it('widens F16, BF16 and F64 to float32', () => {
    const store = WeightStore.fromTensors(tensors());
    expect(Array.from(store.getArray('half', [3]))).toEqual([1, -2, 2 ** -24]);
    expect(Array.from(store.getArray('bhalf'))).toEqual([1, 3.140625]);
    const d = store.get('double', [1, 2]);
    expect(Array.from(d.dataSync())).toEqual([Math.fround(Math.PI), -2]);
    d.dispose();
  });

  it('wrong shape: WeightError naming the tensor and both shapes (rank and size mismatches)', () => {
    const store = WeightStore.fromTensors(tensors(), 'mystore');
    const cases: Array<[readonly number[], string]> = [
      [[2, 3], 'expected [2,3]'],
      [[2, 1, 4], 'expected [2,1,4]'],
      [[3, 1, 2], 'expected [3,1,2]'],
      [[2, 1, 3, 1], 'expected [2,1,3,1]'],
      [[], 'expected []'],
    ];
    for (const [exp, text] of cases) {
      let err: unknown;
      try {
        store.get('conv.weight', exp);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WeightError);
      expect((err as Error).name).toBe('WeightError');
      expect((err as Error).message).toBe(`mystore: tensor "conv.weight" has shape [2,1,3], ${text}`);
    }
    expect(() => store.getArray('conv.bias', [3])).toThrow('tensor "conv.bias" has shape [2], expected [3]');
    // Failed requests do not count as uses.
    expect(store.unused()).toContain('conv.weight');
  });

  it('missing name: WeightError naming the tensor', () => {
    const store = WeightStore.fromTensors(tensors(), 'mystore');
    for (const f of [() => store.get('encoder.nope'), () => store.getArray('encoder.nope', [1]), () => store.shapeOf('encoder.nope')]) {
      expect(f).toThrow(WeightError);
      expect(f).toThrow('mystore: missing tensor "encoder.nope"');
    }
  });

  it('non-float dtypes are refused with a WeightError naming tensor and dtype', () => {
    const store = WeightStore.fromTensors(tensors(), 's');
    for (const [name, dt, shape] of [['steps', 'I64', []], ['mask', 'BOOL', [2]], ['idx', 'I32', [2]]] as const) {
      expect(() => store.get(name, shape)).toThrow(WeightError);
      expect(() => store.getArray(name)).toThrow(`s: tensor "${name}" has dtype ${dt}, expected a float type`);
    }
    expect(store.unused()).toEqual(expect.arrayContaining(['steps', 'mask', 'idx']));
  });

  it('unused() lists what was never requested, in store order', () => {
    const store = WeightStore.fromTensors(tensors());
    expect(store.unused()).toEqual([...tensors().keys()]);
    store.get('conv.bias').dispose();
    store.getArray('half');
    store.getArray('half'); // twice is fine
    expect(store.unused()).toEqual(['conv.weight', 'bhalf', 'double', 'steps', 'mask', 'idx']);
    store.shapeOf('conv.weight'); // looking at the shape is not a use
    expect(store.unused()).toContain('conv.weight');
    for (const n of ['conv.weight', 'bhalf', 'double']) store.getArray(n);
    expect(store.unused()).toEqual(['steps', 'mask', 'idx']);
  });

  it('fromSafetensors reads lazily and checks shapes from the header', () => {
    const bytes = writeSafetensors(tensors());
    const store = WeightStore.fromSafetensors(SafetensorsFile.fromBytes(bytes), 'st');
    expect(store.names).toEqual([...tensors().keys()]);
    expect(store.shapeOf('double')).toEqual([1, 2]);
    expect(() => store.get('conv.weight', [6])).toThrow('st: tensor "conv.weight" has shape [2,1,3], expected [6]');
    expect(() => store.get('mask')).toThrow('has dtype BOOL');
    expect(Array.from(store.getArray('half'))).toEqual([1, -2, 2 ** -24]);
    expect(store.unused()).not.toContain('half');
  });
});

describe('openWeights', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens a detweights manifest (.json)', async () => {
    const p = goldenPath('weights', 'mimi_tiny_manifest.json');
    const store = await openWeights(p);
    const man = readManifest(p);
    expect(store.label).toBe(p);
    expect(store.names).toEqual(Object.keys(man));
    const e = man['encoder.layers.0.conv.weight'];
    const t = store.get('encoder.layers.0.conv.weight', [8, 1, 7]);
    expect(Array.from(t.dataSync())).toEqual(Array.from(detweightsTensor('encoder.layers.0.conv.weight', e.shape, e.scale, e.offset)));
    t.dispose();
    expect(store.unused().length).toBe(Object.keys(man).length - 1);
  });

  it('opens the golden .safetensors with the same values as the manifest', async () => {
    const p = goldenPath('weights', 'mimi_tiny_weights.safetensors');
    const store = await openWeights(p);
    expect(store.label).toBe(p);
    const built = buildFromManifest(readManifest(goldenPath('weights', 'mimi_tiny_manifest.json')));
    expect([...store.names].sort()).toEqual([...built.keys()].sort());
    for (const name of ['downsample.conv.weight', 'frame_rate_conv.weight', 'encoder.layers.0.conv.bias']) {
      const ref = built.get(name)!;
      expect(store.shapeOf(name)).toEqual(ref.shape);
      expect(Buffer.from(store.getArray(name, ref.shape).buffer).equals(Buffer.from((ref.data as Float32Array).buffer))).toBe(true);
    }
  });

  it('opens a written .safetensors file (upper-case extension too)', async () => {
    const p = path.join(dir, 'W.SAFETENSORS');
    fs.writeFileSync(p, writeSafetensors(tensors(), { format: 'pt' }));
    const store = await openWeights(p);
    expect(store.names).toEqual([...tensors().keys()]);
    expect(Array.from(store.getArray('conv.weight', [2, 1, 3]))).toEqual([1, 2, 3, 4, 5, 6]);
    const pj = path.join(dir, 'm.JSON');
    fs.writeFileSync(pj, JSON.stringify({ a: { shape: [6], scale: 1, offset: 0 } }));
    expect(Array.from((await openWeights(pj)).getArray('a', [6]))).toEqual([-0.79296875, -0.03125, 0.63134765625, 0.72314453125, 0.8740234375, -0.1123046875]);
  });

  it('opens a PyTorch state dict (.pt) equal to its manifest', async () => {
    const store = await openWeights(goldenPath('pt', 'encoder_cpc_state_dict.pt'));
    const built = buildFromManifest(readManifest(goldenPath('weights', 'cpc_lstm_manifest.json')));
    expect([...store.names].sort()).toEqual([...built.keys()].sort());
    for (const name of ['encoder.gEncoder.conv0.weight', 'encoder.gAR.baseNet.weight_ih_l0', 'downsample.1.weight']) {
      const ref = built.get(name)!;
      expect(Buffer.from(store.getArray(name, ref.shape).buffer).equals(Buffer.from((ref.data as Float32Array).buffer))).toBe(true);
    }
  });

  it('applies a name map to a .safetensors file and closes it', async () => {
    const p = path.join(dir, 'mapped.safetensors');
    fs.writeFileSync(p, writeSafetensors(tensors()));
    const openFds = () => (fs.existsSync('/proc/self/fd') ? fs.readdirSync('/proc/self/fd').length : 0);
    const before = openFds();
    const store = await openWeights(p, { nameMap: { select: 'conv.', strip: ['conv.'], add: 'enc.' } });
    expect(openFds()).toBe(before); // every tensor was read, so nothing keeps the file open
    expect(store.names).toEqual(['enc.weight', 'enc.bias']);
    expect(Array.from(store.getArray('enc.bias', [2]))).toEqual([-1, 0.5]);
    expect(store.unused()).toEqual(['enc.weight']);
  });

  it('missing file: WeightError naming the path', async () => {
    const p = path.join(dir, 'nope.safetensors');
    await expect(openWeights(p)).rejects.toBeInstanceOf(WeightError);
    await expect(openWeights(p)).rejects.toThrow(`weights file not found: ${p}`);
    await expect(openWeights(path.join(dir, 'nope.json'))).rejects.toThrow(/weights file not found/);
  });

  it('bad files: FormatError naming the path', async () => {
    const ps = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(ps, new Uint8Array(4));
    await expect(openWeights(ps)).rejects.toBeInstanceOf(FormatError);
    await expect(openWeights(ps)).rejects.toThrow(`${ps}: safetensors: file is 4 bytes`);
    const pj = path.join(dir, 'bad.json');
    fs.writeFileSync(pj, '[1, 2]');
    await expect(openWeights(pj)).rejects.toThrow(`${pj}: must be a JSON object`);
  });
});
