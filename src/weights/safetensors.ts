/**
 * safetensors reader and writer: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the raw
 * little-endian data. Validation follows the reference implementation (huggingface/safetensors): every violation
 * is a FormatError that names the tensor and the rule. The header is parsed strictly (src/weights/strictJson): a
 * name or field given twice, or a byte order mark before the JSON, is refused (the header is a map with unique
 * names); every name, `__proto__` included, is data, and what the writer writes the reader reads back.
 */
import * as fs from 'node:fs';
import { DTYPE_SIZE, DType, FormatError, RawTensor, numel } from './types';
import { StrictJsonError, parseStrictJson } from './strictJson';

export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** Absolute byte offset of the data section in the file. */
  dataStart: number;
  dataLength: number;
}

/** Anything that can hand out bytes at an offset: a Uint8Array in memory or an open file. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  close?(): void;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (o, n) => bytes.subarray(o, o + n) };
}

export function fileSource(path: string): ByteSource {
  const fd = fs.openSync(path, 'r');
  const st = fs.fstatSync(fd);
  if (st.isDirectory()) {
    fs.closeSync(fd);
    throw new FormatError(`${path} is a folder, not a file`);
  }
  const size = st.size;
  return {
    size,
    read(offset, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = fs.readSync(fd, buf, got, length - got, offset + got);
        if (n === 0) throw new FormatError(`${path}: unexpected end of file at byte ${offset + got}`);
        got += n;
      }
      return buf;
    },
    close: () => fs.closeSync(fd),
  };
}

function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

/** Parses and validates the header; reads only the first 8 + N bytes of the source. */
export function parseHeader(src: ByteSource): SafetensorsHeader {
  if (src.size < 8) throw new FormatError(`safetensors: file is ${src.size} bytes, too small for the 8-byte header length`);
  const lenBytes = src.read(0, 8);
  const n64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError(`safetensors: header length ${n64} exceeds the 100 MB limit`);
  }
  const n = Number(n64);
  if (8 + n > src.size) {
    throw new FormatError(`safetensors: header length ${n} runs past the end of the file (${src.size} bytes)`);
  }
  let text: string;
  try {
    // ignoreBOM: a byte order mark stays in the text (and is refused below) instead of being dropped silently.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(src.read(8, n));
  } catch {
    throw new FormatError('safetensors: header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = parseStrictJson(text);
  } catch (e) {
    if (!(e instanceof StrictJsonError)) throw e;
    if (e.duplicate !== undefined) {
      const [top] = e.path;
      const what =
        e.path.length === 0
          ? `tensor name "${e.duplicate}" appears twice`
          : top === '__metadata__' && e.path.length === 1
            ? `__metadata__ key "${e.duplicate}" appears twice`
            : `tensor "${top}": field "${e.duplicate}" appears twice`;
      throw new FormatError(`safetensors: ${what} in the header (names must be unique)`);
    }
    throw new FormatError(`safetensors: header is not valid JSON (${e.message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new FormatError('safetensors: header must be a JSON object');
  }
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new FormatError('safetensors: __metadata__ must be an object mapping strings to strings');
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new FormatError(`safetensors: __metadata__ value of "${k}" is not a string`);
        // defineProperty: a key named __proto__ is data, not the prototype setter.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new FormatError(`safetensors: tensor "${name}": entry must be an object with dtype, shape, data_offsets`);
    }
    const e = value as Record<string, unknown>;
    for (const key of ['dtype', 'shape', 'data_offsets']) {
      if (!Object.prototype.hasOwnProperty.call(e, key)) throw new FormatError(`safetensors: tensor "${name}": missing "${key}"`);
    }
    for (const key of Object.keys(e)) {
      if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') {
        throw new FormatError(`safetensors: tensor "${name}": unknown field "${key}"`);
      }
    }
    if (!isDType(e.dtype)) throw new FormatError(`safetensors: tensor "${name}": unsupported dtype ${JSON.stringify(e.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FormatError(`safetensors: tensor "${name}": shape must be a list of non-negative integers`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FormatError(`safetensors: tensor "${name}": data_offsets must be [begin, end] non-negative integers`);
    }
    const [begin, end] = offs as number[];
    if (end < begin) throw new FormatError(`safetensors: tensor "${name}": data_offsets end ${end} < begin ${begin}`);
    const expected = numel(shape as number[]) * DTYPE_SIZE[e.dtype];
    if (end - begin !== expected) {
      throw new FormatError(
        `safetensors: tensor "${name}": byte length ${end - begin} != ${expected} (shape [${shape}] x ${e.dtype} size ${DTYPE_SIZE[e.dtype]})`,
      );
    }
    tensors.push({ name, dtype: e.dtype, shape: shape as number[], begin, end });
  }
  const dataStart = 8 + n;
  const dataLength = src.size - dataStart;
  // The data section must be covered exactly: sorted by offset, no gap, no overlap, nothing past the end.
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of sorted) {
    if (t.begin < cursor) throw new FormatError(`safetensors: tensor "${t.name}": data overlaps the previous tensor (begins at ${t.begin}, previous ends at ${cursor})`);
    if (t.begin > cursor) throw new FormatError(`safetensors: tensor "${t.name}": gap in the data section (begins at ${t.begin}, previous ends at ${cursor})`);
    if (t.end > dataLength) {
      throw new FormatError(`safetensors: tensor "${t.name}": data_offsets end ${t.end} is past the end of the data section (${dataLength} bytes)`);
    }
    cursor = t.end;
  }
  if (cursor !== dataLength) {
    throw new FormatError(`safetensors: data section is ${dataLength} bytes but the tensors cover ${cursor} (trailing bytes or truncated file)`);
  }
  // Keep the file's order (JSON object order) for listing.
  return { tensors, metadata, dataStart, dataLength };
}

/** Decodes little-endian bytes of one dtype into a fresh typed array. */
export function decodeTensorBytes(dtype: DType, shape: number[], bytes: Uint8Array): RawTensor {
  const n = numel(shape);
  // Copy into an aligned buffer so typed-array views are valid regardless of the source offset.
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (!littleEndianHost) throw new FormatError('safetensors: big-endian hosts are not supported');
  let data: RawTensor['data'];
  switch (dtype) {
    case 'F64': data = new Float64Array(buf, 0, n); break;
    case 'F32': data = new Float32Array(buf, 0, n); break;
    case 'F16': case 'BF16': data = new Uint16Array(buf, 0, n); break;
    case 'I64': data = new BigInt64Array(buf, 0, n); break;
    case 'I32': data = new Int32Array(buf, 0, n); break;
    case 'I16': data = new Int16Array(buf, 0, n); break;
    case 'I8': data = new Int8Array(buf, 0, n); break;
    case 'U8': case 'BOOL': data = new Uint8Array(buf, 0, n); break;
  }
  return { dtype, shape: [...shape], data };
}

/** Lazy reader: parses the header once, then reads a tensor's bytes only when it is asked for. */
export class SafetensorsFile {
  readonly header: SafetensorsHeader;
  private readonly byName: Map<string, TensorInfo>;

  constructor(private readonly src: ByteSource, readonly label = 'safetensors') {
    this.header = parseHeader(src);
    this.byName = new Map(this.header.tensors.map((t) => [t.name, t]));
  }

  static open(path: string): SafetensorsFile {
    const src = fileSource(path);
    try {
      return new SafetensorsFile(src, path);
    } catch (e) {
      src.close?.();
      if (e instanceof FormatError) throw new FormatError(`${path}: ${e.message}`);
      throw e;
    }
  }

  static fromBytes(bytes: Uint8Array): SafetensorsFile {
    return new SafetensorsFile(memorySource(bytes));
  }

  get names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  info(name: string): TensorInfo | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): RawTensor {
    const t = this.byName.get(name);
    if (!t) throw new FormatError(`${this.label}: no tensor named "${name}"`);
    const bytes = this.src.read(this.header.dataStart + t.begin, t.end - t.begin);
    return decodeTensorBytes(t.dtype, t.shape, bytes);
  }

  /** Reads every tensor (in file order). */
  all(): Map<string, RawTensor> {
    return new Map(this.names.map((n) => [n, this.get(n)]));
  }

  close(): void {
    this.src.close?.();
  }
}

export function readSafetensors(bytes: Uint8Array): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const f = SafetensorsFile.fromBytes(bytes);
  return { tensors: f.all(), metadata: f.metadata };
}

/**
 * Serialises tensors (in the given order) with optional string metadata. The header is padded with spaces to a
 * multiple of 8 bytes, as the reference writer does, so the data section is aligned.
 */
export function writeSafetensors(tensors: Map<string, RawTensor> | Array<[string, RawTensor]>, metadata?: Record<string, string>): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : tensors;
  // Null prototypes: a name such as "__proto__" is an own key (with {} it would set the prototype and vanish
  // from the JSON, leaving a gap in the data section).
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length > 0) {
    const meta: Record<string, string> = Object.create(null);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors: metadata value of "${k}" must be a string`);
      if (!wellFormed(k) || !wellFormed(v)) throw new TypeError(`safetensors: metadata "${k}" is not well-formed Unicode (a lone surrogate)`);
      meta[k] = v;
    }
    header.__metadata__ = meta;
  }
  let offset = 0;
  const seen = new Set<string>();
  for (const [name, t] of entries) {
    if (typeof name !== 'string') throw new TypeError(`safetensors: tensor names must be strings, got ${typeof name}`);
    if (name === '__metadata__') throw new TypeError('safetensors: "__metadata__" cannot be a tensor name');
    // A lone surrogate would be written as U+FFFD: the name would not read back.
    if (!wellFormed(name)) throw new TypeError(`safetensors: tensor name ${JSON.stringify(name)} is not well-formed Unicode (a lone surrogate)`);
    if (seen.has(name)) throw new TypeError(`safetensors: duplicate tensor name "${name}"`);
    seen.add(name);
    const bytes = numel(t.shape) * DTYPE_SIZE[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new TypeError(`safetensors: tensor "${name}": ${t.data.byteLength} data bytes for shape [${t.shape}] x ${t.dtype}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let pos = 8 + hb.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string encodes to UTF-8 and decodes back unchanged (no lone surrogate). */
export function wellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export function f32Tensor(shape: number[], data: Float32Array): RawTensor {
  if (data.length !== numel(shape)) throw new TypeError(`f32Tensor: ${data.length} values for shape [${shape}]`);
  return { dtype: 'F32', shape, data };
}
