import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ByteSource,
  MAX_HEADER_BYTES,
  SafetensorsFile,
  memorySource,
  parseHeader,
  readSafetensors,
  writeSafetensors,
} from '../src/weights/safetensors';
import { DType, FormatError, RawTensor, bf16ToF32, f16ToF32, toFloat32 } from '../src/weights/types';
import { goldenPath } from './helpers/golden';

/** A safetensors file from a raw header (object -> JSON, string -> as is, bytes -> as is) and `dataBytes` of data. */
function rawFile(header: unknown, dataBytes = 0, headerLenOverride?: bigint): Uint8Array {
  const hb =
    header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + hb.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, headerLenOverride ?? BigInt(hb.length), true);
  out.set(hb, 8);
  for (let i = 0; i < dataBytes; i++) out[8 + hb.length + i] = i & 0xff;
  return out;
}

/** The FormatError thrown by reading `bytes` (through readSafetensors, the in-memory path). */
function errorOf(bytes: Uint8Array): FormatError {
  let err: unknown;
  try {
    readSafetensors(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  // parseHeader on a plain source must agree with readSafetensors.
  expect(() => parseHeader(memorySource(bytes))).toThrow((err as Error).message);
  return err as FormatError;
}

const f32 = (shape: number[], begin: number) => ({ dtype: 'F32', shape, data_offsets: [begin, begin + 4 * shape.reduce((a, b) => a * b, 1)] });

describe('safetensors validation (each rule is a FormatError naming the tensor and the rule)', () => {
  it('file shorter than the 8-byte header length', () => {
    for (const n of [0, 1, 7]) {
      expect(errorOf(new Uint8Array(n)).message).toMatch(new RegExp(`file is ${n} bytes, too small for the 8-byte header length`));
    }
  });

  it('header length larger than the file', () => {
    const ok = rawFile({ a: f32([2], 0) }, 8);
    const bad = rawFile({ a: f32([2], 0) }, 8, BigInt(ok.length)); // 8 + N > size
    expect(errorOf(bad).message).toMatch(new RegExp(`header length ${ok.length} runs past the end of the file \\(${ok.length} bytes\\)`));
    // Exactly filling the file (no data) is not a length error (but then the tensor's data is missing).
    const exact = rawFile({}, 0);
    expect(readSafetensors(exact).tensors.size).toBe(0);
  });

  it('header length over the 100 MB limit (checked before anything else is read)', () => {
    expect(MAX_HEADER_BYTES).toBe(100_000_000);
    const over = rawFile('{}', 0, BigInt(MAX_HEADER_BYTES + 1));
    expect(errorOf(over).message).toMatch(/header length 100000001 exceeds the 100 MB limit/);
    const huge = rawFile('{}', 0, 0xffff_ffff_ffff_ffffn);
    expect(errorOf(huge).message).toMatch(/header length 18446744073709551615 exceeds the 100 MB limit/);
    // At the limit: not a limit error, only "runs past the end" for this small file.
    const at = rawFile('{}', 0, BigInt(MAX_HEADER_BYTES));
    expect(errorOf(at).message).toMatch(/runs past the end of the file/);
    // The limit is checked without reading the header bytes: a source that refuses larger reads still gives the limit error.
    const reads: Array<[number, number]> = [];
    const src: ByteSource = {
      size: 2 ** 40,
      read(o, n) {
        reads.push([o, n]);
        if (o !== 0 || n !== 8) throw new Error('should not read past the length field');
        return over.subarray(0, 8);
      },
    };
    expect(() => parseHeader(src)).toThrow(/exceeds the 100 MB limit/);
    expect(reads).toEqual([[0, 8]]);
  });

  it('header is not valid UTF-8', () => {
    const bytes = rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])); // "{", invalid, invalid, "}"
    expect(errorOf(bytes).message).toMatch(/header is not valid UTF-8/);
    // A truncated multi-byte sequence is invalid as well.
    expect(errorOf(rawFile(new Uint8Array([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d]))).message).toMatch(/not valid UTF-8/);
  });

  it('header is not valid JSON', () => {
    expect(errorOf(rawFile('{"a":')).message).toMatch(/header is not valid JSON/);
  });

  it('header JSON is not an object (array, number, null, string)', () => {
    for (const h of ['[]', '[{"dtype":"F32"}]', '1', '3.5', 'null', '"x"', 'true']) {
      expect(errorOf(rawFile(h)).message).toMatch(/header must be a JSON object/);
    }
  });

  it('tensor entry that is not an object', () => {
    for (const v of [5, null, 'F32', [1, 2]]) {
      expect(errorOf(rawFile({ w: v })).message).toMatch(/tensor "w": entry must be an object with dtype, shape, data_offsets/);
    }
  });

  it.each(['dtype', 'shape', 'data_offsets'])('entry missing %s', (key) => {
    const entry: Record<string, unknown> = { ...f32([2], 0) };
    delete entry[key];
    expect(errorOf(rawFile({ 'my.weight': entry }, 8)).message).toMatch(new RegExp(`tensor "my\\.weight": missing "${key}"`));
  });

  it('entry with an unknown field', () => {
    expect(errorOf(rawFile({ w: { ...f32([2], 0), extra: 1 } }, 8)).message).toMatch(/tensor "w": unknown field "extra"/);
  });

  it('unknown dtype', () => {
    for (const dt of ['F8_E4M3', 'f32', 'float32', 'C64', 3, null]) {
      const m = errorOf(rawFile({ w: { dtype: dt, shape: [2], data_offsets: [0, 8] } }, 8)).message;
      expect(m).toMatch(/tensor "w": unsupported dtype/);
      expect(m).toContain(JSON.stringify(dt));
    }
  });

  it('negative, non-integer or non-numeric shape', () => {
    for (const shape of [[-1], [2, -2], [1.5], [2, 0.5], ['2'], [null], 4, 'x', null, [2 ** 53]]) {
      expect(errorOf(rawFile({ w: { dtype: 'F32', shape, data_offsets: [0, 8] } }, 8)).message).toMatch(
        /tensor "w": shape must be a list of non-negative integers/,
      );
    }
  });

  it('malformed data_offsets', () => {
    for (const offs of [[0], [0, 8, 16], [-8, 0], [0, 7.5], ['0', '8'], 8, null]) {
      expect(errorOf(rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: offs } }, 8)).message).toMatch(
        /tensor "w": data_offsets must be \[begin, end\] non-negative integers/,
      );
    }
  });

  it('data_offsets begin > end', () => {
    expect(errorOf(rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8)).message).toMatch(
      /tensor "w": data_offsets end 0 < begin 8/,
    );
  });

  it('byte length != numel * dtype size', () => {
    const m = errorOf(rawFile({ w: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 8] } }, 8)).message;
    expect(m).toMatch(/tensor "w": byte length 8 != 12 \(shape \[2,3\] x F16 size 2\)/);
    expect(errorOf(rawFile({ w: { dtype: 'I64', shape: [], data_offsets: [0, 4] } }, 4)).message).toMatch(
      /tensor "w": byte length 4 != 8/,
    );
  });

  it('data_offsets past the end of the data section', () => {
    // Consistent offsets and shape, but the file holds only 8 of the 16 data bytes.
    expect(errorOf(rawFile({ w: f32([4], 0) }, 8)).message).toMatch(
      /tensor "w": data_offsets end 16 is past the end of the data section \(8 bytes\)/,
    );
    expect(errorOf(rawFile({ a: f32([2], 0), b: f32([2], 8) }, 12)).message).toMatch(/tensor "b": data_offsets end 16 is past the end/);
  });

  it('overlapping tensors', () => {
    const m = errorOf(rawFile({ a: f32([2], 0), b: f32([2], 4) }, 12)).message;
    expect(m).toMatch(/tensor "b": data overlaps the previous tensor \(begins at 4, previous ends at 8\)/);
    // Two tensors on the same bytes.
    expect(errorOf(rawFile({ a: f32([2], 0), b: f32([2], 0) }, 8)).message).toMatch(/data overlaps the previous tensor/);
  });

  it('gap between tensors (and before the first)', () => {
    expect(errorOf(rawFile({ a: f32([2], 0), b: f32([2], 12) }, 20)).message).toMatch(
      /tensor "b": gap in the data section \(begins at 12, previous ends at 8\)/,
    );
    expect(errorOf(rawFile({ a: f32([2], 4) }, 12)).message).toMatch(/tensor "a": gap in the data section \(begins at 4, previous ends at 0\)/);
  });

  it('data section not fully covered (trailing bytes)', () => {
    expect(errorOf(rawFile({ a: f32([2], 0) }, 12)).message).toMatch(
      /data section is 12 bytes but the tensors cover 8 \(trailing bytes or truncated file\)/,
    );
    expect(errorOf(rawFile({}, 1)).message).toMatch(/data section is 1 bytes but the tensors cover 0/);
  });

  it('__metadata__ that is not a string map', () => {
    for (const md of [[], 'x', 1, null]) {
      expect(errorOf(rawFile({ __metadata__: md })).message).toMatch(/__metadata__ must be an object mapping strings to strings/);
    }
    for (const v of [1, null, { a: 'b' }, ['x'], true]) {
      expect(errorOf(rawFile({ __metadata__: { fmt: 'pt', bad: v } })).message).toMatch(/__metadata__ value of "bad" is not a string/);
    }
  });

  it('SafetensorsFile.open prefixes the path to the FormatError and closes the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-bad-'));
    const p = path.join(dir, 'bad.safetensors');
    const openFds = () => (fs.existsSync('/proc/self/fd') ? fs.readdirSync('/proc/self/fd').length : 0);
    try {
      fs.writeFileSync(p, rawFile({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, 8));
      const fdsBefore = openFds();
      let err: unknown;
      try {
        SafetensorsFile.open(p);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FormatError);
      expect((err as Error).message).toBe(`${p}: safetensors: tensor "w": unsupported dtype "Q4"`);
      expect(openFds()).toBe(fdsBefore);
      fs.writeFileSync(p, new Uint8Array(3));
      expect(() => SafetensorsFile.open(p)).toThrow(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*too small`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('get of an unknown name is a FormatError naming it', () => {
    const f = SafetensorsFile.fromBytes(writeSafetensors([['a', { dtype: 'U8', shape: [1], data: new Uint8Array([1]) }]]));
    expect(() => f.get('nope')).toThrow(FormatError);
    expect(() => f.get('nope')).toThrow(/no tensor named "nope"/);
  });
});

describe('safetensors round trip', () => {
  const tensors: Array<[string, RawTensor]> = [
    ['f32', { dtype: 'F32', shape: [2, 3], data: new Float32Array([0, -1.5, 3.25, Math.fround(0.1), Infinity, -0]) }],
    ['f16', { dtype: 'F16', shape: [9], data: new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x7bff, 0x0400]) }],
    ['bf16', { dtype: 'BF16', shape: [3, 3], data: new Uint16Array([0x3f80, 0xc000, 0x0001, 0x7f80, 0xff80, 0x7fc0, 0x8000, 0x4049, 0x0080]) }],
    ['f64', { dtype: 'F64', shape: [4], data: new Float64Array([Math.PI, -1e300, 5e-324, NaN]) }],
    ['i64', { dtype: 'I64', shape: [2, 2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n]) }],
    ['i32', { dtype: 'I32', shape: [3], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 7]) }],
    ['i16', { dtype: 'I16', shape: [3], data: new Int16Array([-32768, 32767, -2]) }],
    ['i8', { dtype: 'I8', shape: [1, 3], data: new Int8Array([-128, 127, 0]) }],
    ['u8', { dtype: 'U8', shape: [3], data: new Uint8Array([0, 255, 42]) }],
    ['bool', { dtype: 'BOOL', shape: [4], data: new Uint8Array([0, 1, 1, 0]) }],
    ['scalar', { dtype: 'F32', shape: [], data: new Float32Array([2.5]) }],
    ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
  ];
  const expectedType: Record<DType, Function> = {
    F32: Float32Array, F16: Uint16Array, BF16: Uint16Array, F64: Float64Array, I64: BigInt64Array,
    I32: Int32Array, I16: Int16Array, I8: Int8Array, U8: Uint8Array, BOOL: Uint8Array,
  };

  it('every dtype comes back with the same dtype, shape, array type and exact values (file order kept)', () => {
    const bytes = writeSafetensors(tensors);
    const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(hlen % 8).toBe(0); // padded so that the data is aligned
    const { tensors: back, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual({});
    expect([...back.keys()]).toEqual(tensors.map(([n]) => n));
    for (const [name, t] of tensors) {
      const r = back.get(name)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(r.data).toBeInstanceOf(expectedType[t.dtype]);
      expect(r.data.length).toBe(t.data.length);
      // Bit-exact (also NaN payloads and -0).
      expect(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength)).toEqual(
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      );
    }
    expect(Array.from(back.get('i64')!.data as BigInt64Array)).toEqual([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n]);
    expect(Array.from(back.get('bool')!.data as Uint8Array)).toEqual([0, 1, 1, 0]);
    // Writing what was read gives the same bytes again.
    expect(Buffer.from(writeSafetensors(back))).toEqual(Buffer.from(bytes));
  });

  it('F16 widens exactly through toFloat32', () => {
    const { tensors: back } = readSafetensors(writeSafetensors(tensors));
    const v = toFloat32(back.get('f16')!);
    expect(v).toBeInstanceOf(Float32Array);
    expect(Array.from(v.subarray(0, 5))).toEqual([1, -2, 2 ** -24, Infinity, -Infinity]);
    expect(Number.isNaN(v[5])).toBe(true);
    expect(Object.is(v[6], -0)).toBe(true);
    expect(v[7]).toBe(65504);
    expect(v[8]).toBe(2 ** -14);
    // Every finite half is exact in float32 and the conversion is monotone over positive halves.
    let prev = -1;
    const bad: number[] = [];
    for (let h = 0; h < 0x7c00; h++) {
      const x = f16ToF32(h);
      if (!(Math.fround(x) === x && x > prev) || !Object.is(f16ToF32(h | 0x8000), -x)) bad.push(h);
      prev = x;
    }
    expect(bad).toEqual([]);
  });

  it('BF16 widens exactly through toFloat32', () => {
    const { tensors: back } = readSafetensors(writeSafetensors(tensors));
    const v = toFloat32(back.get('bf16')!);
    expect(Array.from(v.subarray(0, 5))).toEqual([1, -2, 2 ** -133, Infinity, -Infinity]);
    expect(Number.isNaN(v[5])).toBe(true);
    expect(Object.is(v[6], -0)).toBe(true);
    expect(v[7]).toBe(3.140625);
    expect(v[8]).toBe(2 ** -126);
    expect(bf16ToF32(0x3f80)).toBe(1);
  });

  it('integers, bools and F64 widen by value', () => {
    const { tensors: back } = readSafetensors(writeSafetensors(tensors));
    expect(Array.from(toFloat32(back.get('i32')!))).toEqual([-(2 ** 31), 2 ** 31, 7]); // 2^31-1 rounds to 2^31 in float32
    expect(Array.from(toFloat32(back.get('i8')!))).toEqual([-128, 127, 0]);
    expect(Array.from(toFloat32(back.get('i64')!))).toEqual([-(2 ** 63), 2 ** 63, 0, -1]);
    expect(Array.from(toFloat32(back.get('bool')!))).toEqual([0, 1, 1, 0]);
    expect(toFloat32(back.get('f64')!)[0]).toBe(Math.fround(Math.PI));
  });

  it('metadata round trip (order, unicode, empty values)', () => {
    const md = { format: 'pt', note: 'héllo ✓ "quoted"', empty: '', json: JSON.stringify({ a: [1, 2] }) };
    const bytes = writeSafetensors([['x', tensors[0][1]]], md);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual(md);
    expect(Object.keys(back.metadata)).toEqual(Object.keys(md));
    expect([...back.tensors.keys()]).toEqual(['x']); // __metadata__ is not a tensor
    // Empty metadata writes no __metadata__ entry at all.
    const plain = writeSafetensors([['x', tensors[0][1]]], {});
    const hlen = Number(new DataView(plain.buffer).getBigUint64(0, true));
    expect(new TextDecoder().decode(plain.subarray(8, 8 + hlen))).not.toContain('__metadata__');
  });

  it('reads tensors from an unaligned view of the bytes', () => {
    const bytes = writeSafetensors(tensors);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const back = readSafetensors(shifted.subarray(3));
    expect(Array.from(back.tensors.get('f64')!.data as Float64Array).slice(0, 3)).toEqual([Math.PI, -1e300, 5e-324]);
  });

  it('writer refuses bad input', () => {
    const t = tensors[0][1];
    expect(() => writeSafetensors([['a', t], ['a', t]])).toThrow(/duplicate tensor name "a"/);
    expect(() => writeSafetensors([['__metadata__', t]])).toThrow(/cannot be a tensor name/);
    expect(() => writeSafetensors([['a', { dtype: 'F32', shape: [7], data: new Float32Array(6) }]])).toThrow(/tensor "a": 24 data bytes/);
    expect(() => writeSafetensors([['a', t]], { k: 1 as unknown as string })).toThrow(/metadata value of "k"/);
  });
});

describe('SafetensorsFile lazy reading', () => {
  const a = new Float32Array([1, 2, 3, 4]);
  const b = new Int16Array([-1, 5]);
  const bytes = writeSafetensors([['a', { dtype: 'F32', shape: [2, 2], data: a }], ['b', { dtype: 'I16', shape: [2], data: b }]], { k: 'v' });
  const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));

  it('parses only the header until get(), then reads only that tensor', () => {
    const reads: Array<[number, number]> = [];
    const src: ByteSource = { size: bytes.length, read: (o, n) => (reads.push([o, n]), bytes.subarray(o, o + n)) };
    const f = new SafetensorsFile(src, 'mem');
    expect(reads).toEqual([[0, 8], [8, hlen]]);
    expect(f.names).toEqual(['a', 'b']);
    expect(f.metadata).toEqual({ k: 'v' });
    expect(f.has('a')).toBe(true);
    expect(f.has('c')).toBe(false);
    expect(f.info('b')).toEqual({ name: 'b', dtype: 'I16', shape: [2], begin: 16, end: 20 });
    expect(f.info('c')).toBeUndefined();
    expect(f.header.dataStart).toBe(8 + hlen);
    expect(f.header.dataLength).toBe(20);
    expect(reads.length).toBe(2);
    expect(Array.from(f.get('b').data as Int16Array)).toEqual([-1, 5]);
    expect(reads.slice(2)).toEqual([[8 + hlen + 16, 4]]);
  });

  it('open() on a file reads the data only on get()', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-lazy-'));
    const p = path.join(dir, 'w.safetensors');
    try {
      fs.writeFileSync(p, bytes);
      const f = SafetensorsFile.open(p);
      try {
        expect(f.label).toBe(p);
        expect(f.names).toEqual(['a', 'b']);
        expect(f.info('a')!.shape).toEqual([2, 2]);
        // Change the data on disk after open: get() sees the new bytes, so nothing was read or cached earlier.
        const fd = fs.openSync(p, 'r+');
        fs.writeSync(fd, new Uint8Array(new Float32Array([9, 8, 7, 6]).buffer), 0, 16, 8 + hlen);
        fs.closeSync(fd);
        const t = f.get('a');
        expect(t.dtype).toBe('F32');
        expect(t.shape).toEqual([2, 2]);
        expect(Array.from(t.data as Float32Array)).toEqual([9, 8, 7, 6]);
        expect(Array.from(f.get('b').data as Int16Array)).toEqual([-1, 5]);
        expect([...f.all().keys()]).toEqual(['a', 'b']);
      } finally {
        f.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file truncated after open gives a FormatError on get', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-trunc-'));
    const p = path.join(dir, 'w.safetensors');
    try {
      fs.writeFileSync(p, bytes);
      const f = SafetensorsFile.open(p);
      fs.truncateSync(p, 8 + hlen + 4);
      try {
        expect(() => f.get('b')).toThrow(FormatError);
        expect(() => f.get('b')).toThrow(/unexpected end of file/);
      } finally {
        f.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('golden tiny Mimi weights file', () => {
  it('opens and lists every tensor (F32, consistent offsets), and every tensor reads', () => {
    const p = goldenPath('weights', 'mimi_tiny_weights.safetensors');
    const manifest = JSON.parse(fs.readFileSync(goldenPath('weights', 'mimi_tiny_manifest.json'), 'utf8')) as Record<string, { shape: number[] }>;
    const f = SafetensorsFile.open(p);
    try {
      expect(f.names.length).toBe(Object.keys(manifest).length);
      expect([...f.names].sort()).toEqual(Object.keys(manifest).sort());
      expect(f.names).toContain('encoder.layers.0.conv.weight');
      expect(f.names).toContain('downsample.conv.weight');
      expect(f.names).toContain('frame_rate_conv.weight');
      let total = 0;
      for (const n of f.names) {
        const info = f.info(n)!;
        expect(info.dtype).toBe('F32');
        expect(info.shape).toEqual(manifest[n].shape);
        total += info.end - info.begin;
      }
      expect(total).toBe(f.header.dataLength);
      expect(f.header.dataStart + f.header.dataLength).toBe(fs.statSync(p).size);
      const w = f.get('encoder.layers.0.conv.weight');
      expect(w.shape).toEqual([8, 1, 7]);
      expect((w.data as Float32Array).every((x) => Number.isFinite(x))).toBe(true);
    } finally {
      f.close();
    }
  });
});

describe('metadata keys', () => {
  it('keeps a __metadata__ key named __proto__ as data', () => {
    const { readSafetensors: read } = require('../src/weights/safetensors');
    const hb = new TextEncoder().encode('{"__metadata__":{"__proto__":"x","a":"b"}}');
    const file = new Uint8Array(8 + hb.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(hb.length), true);
    file.set(hb, 8);
    const md = read(file).metadata;
    expect(Object.keys(md).sort()).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(md, '__proto__')?.value).toBe('x');
  });
});
