import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setBackend } from '../src/backend';
import { loadTorchStateDict, readTorchPickle, TorchTensor } from '../src/weights/torchCheckpoint';
import { CPC_CHECKPOINT_NAME_MAP, VAP_ENCODER_NAME_MAP, applyNameMap, mapName, parseRename } from '../src/weights/nameMap';
import { detweightsTensor, readManifest } from '../src/weights/detweights';
import { SafetensorsFile } from '../src/weights/safetensors';
import { WeightStore, openWeights } from '../src/weights/store';
import { FormatError, RawTensor, f16ToF32, numel, toFloat32 } from '../src/weights/types';
import { runParity } from '../src/parity/runCase';
import { convert } from '../src/cli/commands/convert';
import { UsageError } from '../src/cli/args';
import { goldenCase, goldenPath } from './helpers/golden';
import { TensorSpec, ascii, f32bytes, ints, legacyFile, op, stateDictPickle, zipFile } from './helpers/ptBuild';

const ptPath = (name: string) => goldenPath('pt', name);
const readPt = (name: string) => new Uint8Array(fs.readFileSync(ptPath(name)));

/** Rounds a float to the nearest float16 value (ties to even), returned as a number. */
function roundToF16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const q = 2 ** (Math.max(e, -14) - 10); // spacing of float16 values around a
  const r = a / q;
  let n = Math.floor(r);
  const frac = r - n;
  if (frac > 0.5 || (frac === 0.5 && n % 2 === 1)) n++;
  const v = n * q;
  return Math.sign(x) * (v > 65504 ? Infinity : v);
}

function expectTensorEquals(name: string, got: RawTensor | undefined, shape: number[], want: Float32Array, f16 = false): void {
  expect(got).toBeDefined();
  expect([name, got!.shape]).toEqual([name, shape]);
  expect([name, got!.dtype]).toEqual([name, f16 ? 'F16' : 'F32']);
  const g = toFloat32(got!);
  let bad = -1;
  for (let i = 0; i < want.length; i++) {
    const w = f16 ? roundToF16(want[i]) : want[i];
    if (g[i] !== w) {
      bad = i;
      break;
    }
  }
  expect([name, bad, bad >= 0 ? [g[bad], want[bad]] : null]).toEqual([name, -1, null]);
}

// ----------------------------------------------------------------------------------------------------------------
// Hand-made pickles and containers (test/helpers/ptBuild.ts)

const FORBIDDEN = new Uint8Array([
  ...[0x80, 0x02], ...ascii('cos\nsystem\n'), 0x71, 0x00, 0x58, 0x02, 0x00, 0x00, 0x00, ...ascii('ls'), 0x71, 0x01, 0x85, 0x71, 0x02, 0x52, 0x71, 0x03, 0x2e,
]);

// ----------------------------------------------------------------------------------------------------------------

describe('golden .pt files equal the detweights manifests', () => {
  const cpc = readManifest(goldenPath('weights', 'cpc_lstm_manifest.json'));

  it('cpc_lstm_checkpoint.pt (zip): weights.* = the manifest minus "encoder.", config and epoch kept', () => {
    const { format, root } = readTorchPickle(readPt('cpc_lstm_checkpoint.pt'));
    expect(format).toBe('zip');
    expect(root).toBeInstanceOf(Map);
    const top = root as Map<unknown, unknown>;
    expect([...top.keys()]).toEqual(['weights', 'config', 'epoch']);
    expect(top.get('epoch')).toBe(4);
    expect(Object.fromEntries(top.get('config') as Map<string, unknown>)).toEqual({ hiddenEncoder: 256, hiddenGar: 256, arMode: 'LSTM' });

    const sd = loadTorchStateDict(readPt('cpc_lstm_checkpoint.pt'));
    const expected = Object.entries(cpc).filter(([n]) => n.startsWith('encoder.'));
    expect([...sd.keys()].sort()).toEqual(expected.map(([n]) => 'weights.' + n.slice('encoder.'.length)).sort());
    for (const [name, e] of expected) {
      expectTensorEquals(name, sd.get('weights.' + name.slice('encoder.'.length)), e.shape, detweightsTensor(name, e.shape, e.scale, e.offset));
    }
  });

  it('encoder_cpc_state_dict.pt (zip, OrderedDict with _metadata) = cpc_lstm_manifest.json', () => {
    const sd = loadTorchStateDict(readPt('encoder_cpc_state_dict.pt'));
    expect([...sd.keys()]).toEqual(Object.keys(cpc));
    for (const [name, e] of Object.entries(cpc)) expectTensorEquals(name, sd.get(name), e.shape, detweightsTensor(name, e.shape, e.scale, e.offset));
  });

  it('mimi_tiny_state_dict_legacy.pt (legacy) = mimi_tiny_weights.safetensors, encoder_transformer.* rounded to float16', () => {
    const { format } = readTorchPickle(readPt('mimi_tiny_state_dict_legacy.pt'));
    expect(format).toBe('legacy');
    const sd = loadTorchStateDict(readPt('mimi_tiny_state_dict_legacy.pt'));
    const ref = SafetensorsFile.open(goldenPath('weights', 'mimi_tiny_weights.safetensors'));
    try {
      expect([...sd.keys()].sort()).toEqual([...ref.names].sort());
      let f16 = 0;
      for (const name of ref.names) {
        const r = ref.get(name);
        const half = name.startsWith('encoder_transformer.');
        if (half) f16++;
        expectTensorEquals(name, sd.get(name), r.shape, toFloat32(r), half);
      }
      expect(f16).toBeGreaterThan(0);
    } finally {
      ref.close();
    }
  });

  it('the float16 rounding helper agrees with f16ToF32 on every half value', () => {
    for (let h = 0; h < 0x7c00; h += 7) {
      const v = f16ToF32(h);
      expect(roundToF16(v)).toBe(v);
      const next = f16ToF32(h + 1);
      // The midpoint rounds to the even one of the two neighbours.
      expect(roundToF16((v + next) / 2)).toBe(h % 2 === 0 ? v : next);
    }
  });
});

describe('crafted checkpoints', () => {
  const specs: TensorSpec[] = [
    { name: 'plain', storage: '0', numel: 6, size: [2, 3], stride: [3, 1] },
    { name: 'transposed', storage: '0', numel: 6, size: [3, 2], stride: [1, 3] },
    { name: 'offset_strided', storage: '0', numel: 6, offset: 1, size: [2], stride: [2] },
    { name: 'scalar', storage: '0', numel: 6, offset: 5, size: [], stride: [] },
    { name: 'broadcast', storage: '0', numel: 6, offset: 2, size: [2, 2], stride: [0, 1], parameter: true },
    { name: 'empty', storage: '0', numel: 6, size: [0, 4], stride: [4, 1] },
    { name: 'ids', storage: '1', type: 'LongStorage', numel: 3, size: [3], stride: [1] },
    { name: 'mask', storage: '2', type: 'BoolStorage', numel: 2, size: [2], stride: [1] },
    { name: 'bf', storage: '3', type: 'BFloat16Storage', numel: 2, size: [2], stride: [1] },
    { name: 'dbl', storage: '4', type: 'DoubleStorage', numel: 2, size: [2], stride: [1] },
  ];
  const s0 = f32bytes([0, 1, 2, 3, 4, 5]);
  const s1 = new Uint8Array(new BigInt64Array([7n, -1n, 1n << 40n]).buffer);
  const s2 = new Uint8Array([1, 0]);
  const s3 = new Uint8Array(new Uint16Array([0x3f80, 0xc000]).buffer); // bf16 1, -2
  const s4 = new Uint8Array(new Float64Array([0.1, -2.5]).buffer);
  const storages: Array<[string, Uint8Array, number]> = [['0', s0, 6], ['1', s1, 3], ['2', s2, 2], ['3', s3, 2], ['4', s4, 2]];

  function check(sd: Map<string, RawTensor>): void {
    const v = (n: string) => Array.from(toFloat32(sd.get(n)!));
    expect(sd.get('plain')!.shape).toEqual([2, 3]);
    expect(v('plain')).toEqual([0, 1, 2, 3, 4, 5]);
    expect(sd.get('transposed')!.shape).toEqual([3, 2]);
    expect(v('transposed')).toEqual([0, 3, 1, 4, 2, 5]);
    expect(v('offset_strided')).toEqual([1, 3]);
    expect(sd.get('scalar')!.shape).toEqual([]);
    expect(v('scalar')).toEqual([5]);
    expect(v('broadcast')).toEqual([2, 3, 2, 3]);
    expect(sd.get('empty')!.shape).toEqual([0, 4]);
    expect(sd.get('empty')!.data.length).toBe(0);
    expect(sd.get('ids')!.dtype).toBe('I64');
    expect(Array.from(sd.get('ids')!.data as BigInt64Array)).toEqual([7n, -1n, 1n << 40n]);
    expect(sd.get('mask')!.dtype).toBe('BOOL');
    expect(Array.from(sd.get('mask')!.data as Uint8Array)).toEqual([1, 0]);
    expect(sd.get('bf')!.dtype).toBe('BF16');
    expect(v('bf')).toEqual([1, -2]);
    expect(sd.get('dbl')!.dtype).toBe('F64');
    expect(Array.from(sd.get('dbl')!.data as Float64Array)).toEqual([0.1, -2.5]);
    // Gathered copies do not alias the file's bytes.
    expect((sd.get('plain')!.data as Float32Array).byteOffset).toBe(0);
  }

  it('legacy format: storage offsets, strides (gathered), scalars, parameters, dtypes', () => {
    check(loadTorchStateDict(legacyFile(stateDictPickle(specs, true), storages)));
  });

  it('zip format under any archive prefix: the same tensors', () => {
    const entries: Array<[string, Uint8Array]> = [
      ['some_name/data.pkl', new Uint8Array(stateDictPickle(specs, false))],
      ['some_name/byteorder', new Uint8Array(ascii('little'))],
      ...storages.map(([k, b]): [string, Uint8Array] => [`some_name/data/${k}`, b]),
      ['some_name/version', new Uint8Array(ascii('3\n'))],
    ];
    check(loadTorchStateDict(zipFile(entries)));
    // No prefix at all also works.
    check(loadTorchStateDict(zipFile(entries.map(([n, b]) => [n.replace('some_name/', ''), b]))));
  });

  it('zip: big-endian, compressed entries and missing storages are refused', () => {
    const pkl = new Uint8Array(stateDictPickle(specs.slice(0, 1), false));
    expect(() => loadTorchStateDict(zipFile([['a/data.pkl', pkl], ['a/byteorder', new Uint8Array(ascii('big'))], ['a/data/0', s0]]))).toThrow(/byteorder is "big"/);
    expect(() => loadTorchStateDict(zipFile([['a/data.pkl', pkl], ['a/data/0', s0]], 8))).toThrow(/compressed/);
    expect(() => loadTorchStateDict(zipFile([['a/data.pkl', pkl]]))).toThrow(/storage "0" has no entry a\/data\/0/);
    expect(() => loadTorchStateDict(zipFile([['a/other', pkl]]))).toThrow(/no data\.pkl/);
  });

  it('a tensor reaching past its storage is refused', () => {
    const bad: TensorSpec[] = [{ name: 'x', storage: '0', numel: 6, offset: 4, size: [3], stride: [1] }];
    expect(() => loadTorchStateDict(legacyFile(stateDictPickle(bad, true), [['0', s0, 6]]))).toThrow(/reach element 6, but the storage holds 6/);
  });

  it('readTorchPickle exposes TorchTensors in the tree', () => {
    const { root } = readTorchPickle(legacyFile(stateDictPickle(specs.slice(0, 1), true), [['0', s0, 6]]));
    expect((root as Map<string, unknown>).get('plain')).toBeInstanceOf(TorchTensor);
  });

  it('nested dicts are flattened with "." and non-tensors are skipped; a file without tensors is an error', () => {
    // {'model': {'a': T}, 'step': 3, 'b': T}
    const t = (key: string) => [
      ...op.global('torch._utils', '_rebuild_tensor_v2'),
      ...op.tuple([[...op.tuple([op.str('storage'), op.global('torch', 'FloatStorage'), op.str(key), op.str('cpu'), op.int(6)]), 0x51], op.int(0), ints([6]), ints([1]), [0x89], [0x7d]]),
      0x52,
    ];
    const pkl = [...op.proto, 0x7d, 0x28, ...op.str('model'), 0x7d, 0x28, ...op.str('a'), ...t('0'), 0x75, ...op.str('step'), ...op.int(3), ...op.str('b'), ...t('0'), 0x75, 0x2e];
    const sd = loadTorchStateDict(zipFile([['x/data.pkl', new Uint8Array(pkl)], ['x/data/0', s0]]));
    expect([...sd.keys()]).toEqual(['model.a', 'b']);
    const none = [...op.proto, 0x7d, 0x28, ...op.str('step'), ...op.int(3), 0x75, 0x2e];
    expect(() => loadTorchStateDict(zipFile([['x/data.pkl', new Uint8Array(none)]]))).toThrow(/no tensors found/);
  });
});

describe('restricted unpickler', () => {
  it('refuses os.system (as the first pickle, as a zip data.pkl, and as the legacy state dict)', () => {
    expect(() => readTorchPickle(FORBIDDEN)).toThrow(FormatError);
    expect(() => readTorchPickle(FORBIDDEN)).toThrow(/forbidden global os\.system/);
    expect(() => readTorchPickle(zipFile([['evil/data.pkl', FORBIDDEN]]))).toThrow(/forbidden global os\.system/);
    expect(() => readTorchPickle(legacyFile(Array.from(FORBIDDEN), []))).toThrow(/forbidden global os\.system/);
  });

  it('refuses other globals, also through STACK_GLOBAL (protocol 4)', () => {
    const stackGlobal = new Uint8Array([0x80, 0x04, 0x8c, 8, ...ascii('builtins'), 0x94, 0x8c, 4, ...ascii('eval'), 0x94, 0x93, 0x94, 0x2e]);
    expect(() => readTorchPickle(zipFile([['a/data.pkl', stackGlobal]]))).toThrow(/forbidden global builtins\.eval/);
    const module = new Uint8Array([...op.proto, ...op.global('torch.nn.modules.linear', 'Linear'), 0x2e]);
    expect(() => readTorchPickle(zipFile([['a/data.pkl', module]]))).toThrow(/forbidden global torch\.nn\.modules\.linear\.Linear/);
  });

  it('rejects unknown opcodes and unbalanced pickles', () => {
    expect(() => readTorchPickle(zipFile([['a/data.pkl', new Uint8Array([0x80, 0x02, 0x7d, 0x7d, 0x2e])]]))).toThrow(/STOP with 2 items/);
    expect(() => readTorchPickle(zipFile([['a/data.pkl', new Uint8Array([0x80, 0x02, 0x69, 0x2e])]]))).toThrow(/unsupported pickle opcode 0x69/);
    expect(() => readTorchPickle(zipFile([['a/data.pkl', new Uint8Array([0x80, 0x02, 0x7d])]]))).toThrow(/truncated pickle/);
  });

  it('truncated files are FormatErrors', () => {
    for (const name of ['cpc_lstm_checkpoint.pt', 'mimi_tiny_state_dict_legacy.pt']) {
      const b = readPt(name);
      for (const cut of [0, 1, 2, 10, 100, 140, 1000, 7000, 8300, Math.floor(b.length / 2), b.length - 100, b.length - 1]) {
        expect(() => loadTorchStateDict(b.subarray(0, cut))).toThrow(FormatError);
      }
    }
    expect(() => loadTorchStateDict(new Uint8Array([1, 2, 3, 4]))).toThrow(/not a torch\.save file/);
  });

  it('corrupted pickles end in a FormatError or a result, never a hang or another error', () => {
    const b = readPt('mimi_tiny_state_dict_legacy.pt');
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let errors = 0;
    for (let k = 0; k < 300; k++) {
      const c = b.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let j = 0; j < flips; j++) c[Math.floor(rnd() * 8300)] = Math.floor(rnd() * 256);
      try {
        loadTorchStateDict(c);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
  });
});

describe('name maps', () => {
  const t = (n: number): RawTensor => ({ dtype: 'F32', shape: [1], data: new Float32Array([n]) });
  const names = (m: Map<string, RawTensor>) => [...m.keys()];

  it('select, strip, add and rename in that order', () => {
    const src = new Map([
      ['weights.gEncoder.conv0.weight', t(1)],
      ['weights.gAR.baseNet.weight_ih_l0', t(2)],
      ['config.x', t(3)],
    ]);
    expect(names(applyNameMap(src, { select: 'weights.' }))).toEqual(['weights.gEncoder.conv0.weight', 'weights.gAR.baseNet.weight_ih_l0']);
    expect(names(applyNameMap(src, { strip: ['nope.', 'weights.', 'weights.gAR.'] }))).toEqual(['gEncoder.conv0.weight', 'gAR.baseNet.weight_ih_l0', 'config.x']);
    expect(names(applyNameMap(src, { select: 'weights.', strip: ['weights.'], add: 'encoder.' }))).toEqual(['encoder.gEncoder.conv0.weight', 'encoder.gAR.baseNet.weight_ih_l0']);
    const renamed = applyNameMap(src, { select: 'weights.', strip: ['weights.'], add: 'encoder.', rename: [['encoder.gAR.baseNet.', 'encoder.ar.'], ['encoder.', 'enc.']] });
    expect(names(renamed)).toEqual(['enc.gEncoder.conv0.weight', 'encoder.ar.weight_ih_l0']);
    expect(renamed.get('encoder.ar.weight_ih_l0')).toBe(src.get('weights.gAR.baseNet.weight_ih_l0'));
    expect(mapName('a.b', { rename: [['a.', '']] })).toBe('b');
    expect(mapName('x', { select: 'a' })).toBeUndefined();
  });

  it('a select matching nothing and collisions are FormatErrors', () => {
    const src = new Map([['a.x', t(1)], ['b.x', t(2)]]);
    expect(() => applyNameMap(src, { select: 'c.' })).toThrow(FormatError);
    expect(() => applyNameMap(src, { select: 'c.' })).toThrow(/select "c\." matches none of the 2 tensors.*"a\.x"/);
    expect(() => applyNameMap(src, { strip: ['a.', 'b.'] })).toThrow(/"a\.x" and "b\.x" both map to "x"/);
    expect(() => applyNameMap(src, { rename: [['b.', 'a.']] })).toThrow(/both map to "a\.x"/);
    expect(() => applyNameMap(src, { strip: ['a.x'] })).toThrow(/empty name/);
    expect(() => applyNameMap(src, { bogus: 1 } as never)).toThrow(/unknown key "bogus"/);
  });

  it('parseRename', () => {
    expect(parseRename('gAR.=gAR.baseNet.')).toEqual(['gAR.', 'gAR.baseNet.']);
    expect(parseRename('a=b=c')).toEqual(['a', 'b=c']);
    expect(parseRename('prefix.=')).toEqual(['prefix.', '']);
    expect(() => parseRename('noequals')).toThrow(/FROM=TO/);
    expect(() => parseRename('=x')).toThrow(/FROM must not be empty/);
  });

  it('VAP preset: encoder.* of a VAP state dict onto EncoderCPC names', () => {
    const vap = new Map([
      ['encoder.downsample.1.weight', t(1)],
      ['encoder.encoder.gEncoder.conv0.weight', t(2)],
      ['encoder.encoder.gAR.baseNet.weight_ih_l0', t(3)],
      ['ar.layers.0.ln.weight', t(4)],
    ]);
    expect(names(applyNameMap(vap, VAP_ENCODER_NAME_MAP))).toEqual(['downsample.1.weight', 'encoder.gEncoder.conv0.weight', 'encoder.gAR.baseNet.weight_ih_l0']);
  });
});

describe('CPC checkpoint at parity', () => {
  beforeAll(async () => {
    await setBackend('wasm');
  });

  /** The CPC checkpoint through its name map, plus the downsample from a state dict (as MaAI takes it from VAP's). */
  function cpcStore(): WeightStore {
    const enc = applyNameMap(loadTorchStateDict(readPt('cpc_lstm_checkpoint.pt')), CPC_CHECKPOINT_NAME_MAP);
    const ds = applyNameMap(loadTorchStateDict(readPt('encoder_cpc_state_dict.pt')), { select: 'downsample.' });
    return WeightStore.fromTensors(new Map([...enc, ...ds]), 'cpc_lstm_checkpoint.pt + downsample');
  }

  it.each(['cpc_lstm_offline_short_mix', 'cpc_lstm_stream_short_mix', 'cpc_lstm_offline_speech_en'])('%s', async (name) => {
    const store = cpcStore();
    const r = await runParity(goldenCase(name), { weights: store, signalsDir: goldenPath('signals') });
    expect(r.shape_ok).toBe(true);
    expect(r.emitted_ok).toBe(true);
    expect(r.rel).toBeLessThanOrEqual(1e-4);
    expect(r.pass).toBe(true);
    expect(store.unused()).toEqual([]);
  });

  it('openWeights reads .pt files through a name map', async () => {
    const s = await openWeights(ptPath('cpc_lstm_checkpoint.pt'), { nameMap: CPC_CHECKPOINT_NAME_MAP });
    expect(s.names).toContain('encoder.gAR.baseNet.weight_hh_l0');
    expect(s.names.every((n) => n.startsWith('encoder.'))).toBe(true);
    expect(s.shapeOf('encoder.gEncoder.batchNorm0.weight')).toEqual([1, 256, 1]);
  });
});

describe('convert command', () => {
  let dir: string;
  let out: string[];
  let spy: jest.SpyInstance;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maai-convert-'));
    out = [];
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
  });
  afterEach(() => {
    spy.mockRestore();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes safetensors with the name map, metadata and a summary', async () => {
    const dst = path.join(dir, 'cpc.safetensors');
    const code = await convert.run([ptPath('cpc_lstm_checkpoint.pt'), '-o', dst, '--select', 'weights.', '--strip', 'weights.', '--add', 'encoder.']);
    expect(code).toBe(0);
    const f = SafetensorsFile.open(dst);
    try {
      const want = loadTorchStateDict(readPt('cpc_lstm_checkpoint.pt'));
      expect(f.names.length).toBe(want.size);
      expect(f.names.every((n) => n.startsWith('encoder.'))).toBe(true);
      expect(Array.from(f.get('encoder.gAR.baseNet.weight_ih_l0').data as Float32Array)).toEqual(Array.from(want.get('weights.gAR.baseNet.weight_ih_l0')!.data as Float32Array));
      expect(f.metadata.source).toBe('cpc_lstm_checkpoint.pt');
      expect(f.metadata.source_format).toBe('torch.save zip');
      expect(JSON.parse(f.metadata.name_map)).toEqual({ select: 'weights.', strip: ['weights.'], add: 'encoder.' });
      const params = [...want.values()].reduce((a, t) => a + numel(t.shape), 0);
      expect(out.join('')).toContain(`24 tensors (24 F32), ${params.toLocaleString('en-US')} parameters`);
    } finally {
      f.close();
    }
  });

  it('keeps float16 tensors of a legacy file and applies --rename', async () => {
    const dst = path.join(dir, 'mimi.safetensors');
    expect(await convert.run([ptPath('mimi_tiny_state_dict_legacy.pt'), '-o', dst, '--rename', 'encoder_transformer.=transformer.', '--rename', 'downsample.=ds.'])).toBe(0);
    const f = SafetensorsFile.open(dst);
    try {
      expect(f.metadata.source_format).toBe('torch.save legacy');
      expect(f.names.some((n) => n.startsWith('encoder_transformer.'))).toBe(false);
      const tr = f.names.filter((n) => n.startsWith('transformer.'));
      expect(tr.length).toBeGreaterThan(0);
      expect(tr.every((n) => f.info(n)!.dtype === 'F16')).toBe(true);
      expect(f.has('ds.conv.weight')).toBe(true);
    } finally {
      f.close();
    }
  });

  it('usage errors', async () => {
    await expect(convert.run([ptPath('cpc_lstm_checkpoint.pt')])).rejects.toThrow(UsageError);
    await expect(convert.run([path.join(dir, 'missing.pt'), '-o', path.join(dir, 'x.safetensors')])).rejects.toThrow(/file not found/);
    await expect(convert.run([ptPath('cpc_lstm_checkpoint.pt'), '-o', path.join(dir, 'x.safetensors'), '--rename', 'bad'])).rejects.toThrow(/--rename: .*FROM=TO/);
    await expect(convert.run([ptPath('cpc_lstm_checkpoint.pt'), '-o', path.join(dir, 'x.safetensors'), '--select', 'nothing.'])).rejects.toThrow(FormatError);
    expect(fs.existsSync(path.join(dir, 'x.safetensors'))).toBe(false);
  });
});
