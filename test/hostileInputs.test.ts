/**
 * Hostile and long inputs (issue 13, classes 1-4, 6, 7, 10, 11): each describe block is one class, and each fails on
 * the code before its fix (an endless or exponential walk, a fabricated tensor, a replaced input, an unreadable
 * output, a 2 GB resampling kernel, an endless parity loop, an internal error, a silently chosen duplicate).
 * Memory bounds are checked with the fuzz harness's allocation guard (a request over the limit throws before any
 * memory is taken); there are no timed assertions: the figures come from scripts/fuzz.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTorchStateDict, readTorchPickle, MAX_NESTING } from '../src/weights/torchCheckpoint';
import { SafetensorsFile, readSafetensors, writeSafetensors } from '../src/weights/safetensors';
import { FormatError, RawTensor, toFloat32 } from '../src/weights/types';
import { resample } from '../src/audio/resample';
import { SINC_EXACT_KERNEL_LIMIT, sincKernelSize, sincResample } from '../src/audio/sincResample';
import { writeWav } from '../src/audio/wav';
import { loadCase } from '../src/parity/goldenCase';
import { UsageError } from '../src/cli/args';
import { writeOutput } from '../src/cli/output';
import { goldenPath } from './helpers/golden';
import { withAllocationLimit } from './helpers/fuzzParsers';
import {
  TensorSpec, deepDictPickle, deepListPickle, f32bytes, legacyFile, op, sharedDictsPickle, sharedTupleKeysPickle, stateDictPickle, tensorOps, zipCheckpoint, zipFile,
} from './helpers/ptBuild';

const CLI = path.join(__dirname, '..', 'bin', 'maai-encoder.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maai-hostile-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], opts: { timeout?: number; shell?: string } = {}) {
  const r = opts.shell
    ? spawnSync('/bin/sh', ['-c', `${opts.shell}; exec "$0" "$@"`, process.execPath, CLI, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 120_000 })
    : spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exit 2 with exactly one line on stderr, no stack trace, no internal error. */
function expectBadInput(r: { code: number | null; err: string }, pattern: RegExp): void {
  expect({ code: r.code, err: r.err }).toMatchObject({ code: 2 });
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).not.toMatch(/internal error|    at /);
  expect(r.err).toMatch(pattern);
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** Runs f with no single allocation over `limit` bytes allowed; the error (if any) as an Error. */
function bounded<T>(limit: number, f: () => T): { value?: T; error?: Error; largest: number } {
  const r = withAllocationLimit(limit, f);
  return { value: r.value, error: r.error as Error | undefined, largest: r.largest };
}

const ONE = f32bytes([1]);
const TINY = goldenPath('weights', 'mimi_tiny_weights.safetensors');
const PT = goldenPath('pt', 'encoder_cpc_state_dict.pt');
const TINY_MIMI = ['--encoder', 'mimi', '--mimi-config', 'tiny', '--weights', TINY];

function writeTmp(name: string, bytes: Uint8Array): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, bytes);
  return f;
}

// ------------------------------------------------------------------------------------------------------------------
describe('class 1: a .pt is read in time and memory linear in the file plus its tensors', () => {
  it('a dict shared twice per level, 60 levels deep (2^60 key paths in 2 KB): a FormatError, not an endless walk', () => {
    const bytes = zipCheckpoint(sharedDictsPickle(60), [['0', ONE]]);
    expect(bytes.length).toBeLessThan(3000);
    const e = errorOf(() => loadTorchStateDict(bytes));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/tensor names total more than \d+ characters/);
    // The tree itself is read once per object: the top dict's two keys are the same object.
    const { root } = readTorchPickle(bytes);
    const top = root as Map<string, unknown>;
    expect(top.get('a')).toBe(top.get('b'));
  }, 20_000);

  it('shared dicts within the limits: every key path is listed, the tensors share one materialised array', () => {
    const sd = loadTorchStateDict(zipCheckpoint(sharedDictsPickle(10), [['0', ONE]]));
    expect(sd.size).toBe(1024);
    expect(sd.get('a.b.a.b.a.b.a.b.a.b.t')!.data).toBe(sd.get('b.b.b.b.b.b.b.b.b.b.t')!.data);
    // Shared dicts without tensors are walked once: 2^60 paths to nothing cost nothing.
    expect(() => loadTorchStateDict(zipCheckpoint(sharedDictsPickle(60, false), []))).toThrow(/no tensors found/);
  }, 20_000);

  it('a 1 MB LONG4 integer decodes (in linear time: the quadratic decoder took a minute for 256 KB, ~16 for 1 MB)', () => {
    const n = 1024 * 1024;
    const pkl = new Uint8Array(2 + 5 + n + 1);
    pkl.set([...op.proto, 0x8b, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, 0]);
    pkl.fill(0x5a, 7, 7 + n);
    pkl[7 + n] = 0x2e;
    const root = readTorchPickle(zipCheckpoint(pkl, [])).root as bigint;
    expect(typeof root).toBe('bigint');
    expect(root % 65536n).toBe(0x5a5an);
    expect(root >> BigInt(8 * n - 8)).toBe(0x5an);
    // Negative values (two's complement) and the small fast path.
    const neg = [...op.proto, ...op.long(-(2n ** 70n) + 5n), ...op.stop];
    expect(readTorchPickle(zipCheckpoint(neg, [])).root).toBe(-(2n ** 70n) + 5n);
    expect(readTorchPickle(zipCheckpoint([...op.proto, ...op.long(-129n), ...op.stop], [])).root).toBe(-129);
  }, 60_000);

  it('text integers have at most 4300 digits (CPython\'s own limit)', () => {
    const pkl = (digits: number) => [...op.proto, 0x4c, ...Array.from('7'.repeat(digits) + 'L\n', (c) => c.charCodeAt(0)), ...op.stop];
    expect(readTorchPickle(zipCheckpoint(pkl(4300), [])).root).toBe(BigInt('7'.repeat(4300)));
    expect(() => readTorchPickle(zipCheckpoint(pkl(4301), []))).toThrow(/LONG literal at byte \d+ has more than 4300 digits/);
  });

  it('tuple keys that double in length with each level: refused past 1024 characters, not a heap overflow', () => {
    const e = errorOf(() => readTorchPickle(zipCheckpoint(sharedTupleKeysPickle(22), [])));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/a tuple dict key is longer than 1024 characters as text/);
    // Short tuple keys still work (JSON text, bigints as digits).
    const small = readTorchPickle(zipCheckpoint(sharedTupleKeysPickle(2), [])).root as Map<string, unknown>;
    expect([...small.keys()]).toEqual(['[[["x"],["x"]],[["x"],["x"]]]']);
  });

  it('BigInt values in keys: named in the name (digits) or in the error', () => {
    // {(1, (2**70,)): tensor}
    const key = op.tuple([op.int(1), op.tuple([op.long(2n ** 70n)])]);
    const pkl = [...op.proto, ...op.emptyDict, ...key, ...tensorOps({ name: '', storage: '0', numel: 1, size: [1], stride: [1] }, false), ...op.setitem, ...op.stop];
    const sd = loadTorchStateDict(zipCheckpoint(pkl, [['0', ONE]]));
    expect([...sd.keys()]).toEqual(['[1,[1180591620717411303424]]']);
    // An integer key of ~4800 digits.
    const huge = [...op.proto, ...op.emptyDict, ...op.long(7n ** 5700n), ...op.int(1), ...op.setitem, ...op.stop];
    expect(errorOf(() => readTorchPickle(zipCheckpoint(huge, []))).message).toMatch(/dict key an integer of about \d+ bits has more than 4300 digits/);
    const hugeInTuple = [...op.proto, ...op.emptyDict, ...op.tuple([op.long(7n ** 5700n)]), ...op.int(1), ...op.setitem, ...op.stop];
    expect(errorOf(() => readTorchPickle(zipCheckpoint(hugeInTuple, []))).message).toMatch(/a tuple dict key holds an integer of about \d+ bits \(more than 4300 digits\)/);
  });

  it('stride 0 and a huge shape: refused past the documented element limit instead of allocating gigabytes', () => {
    const spec: TensorSpec = { name: 'big', storage: '0', numel: 1, size: [65536, 4096], stride: [0, 0] };
    const bytes = zipCheckpoint(stateDictPickle([spec], false), [['0', ONE]]);
    expect(bytes.length).toBeLessThan(1024);
    // Nothing near the tensor's 1 GB is ever requested.
    const r = bounded(16 * 2 ** 20, () => loadTorchStateDict(bytes));
    expect(r.error).toBeInstanceOf(FormatError);
    expect(r.error!.message).toMatch(/tensor of shape \[65536,4096\] in storage "0": materialising it would exceed the limit of 1048580 elements per file/);
    // Many stride-0 tensors: the limit is per file, not per tensor.
    const many = Array.from({ length: 8 }, (_, i): TensorSpec => ({ name: `t${i}`, storage: '0', numel: 1, size: [1 << 18], stride: [0] }));
    expect(() => loadTorchStateDict(zipCheckpoint(stateDictPickle(many, false), [['0', ONE]]))).toThrow(/would exceed the limit of 1048580 elements per file \(.*; 1048576 used so far\)/);
    // Within the limit a broadcast view is gathered; an explicit maxElements raises or lowers the limit.
    const ok = loadTorchStateDict(zipCheckpoint(stateDictPickle([{ ...spec, size: [4, 3] }], false), [['0', ONE]]));
    expect(Array.from(toFloat32(ok.get('big')!))).toEqual(new Array(12).fill(1));
    expect(() => loadTorchStateDict(zipCheckpoint(stateDictPickle([{ ...spec, size: [4, 3] }], false), [['0', ONE]]), { maxElements: 11 })).toThrow(/limit of 11 elements/);
  });

  it(`deep nesting is a clear FormatError past ${MAX_NESTING} levels, never "Maximum call stack size exceeded"`, () => {
    for (const pkl of [deepDictPickle(20000), deepListPickle(20000)]) {
      const e = errorOf(() => loadTorchStateDict(zipCheckpoint(pkl, [['0', ONE]])));
      expect(e).toBeInstanceOf(FormatError);
      expect(e.message).toMatch(/nested deeper than 1000 levels/);
    }
    // 900 levels are fine.
    const sd = loadTorchStateDict(zipCheckpoint(deepDictPickle(900), [['0', ONE]]));
    expect([...sd.keys()]).toEqual([`${'k.'.repeat(900)}t`]);
  });

  it('a dict that contains itself is refused by the state dict walk', () => {
    // d = {}; d['self'] = d; d['t'] = tensor
    const pkl = [...op.proto, ...op.emptyDict, ...op.put(0), ...op.str('self'), ...op.get(0), ...op.setitem, ...op.str('t'), ...tensorOps({ name: 't', storage: '0', numel: 1, size: [1], stride: [1] }, false), ...op.setitem, ...op.stop];
    const { root } = readTorchPickle(zipCheckpoint(pkl, [['0', ONE]]));
    expect((root as Map<string, unknown>).get('self')).toBe(root); // the tree keeps the cycle
    expect(() => loadTorchStateDict(zipCheckpoint(pkl, [['0', ONE]]))).toThrow(/a dict contains itself \(key "self"/);
  });
});

// ------------------------------------------------------------------------------------------------------------------
describe('class 2: legacy storage views must lie inside their storage', () => {
  const s0 = f32bytes([0, 1, 2, 3]);
  const viewFile = (offset: number, size: number, tensorSize: number) =>
    legacyFile(stateDictPickle([{ name: 'x', storage: '0', numel: 4, size: [tensorSize], stride: [1], view: ['v', offset, size] }], true), [['0', s0, 4]]);

  it('a view inside its root reads the right elements', () => {
    expect(Array.from(toFloat32(loadTorchStateDict(viewFile(1, 3, 3)).get('x')!))).toEqual([1, 2, 3]);
    // A tensor reaching past its view (not only past the root) is refused.
    expect(() => loadTorchStateDict(viewFile(1, 2, 3))).toThrow(/reach element 2, but the storage holds 2/);
  });

  it('negative or out-of-range offsets are refused (no 1000-element tensor from a 4-element storage)', () => {
    expect(() => loadTorchStateDict(viewFile(-996, 1000, 1000))).toThrow(/storage view "v" of "0": negative offset -996/);
    expect(() => loadTorchStateDict(viewFile(2, 998, 1000))).toThrow(/storage view "v" covers elements \[2, 1000\) of storage "0", which holds 4/);
    expect(() => loadTorchStateDict(viewFile(5, 0, 0))).toThrow(/covers elements \[5, 5\)/);
  });

  it('the CLI exits 2 on such a file', () => {
    const f = writeTmp('badview.pt', viewFile(-996, 1000, 1000));
    expectBadInput(cli(['weights', 'inspect', f]), /negative offset -996/);
  });
});

// ------------------------------------------------------------------------------------------------------------------
describe('class 3: no output replaces an input, and outputs are written atomically', () => {
  let wav: string;
  let wavBytes: Buffer;
  beforeAll(() => {
    wav = writeTmp('in.wav', writeWav(Float32Array.from({ length: 3200 }, (_, i) => 0.3 * Math.sin(i / 10)), 16000, 'pcm16'));
    wavBytes = fs.readFileSync(wav);
  });

  it('encode x.wav -o x.wav, through a hard link or a symlink, and -o onto the weights file: refused, inputs intact', () => {
    const hard = path.join(tmp, 'hard.wav');
    const sym = path.join(tmp, 'sym.wav');
    fs.linkSync(wav, hard);
    fs.symlinkSync(wav, sym);
    for (const o of [wav, hard, sym]) expectBadInput(cli(['encode', ...TINY_MIMI, wav, '-o', o]), /is the same file as the input/);
    const w = path.join(tmp, 'w.safetensors');
    fs.copyFileSync(TINY, w);
    expectBadInput(cli(['encode', '--encoder', 'mimi', '--mimi-config', 'tiny', '--weights', w, wav, '-o', w]), /is the same file as the weights file/);
    expect(fs.readFileSync(wav).equals(wavBytes)).toBe(true);
    expect(fs.readFileSync(w).equals(fs.readFileSync(TINY))).toBe(true);
  });

  it('stream -o onto its input, convert through a symlink or a hard link to its input: refused', () => {
    expectBadInput(cli(['stream', ...TINY_MIMI, wav, '-o', wav]), /is the same file as the input/);
    const pt = path.join(tmp, 'in.pt');
    fs.copyFileSync(PT, pt);
    const link = path.join(tmp, 'link.safetensors');
    fs.symlinkSync(pt, link);
    const hl = path.join(tmp, 'hl.safetensors');
    fs.linkSync(pt, hl);
    for (const o of [link, hl]) expectBadInput(cli(['convert', pt, '-o', o]), /is the same file as the input/);
    expect(fs.readFileSync(pt).equals(fs.readFileSync(PT))).toBe(true);
    expect(fs.readFileSync(wav).equals(wavBytes)).toBe(true);
  });

  it('a write that fails (EFBIG) leaves the earlier file intact and no temporary file', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'efbig-'));
    const out = path.join(dir, 'out.safetensors');
    fs.writeFileSync(out, 'an earlier output');
    // ulimit -f 100: files above 100 blocks of 512 bytes cannot be written (the converted file is ~8 MB).
    expectBadInput(cli(['convert', PT, '-o', out], { shell: 'ulimit -f 100' }), /cannot write .*out\.safetensors: EFBIG/);
    expect(fs.readFileSync(out, 'utf8')).toBe('an earlier output');
    expect(fs.readdirSync(dir)).toEqual(['out.safetensors']);
  });

  it('writeOutput: a failed check of the new file keeps the earlier one; a good one replaces it with its mode kept', () => {
    const out = path.join(tmp, 'atomic.bin');
    fs.writeFileSync(out, 'old');
    fs.chmodSync(out, 0o600);
    expect(() => writeOutput(out, new Uint8Array([1, 2, 3]), { verify: () => { throw new FormatError('does not read back'); } })).toThrow(UsageError);
    expect(fs.readFileSync(out, 'utf8')).toBe('old');
    writeOutput(out, new Uint8Array([1, 2, 3]));
    expect(Array.from(fs.readFileSync(out))).toEqual([1, 2, 3]);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------------------------
describe('class 4: names round-trip through safetensors, and convert reads its output back', () => {
  const t = (v: number): RawTensor => ({ dtype: 'F32', shape: [1], data: new Float32Array([v]) });

  it('__proto__, constructor and other Object.prototype names are plain names', () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf', 'a'];
    const bytes = writeSafetensors(names.map((n, i): [string, RawTensor] => [n, t(i)]), { __proto__x: 'y' });
    const back = readSafetensors(bytes).tensors;
    expect([...back.keys()]).toEqual(names);
    names.forEach((n, i) => expect(toFloat32(back.get(n)!)[0]).toBe(i));
    const meta = Object.defineProperty({} as Record<string, string>, '__proto__', { value: 'p', enumerable: true });
    expect(readSafetensors(writeSafetensors([['x', t(1)]], meta)).metadata.__proto__).toBe('p');
  });

  it('names that cannot round-trip are refused by the writer', () => {
    expect(() => writeSafetensors([['\ud800', t(1)]])).toThrow(/not well-formed Unicode/);
    expect(() => writeSafetensors([['__metadata__', t(1)]])).toThrow(/cannot be a tensor name/);
  });

  it('convert --rename X=__proto__ writes a file that reads back; __metadata__ is refused by name', () => {
    const out = path.join(tmp, 'proto.safetensors');
    const r = cli(['convert', PT, '-o', out, '--select', 'downsample.1.weight', '--rename', 'downsample.1.weight=__proto__']);
    expect(r.code).toBe(0);
    const f = SafetensorsFile.open(out);
    try {
      expect(f.names).toEqual(['__proto__']);
      expect(f.get('__proto__').shape).toEqual([256, 256, 5]);
    } finally {
      f.close();
    }
    expectBadInput(cli(['convert', PT, '-o', path.join(tmp, 'm.safetensors'), '--select', 'downsample.1.weight', '--rename', 'downsample.1.weight=__metadata__']), /"__metadata__" is reserved/);
  });
});

// ------------------------------------------------------------------------------------------------------------------
describe('class 6: the sinc resampler is bounded for any rate ratio', () => {
  const sig = (n: number) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(i * 0.05) + 0.3 * Math.sin(i * 0.9) + ((i * 7919) % 13) / 100 - 0.06);
  const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

  it('a 46-byte WAV at 32003 Hz (and 44101 Hz) resamples without a kernel of gigabytes', () => {
    for (const rate of [32003, 44101]) {
      // The old kernel was 2 GB (32003 Hz) and 2.8 GB (44101 Hz); now the largest allocation is the table.
      const r = bounded(2 ** 20, () => resample(sig(11), rate, 16000));
      expect(r.error).toBeUndefined();
      expect(r.value!.length).toBe(Math.ceil((11 * 16000) / rate));
      expect(r.largest).toBeLessThan(2 ** 20);
    }
  });

  it('the table path agrees with the exact formula evaluated in float64 (32003 Hz) and with the exact kernel', () => {
    const x = sig(2000);
    const y = sincResample(x, 32003, 16000);
    // Direct evaluation of torchaudio's kernel at each output: t = B (i / orig - n / new), clamped, Hann window.
    const B = 16000 * 0.99;
    let err = 0;
    for (let n = 0; n < y.length; n++) {
      let acc = 0;
      for (let i = 0; i < x.length; i++) {
        const tt = B * (i / 32003 - n / 16000);
        if (Math.abs(tt) >= 6) continue;
        const w = Math.cos((tt * Math.PI) / 12) ** 2;
        acc += x[i] * (tt === 0 ? 1 : Math.sin(Math.PI * tt) / (Math.PI * tt)) * w * (B / 32003);
      }
      err = Math.max(err, Math.abs(acc - y[n]));
    }
    expect(err).toBeLessThanOrEqual(5e-7 * maxAbs(x));
    for (const [a, b] of [[11025, 16000], [44100, 16000], [16000, 24000], [16000, 11025], [48000, 16000]]) {
      const e = sincResample(x, a, b, { method: 'exact' });
      const tb = sincResample(x, a, b, { method: 'table' });
      expect(tb.length).toBe(e.length);
      let d = 0;
      for (let i = 0; i < e.length; i++) d = Math.max(d, Math.abs(e[i] - tb[i]));
      expect(d).toBeLessThanOrEqual(5e-7 * maxAbs(x));
    }
  });

  it('the common rates keep torchaudio\'s exact kernel', () => {
    for (const r of [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000]) {
      for (const t of [16000, 24000]) {
        expect(sincKernelSize(r, t)).toBeLessThanOrEqual(SINC_EXACT_KERNEL_LIMIT);
        expect(sincKernelSize(t, r)).toBeLessThanOrEqual(SINC_EXACT_KERNEL_LIMIT);
      }
    }
    expect(sincKernelSize(32003, 16000)).toBeGreaterThan(SINC_EXACT_KERNEL_LIMIT);
    expect(() => sincResample(sig(10), 32003, 16000, { method: 'exact' })).toThrow(/has 512464000 weights \(limit 2097152\)/);
  });
});

// ------------------------------------------------------------------------------------------------------------------
describe('class 7: golden-case meta is validated field by field', () => {
  const BASE = goldenPath('cases', 'cpc_lstm_stream_short_mix.safetensors');
  /** The CPC stream case with its meta changed. */
  function caseWith(name: string, change: Record<string, unknown> | unknown[]): string {
    const { tensors, metadata } = readSafetensors(new Uint8Array(fs.readFileSync(BASE)));
    const meta = Array.isArray(change) ? change : { ...JSON.parse(metadata.meta), ...change };
    return writeTmp(`${name}.safetensors`, writeSafetensors(tensors, { ...metadata, meta: JSON.stringify(meta) }));
  }
  const parity = (file: string) =>
    cli(['parity', file, '--signals', goldenPath('signals'), '--weights', goldenPath('weights', 'cpc_lstm_manifest.json')], { timeout: 60_000 });

  it('shift 0 or 0.5 (an endless loop before): exit 2 naming "shift"', () => {
    expectBadInput(parity(caseWith('shift0', { shift: 0 })), /case shift0: meta "shift" must be an integer in 1\.\.960000, got 0/);
    expectBadInput(parity(caseWith('shift05', { shift: 0.5 })), /meta "shift" must be an integer in 1\.\.960000, got 0\.5/);
  }, 150_000);

  it('kind "constructor" (an unrelated TypeError before): exit 2 naming "kind"', () => {
    expectBadInput(parity(caseWith('ctor', { kind: 'constructor' })), /meta "kind" "constructor" is not a known case kind \(known: cpc_offline, cpc_stream, /);
  }, 60_000);

  it('every field a runner reads: types and ranges', () => {
    const bad: Array<[Record<string, unknown> | unknown[], RegExp]> = [
      [{ window: -1 }, /"window" must be an integer in 1\.\.960000, got -1/],
      [{ window: 1000 }, /"shift" 1600 must not exceed "window" 1000/],
      [{ window: '1920' }, /"window" must be an integer/],
      [{ leading_zeros: 1.5 }, /"leading_zeros" must be an integer in 0\.\.960000/],
      [{ signal: '../../etc/passwd' }, /"signal" must be a signal name/],
      [{ signal: 3 }, /"signal" must be a signal name/],
      [{ signal: undefined }, /"signal" is missing \(required for kind cpc_stream\)/],
      [{ ar_mode: 'RNN' }, /"ar_mode" must be "LSTM" or "GRU"/],
      [{ kind: 'toString' }, /"kind" "toString" is not a known case kind/],
      [{ kind: 7 }, /has no "kind"/],
      [{ kind: 'mimi_stream', frame_hz: 0 }, /"frame_hz" must be a number in 0\.5\.\.1000, got 0/],
      [{ kind: 'mimi_stream' }, /"frame_hz" is missing/],
      [{ kind: 'mimi_offline', frame_hz: 12.5, context_samples: -1 }, /"context_samples" must be an integer in 0\.\./],
      [{ kind: 'mimi_stream', frame_hz: 12.5, chunk_samples: 0 }, /"chunk_samples" must be an integer in 1\.\./],
      [{ kind: 'mimi_core', config: 'big' }, /"config" must be "kyutai\/mimi" or "tiny"/],
      [{ kind: 'mimi_core', tiny_overrides: [1] }, /"tiny_overrides" must be an object of MimiConfig fields, or null/],
      [[1, 2], /meta must be a JSON object/],
    ];
    bad.forEach(([change, re], i) => {
      const e = errorOf(() => loadCase(caseWith(`bad${i}`, change)));
      expect(e).toBeInstanceOf(FormatError);
      expect(e.message).toMatch(re);
    });
    // Every shipped case passes.
    for (const dir of ['cases', 'onnx']) {
      for (const f of fs.readdirSync(goldenPath(dir)).filter((n) => n.endsWith('.safetensors'))) expect(() => loadCase(goldenPath(dir, f))).not.toThrow();
    }
  });
});

// ------------------------------------------------------------------------------------------------------------------
describe('class 10: paths the CLI cannot use exit 2 with one line', () => {
  let wav: string;
  beforeAll(() => {
    wav = writeTmp('ten.wav', writeWav(new Float32Array(3200), 16000, 'pcm16'));
  });

  it('-o naming a folder, a path in a missing folder, /dev/full', () => {
    expectBadInput(cli(['encode', ...TINY_MIMI, wav, '-o', tmp]), /is a folder; give a file name/);
    expectBadInput(cli(['stream', ...TINY_MIMI, wav, '-o', tmp]), /is a folder; give a file name/);
    expectBadInput(cli(['encode', ...TINY_MIMI, wav, '-o', path.join(tmp, 'missing', 'f.safetensors')]), /folder .*missing does not exist/);
    expectBadInput(cli(['convert', PT, '-o', path.join(tmp, 'missing', 'f.safetensors')]), /folder .*missing does not exist/);
    if (fs.existsSync('/dev/full')) {
      expectBadInput(cli(['encode', ...TINY_MIMI, wav, '-o', '/dev/full']), /cannot write \/dev\/full: ENOSPC/);
      expectBadInput(cli(['convert', PT, '-o', '/dev/full']), /cannot write \/dev\/full: ENOSPC/);
    }
  });

  it('an input that is a folder', () => {
    expectBadInput(cli(['encode', ...TINY_MIMI, tmp, '-o', path.join(tmp, 'o.safetensors')]), /input file .* is a folder, not a file/);
    expectBadInput(cli(['encode', '--encoder', 'mimi', '--mimi-config', 'tiny', '--weights', tmp, wav, '-o', path.join(tmp, 'o.safetensors')]), /weights file .* is a folder/);
    expectBadInput(cli(['weights', 'inspect', tmp]), /is a folder, not a file/);
    const dpt = path.join(tmp, 'folder.pt');
    fs.mkdirSync(dpt, { recursive: true });
    expectBadInput(cli(['weights', 'inspect', dpt]), /is a folder, not a file/);
    expectBadInput(cli(['convert', dpt, '-o', path.join(tmp, 'o.safetensors')]), /is a folder, not a file/);
    expectBadInput(cli(['parity', tmp, '--weights', TINY]), /is a folder/);
  });
});

// ------------------------------------------------------------------------------------------------------------------
describe('class 11: ambiguous containers are refused', () => {
  const pkl = new Uint8Array(stateDictPickle([{ name: 'x', storage: '0', numel: 1, size: [1], stride: [1] }], false));

  it('a .pt zip with two data.pkl entries, or two entries for one storage', () => {
    expect(() => loadTorchStateDict(zipFile([['a/data.pkl', pkl], ['a/data.pkl', pkl], ['a/data/0', ONE]]))).toThrow(/two entries are named "a\/data\.pkl"/);
    expect(() => loadTorchStateDict(zipFile([['a/data.pkl', pkl], ['a/data/0', ONE], ['a/data/0', f32bytes([2])]]))).toThrow(/two entries are named "a\/data\/0"/);
    expect(() => loadTorchStateDict(zipFile([['a/data.pkl', pkl], ['b/data.pkl', pkl], ['a/data/0', ONE]]))).toThrow(/two data\.pkl entries/);
    // A storage whose entry size differs from the element count the pickle declares.
    expect(() => loadTorchStateDict(zipFile([['a/data.pkl', pkl], ['a/data/0', f32bytes([1, 2])]]))).toThrow(/storage "0" declares 1 F32 elements \(4 bytes\) but its entry holds 8 bytes/);
  });

  it('a legacy file listing a storage twice, or with a stored size other than the declared one', () => {
    const main = stateDictPickle([{ name: 'x', storage: '0', numel: 1, size: [1], stride: [1] }], true);
    expect(() => loadTorchStateDict(legacyFile(main, [['0', ONE, 1], ['0', f32bytes([2]), 1]]))).toThrow(/storage "0" is listed twice/);
    expect(() => loadTorchStateDict(legacyFile(main, [['0', f32bytes([1, 2]), 2]]))).toThrow(/storage "0" is declared with 1 elements but 2 are stored/);
  });

  it('duplicate JSON keys in a safetensors header, at any level, and a BOM before the JSON', () => {
    const file = (header: string, data = 4) => {
      const hb = new TextEncoder().encode(header);
      const out = new Uint8Array(8 + hb.length + data);
      new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
      out.set(hb, 8);
      return out;
    };
    const a = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    expect(readSafetensors(file(`{${a}}`)).tensors.size).toBe(1);
    expect(() => readSafetensors(file(`{${a},${a}}`))).toThrow(/tensor name "a" appears twice in the header/);
    expect(() => readSafetensors(file(`{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}`))).toThrow(/tensor "a": field "dtype" appears twice/);
    expect(() => readSafetensors(file(`{"__metadata__":{"k":"1","k":"2"},${a}}`))).toThrow(/__metadata__ key "k" appears twice/);
    expect(() => readSafetensors(file(`\ufeff{${a}}`))).toThrow(/header is not valid JSON \(byte order mark before the JSON/);
  });
});
