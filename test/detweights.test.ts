import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFromManifest, detUniform, detweightsTensor, fmix32, fnv1a32, parseManifest, readManifest } from '../src/weights/detweights';
import { SafetensorsFile, writeSafetensors } from '../src/weights/safetensors';
import { FormatError, RawTensor } from '../src/weights/types';
import { goldenPath } from './helpers/golden';

// Straight transcriptions of the spec in /work/shared/golden/README.md with BigInt arithmetic (mod 2^32 spelled out).
const M32 = (1n << 32n) - 1n;
function refFnv(name: string): number {
  let h = 0x811c9dc5n;
  for (const b of Buffer.from(name, 'utf8')) h = ((h ^ BigInt(b)) * 0x01000193n) & M32;
  return Number(h);
}
function refFmix(v: number): number {
  let x = BigInt(v);
  x ^= x >> 16n;
  x = (x * 0x85ebca6bn) & M32;
  x ^= x >> 13n;
  x = (x * 0xc2b2ae35n) & M32;
  x ^= x >> 16n;
  return Number(x);
}
function refU(seed: number, i: number): number {
  const x = refFmix(Number((BigInt(seed) + BigInt(i) * 0x9e3779b9n) & M32));
  return ((x >>> 20) - 2048) / 2048;
}

/** Deterministic 32-bit test inputs (xorshift). */
function* words(n: number, s = 0x12345678): Generator<number> {
  for (let k = 0; k < n; k++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    yield s;
  }
}

describe('detweights v1 check vectors', () => {
  it('fnv1a32: README seeds and standard FNV-1a vectors', () => {
    expect(fnv1a32('a')).toBe(3826002220);
    expect(fnv1a32('encoder.layers.0.conv.weight')).toBe(489619889);
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // UTF-8 bytes, not UTF-16 code units.
    for (const name of ['é', '重み', '🙂.weight', 'downsample.conv.weight', 'x'.repeat(1000)]) expect(fnv1a32(name)).toBe(refFnv(name));
    expect(fnv1a32('é')).not.toBe(refFnv('\u00e9'.normalize('NFD')));
  });

  it('fmix32: murmur3 finaliser values and agreement with a BigInt transcription', () => {
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7); // MurmurHash3_x86_32("", seed 1)
    expect(fmix32(0xffffffff)).toBe(0x81f16f39); // MurmurHash3_x86_32("", seed 0xffffffff)
    for (const w of words(2000)) {
      const y = fmix32(w);
      expect(y >= 0 && y <= 0xffffffff && Number.isInteger(y)).toBe(true);
      if (y !== refFmix(w)) expect([w, y]).toEqual([w, refFmix(w)]);
    }
    // README: u[0] of "a" = -0.79296875 -> fmix32(seed) >>> 20 === 2048 - 1624.
    expect(fmix32(3826002220) >>> 20).toBe(424);
  });

  it('detUniform: README u vectors', () => {
    const ua = [0, 1, 2, 3, 4, 5].map((i) => detUniform(3826002220, i));
    expect(ua).toEqual([-0.79296875, -0.03125, 0.63134765625, 0.72314453125, 0.8740234375, -0.1123046875]);
    const ue = [0, 1, 2].map((i) => detUniform(489619889, i));
    expect(ue).toEqual([0.08251953125, -0.82177734375, -0.8798828125]);
  });

  it('detUniform: 12-bit values in [-1, 1), equal to the spec for large i and seeds near 2^32', () => {
    const seeds = [0, 1, 0xffffffff, 3826002220, ...words(20, 99)];
    const is = [0, 1, 2, 1000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 5e9, 2 ** 40 + 3];
    const bad: unknown[] = [];
    for (const s of seeds) {
      for (const i of is) {
        const u = detUniform(s, i);
        if (u !== refU(s, i) || u < -1 || u >= 1 || !Number.isInteger(u * 2048)) bad.push([s, i, u, refU(s, i)]);
      }
    }
    expect(bad).toEqual([]);
  });

  it('detweightsTensor: offset + u * scale in float32, row-major', () => {
    const t = detweightsTensor('a', [2, 3], 0.5, 0.25);
    expect(t).toBeInstanceOf(Float32Array);
    expect(Array.from(t)).toEqual([-0.79296875, -0.03125, 0.63134765625, 0.72314453125, 0.8740234375, -0.1123046875].map((u) => 0.25 + u * 0.5));
    expect(Array.from(detweightsTensor('encoder.layers.0.conv.weight', [3], 1, 0))).toEqual([0.08251953125, -0.82177734375, -0.8798828125]);
    expect(Array.from(detweightsTensor('encoder.layers.0.conv.weight', [3], 2 ** -7, 1))).toEqual(
      [0.08251953125, -0.82177734375, -0.8798828125].map((u) => 1 + u / 128),
    );
    // Values are exact: the double computation is representable in float32 for power-of-two scales.
    const name = 'encoder_transformer.layers.1.mlp.fc1.weight';
    const big = detweightsTensor(name, [128, 64], 2 ** -6, 0);
    const seed = fnv1a32(name);
    const bad: number[] = [];
    for (let i = 0; i < big.length; i++) if (big[i] !== detUniform(seed, i) * 2 ** -6) bad.push(i);
    expect(bad).toEqual([]);
    // The shape only matters through numel (the stream is over the flattened index).
    expect(Array.from(detweightsTensor(name, [8, 1024], 2 ** -6, 0))).toEqual(Array.from(big));
    expect(detweightsTensor('z', [0, 5], 1, 0).length).toBe(0);
    expect(Array.from(detweightsTensor('a', [], 1, 0))).toEqual([-0.79296875]);
  });
});

describe('parseManifest / readManifest errors', () => {
  const good = { shape: [2, 3], scale: 0.5, offset: 0 };

  it('accepts a well-formed manifest and keeps its order', () => {
    const m = parseManifest({ b: good, a: { shape: [], scale: 1, offset: -1 } });
    expect(Object.keys(m)).toEqual(['b', 'a']);
    expect(m.a).toEqual({ shape: [], scale: 1, offset: -1 });
    expect(parseManifest({})).toEqual({});
  });

  it('refuses a non-object manifest', () => {
    for (const j of [null, [], [good], 3, 'x', true]) {
      expect(() => parseManifest(j, 'm.json')).toThrow(FormatError);
      expect(() => parseManifest(j, 'm.json')).toThrow(/^m\.json: must be a JSON object \{name: \{shape, scale, offset\}\}$/);
    }
  });

  it('refuses an entry that is not an object', () => {
    for (const e of [null, 5, 'w', true]) {
      expect(() => parseManifest({ 'w.x': e }, 'm')).toThrow(/^m: entry "w\.x" is not an object$/);
    }
  });

  it('refuses bad shapes', () => {
    for (const shape of [undefined, 3, 'x', [-1], [1.5], [2, '3'], [null], [Infinity], [2 ** 53]]) {
      expect(() => parseManifest({ w: { ...good, shape } }, 'm')).toThrow(/^m: entry "w": shape must be a list of non-negative integers$/);
    }
  });

  it('refuses bad scale and offset', () => {
    for (const scale of [undefined, '1', null, NaN, Infinity, -Infinity]) {
      expect(() => parseManifest({ w: { ...good, scale } }, 'm')).toThrow(/^m: entry "w": scale must be a finite number$/);
    }
    for (const offset of [undefined, '0', null, NaN, Infinity]) {
      expect(() => parseManifest({ w: { ...good, offset } }, 'm')).toThrow(/^m: entry "w": offset must be a finite number$/);
    }
    // The first bad entry is the one named.
    expect(() => parseManifest({ ok: good, bad1: { ...good, scale: 'x' }, bad2: null }, 'm')).toThrow(/"bad1"/);
  });

  it('readManifest: invalid JSON and bad content name the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detw-'));
    try {
      const p1 = path.join(dir, 'broken.json');
      fs.writeFileSync(p1, '{"w": {"shape": [1],');
      expect(() => readManifest(p1)).toThrow(FormatError);
      expect(() => readManifest(p1)).toThrow(`${p1}: not a valid JSON manifest`);
      const p2 = path.join(dir, 'bad.json');
      fs.writeFileSync(p2, JSON.stringify({ w: { shape: [1], scale: 1 } }));
      expect(() => readManifest(p2)).toThrow(`${p2}: entry "w": offset must be a finite number`);
      expect(() => readManifest(path.join(dir, 'missing.json'))).toThrow(FormatError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const bytesOf = (t: RawTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
/** Order of the Python safetensors writer: dtype (alignment) descending, then name (byte order). All F32 here. */
const pyOrder = (m: Map<string, RawTensor>) => [...m.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('golden manifests', () => {
  const dir = goldenPath('weights');
  const manifests = fs.readdirSync(dir).filter((f) => /manifest.*\.json$/.test(f)).sort();
  const twinOf = (m: string) => path.join(dir, m.replace(/_manifest\.json$/, '_weights.safetensors'));

  it('finds the manifests and at least the tiny Mimi safetensors twin', () => {
    expect(manifests).toEqual(expect.arrayContaining(['mimi_tiny_manifest.json', 'mimi_full_manifest.json', 'cpc_lstm_manifest.json', 'cpc_gru_manifest.json']));
    expect(fs.existsSync(twinOf('mimi_tiny_manifest.json'))).toBe(true);
  });

  it.each(manifests)('%s parses (names, shapes, power-of-two scales)', (m) => {
    const man = readManifest(path.join(dir, m));
    const names = Object.keys(man);
    expect(names.length).toBeGreaterThan(0);
    for (const [name, e] of Object.entries(man)) {
      expect(e.shape.length).toBeGreaterThan(0);
      // "exact: u has 12 bits, scale is a power of two"
      if (e.scale !== 0) expect([name, Number.isInteger(Math.log2(Math.abs(e.scale)))]).toEqual([name, true]);
    }
  });

  it.each(manifests.filter((m) => fs.existsSync(twinOf(m))))('%s rebuilds its safetensors twin bit for bit', (m) => {
    const built = buildFromManifest(readManifest(path.join(dir, m)));
    const filePath = twinOf(m);
    const f = SafetensorsFile.open(filePath);
    try {
      expect([...f.names].sort()).toEqual([...built.keys()].sort());
      const mismatched: string[] = [];
      for (const [name, t] of built) {
        const r = f.get(name);
        expect(t.dtype).toBe('F32');
        if (r.dtype !== t.dtype || JSON.stringify(r.shape) !== JSON.stringify(t.shape) || !bytesOf(r).equals(bytesOf(t))) mismatched.push(name);
      }
      expect(mismatched).toEqual([]);
      expect(f.metadata).toEqual({});
    } finally {
      f.close();
    }
    const file = fs.readFileSync(filePath);
    // The file was written by Python safetensors, which sorts tensors by (dtype desc, name); writing the built tensors
    // in that order reproduces the file exactly (same compact JSON, same space padding to 8 bytes).
    expect(Buffer.from(writeSafetensors(pyOrder(built))).equals(file)).toBe(true);
    // In manifest (state dict) order the data and offsets differ, so the bytes do too.
    expect(Buffer.from(writeSafetensors(built)).equals(file)).toBe(false);
  });

  it.each(manifests.filter((m) => m.startsWith('cpc_')))('%s builds F32 tensors of the manifest shapes in manifest order', (m) => {
    const man = readManifest(path.join(dir, m));
    const built = buildFromManifest(man);
    expect([...built.keys()]).toEqual(Object.keys(man));
    for (const [name, e] of Object.entries(man)) {
      const t = built.get(name)!;
      expect(t.shape).toEqual(e.shape);
      expect(t.shape).not.toBe(e.shape); // a copy
      expect(t.data.length).toBe(e.shape.reduce((a, b) => a * b, 1));
      expect(t.data[0]).toBe(Math.fround(e.offset + detUniform(fnv1a32(name), 0) * e.scale));
    }
  });
});

describe('fixed manifest entries (golden-vap)', () => {
  test('alibi_slopes and codebook_bits build their constants; check vectors of the VAP manifests', () => {
    const m = readManifest(path.join(__dirname, 'fixtures', 'golden-vap', 'weights', 'vap_cpc_manifest.json'));
    const t = buildFromManifest(m);
    expect(Array.from(t.get('ar.layers.2.mha_cross.m')!.data as Float32Array)).toEqual([0.25, 0.0625, 0.015625, 0.00390625]);
    const cb = t.get('objective.codebook.emb.weight')!;
    expect(cb.shape).toEqual([256, 8]);
    expect(Array.from((cb.data as Float32Array).subarray(5 * 8, 6 * 8))).toEqual([1, 0, 1, 0, 0, 0, 0, 0]);
    expect(Array.from((cb.data as Float32Array).subarray(255 * 8))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from((t.get('vap_head.weight')!.data as Float32Array).subarray(0, 3))).toEqual([-0.063232421875, 0.454345703125, -0.058837890625]);
    expect(Array.from((t.get('encoder.downsample.1.weight')!.data as Float32Array).subarray(0, 3))).toEqual([0.0090484619140625, -0.008575439453125, 0.017547607421875]);
  });

  test('bad fixed entries are errors naming the entry', () => {
    expect(() => parseManifest({ a: { shape: [4], fixed: 'nope' } })).toThrow(/entry "a": unknown fixed kind "nope"/);
    expect(() => parseManifest({ a: { shape: [4], fixed: 'alibi_slopes', values: [1, 2] } })).toThrow(/entry "a": 2 values for shape \[4\]/);
    expect(() => parseManifest({ a: { shape: [4], fixed: 'alibi_slopes' } })).toThrow(/entry "a": alibi_slopes needs "values"/);
    expect(() => parseManifest({ b: { shape: [300, 8], fixed: 'codebook_bits' } })).toThrow(/entry "b": codebook_bits needs/);
  });
});
