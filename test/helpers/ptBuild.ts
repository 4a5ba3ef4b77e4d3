/**
 * Byte-level builders for torch.save files (pickle opcodes, the legacy stream, stored zip archives), shared by the
 * checkpoint tests and the fuzzers. They know the formats only as bytes: nothing here imports the reader.
 */

const enc = new TextEncoder();
export const ascii = (s: string): number[] => Array.from(enc.encode(s));
export const u16le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];
export const u32le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
export const i64le = (n: bigint): number[] => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, n, true);
  return Array.from(b);
};

/** Pickle opcodes (protocol 2 unless noted). */
export const op: {
  proto: number[]; str(s: string): number[]; int(n: number): number[]; long(v: bigint): number[]; global(m: string, n: string): number[];
  tuple(items: number[][]): number[]; emptyDict: number[]; emptyTuple: number[]; mark: number[]; setitems: number[]; setitem: number[];
  none: number[]; newfalse: number[]; reduce: number[]; binpersid: number[]; put(i: number): number[]; get(i: number): number[]; stop: number[];
} = {
  proto: [0x80, 0x02],
  str: (s: string): number[] => [0x58, ...u32le(enc.encode(s).length), ...ascii(s)],
  /** BININT1 / BININT2 / BININT (signed 32-bit), or LONG1 beyond 32 bits. */
  int: (n: number): number[] =>
    n >= 0 && n < 256
      ? [0x4b, n]
      : n >= 0 && n < 65536
        ? [0x4d, ...u16le(n)]
        : n >= -(2 ** 31) && n < 2 ** 31
          ? [0x4a, ...u32le(n >>> 0)]
          : op.long(BigInt(n)),
  /** LONG1 of a bigint (little-endian two's complement, as pickle writes it). */
  long: (v: bigint): number[] => {
    const bytes: number[] = [];
    let x = v;
    do {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    } while (!((x === 0n && (bytes[bytes.length - 1] & 0x80) === 0) || (x === -1n && (bytes[bytes.length - 1] & 0x80) !== 0)));
    return bytes.length < 256 ? [0x8a, bytes.length, ...bytes] : [0x8b, ...u32le(bytes.length), ...bytes];
  },
  global: (m: string, n: string): number[] => [0x63, ...ascii(`${m}\n${n}\n`)],
  tuple: (items: number[][]): number[] => [0x28, ...items.flat(), 0x74],
  emptyDict: [0x7d],
  emptyTuple: [0x29],
  mark: [0x28],
  setitems: [0x75],
  setitem: [0x73],
  none: [0x4e],
  newfalse: [0x89],
  reduce: [0x52],
  binpersid: [0x51],
  put: (i: number): number[] => [0x72, ...u32le(i)],
  get: (i: number): number[] => [0x6a, ...u32le(i)],
  stop: [0x2e],
};
export const ints = (xs: number[]): number[] => op.tuple(xs.map(op.int));

export interface TensorSpec {
  name: string;
  storage: string;
  type?: string; // FloatStorage...
  numel: number;
  offset?: number;
  size: number[];
  stride: number[];
  parameter?: boolean;
  /** Legacy format only: the storage is a view (view key, element offset, element count) of its root. */
  view?: [string, number, number];
}

/** The persistent id of a storage: ('storage', type, key, 'cpu', numel[, view metadata]). */
export function storagePid(s: TensorSpec, legacy: boolean): number[] {
  const view = s.view ? op.tuple([op.str(s.view[0]), op.int(s.view[1]), op.int(s.view[2])]) : op.none;
  return op.tuple([op.str('storage'), op.global('torch', s.type ?? 'FloatStorage'), op.str(s.storage), op.str('cpu'), op.int(s.numel), ...(legacy ? [view] : [])]);
}

/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`, optionally as a Parameter. */
export function tensorOps(s: TensorSpec, legacy: boolean): number[] {
  let t = [
    ...op.global('torch._utils', '_rebuild_tensor_v2'),
    ...op.tuple([[...storagePid(s, legacy), ...op.binpersid], op.int(s.offset ?? 0), ints(s.size), ints(s.stride), op.newfalse, [...op.global('collections', 'OrderedDict'), ...op.emptyTuple, ...op.reduce]]),
    ...op.reduce,
  ];
  if (s.parameter) t = [...op.global('torch._utils', '_rebuild_parameter'), 0x28, ...t, 0x88, ...op.global('collections', 'OrderedDict'), 0x29, 0x52, 0x74, 0x52];
  return t;
}

/** The main pickle of a state dict; `legacy` adds the view-metadata slot of the legacy persistent id. */
export function stateDictPickle(specs: TensorSpec[], legacy: boolean): number[] {
  const out = [...op.proto, ...op.emptyDict, ...op.mark];
  for (const s of specs) out.push(...op.str(s.name), ...tensorOps(s, legacy));
  out.push(...op.setitems, ...op.stop);
  return out;
}

/** A legacy torch.save stream: magic, protocol, sys_info, `main`, the storage key list, then each storage. */
export function legacyFile(main: number[], storages: Array<[string, Uint8Array, number]>): Uint8Array {
  const magic = [...op.proto, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
  const version = [...op.proto, 0x4d, 0xe9, 0x03, 0x2e];
  const sysInfo = [...op.proto, 0x7d, 0x28, ...op.str('little_endian'), 0x88, 0x75, 0x2e];
  const keys = [...op.proto, 0x5d, 0x28, ...storages.flatMap(([k]) => op.str(k)), 0x65, 0x2e];
  const parts: number[] = [...magic, ...version, ...sysInfo, ...main, ...keys];
  for (const [, bytes, count] of storages) parts.push(...i64le(BigInt(count)), ...bytes);
  return new Uint8Array(parts);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A stored (uncompressed) zip archive; `method` lets a test claim compression. Entry names may repeat. */
export function zipFile(entries: Array<[string, Uint8Array]>, method = 0): Uint8Array {
  const local: number[] = [];
  const central: number[] = [];
  for (const [name, data] of entries) {
    const nb = ascii(name);
    const crc = crc32(data);
    const offset = local.length;
    local.push(...u32le(0x04034b50), ...u16le(20), ...u16le(0), ...u16le(method), ...u16le(0), ...u16le(0), ...u32le(crc), ...u32le(data.length), ...u32le(data.length), ...u16le(nb.length), ...u16le(0), ...nb);
    for (const x of data) local.push(x);
    central.push(
      ...u32le(0x02014b50), ...u16le(20), ...u16le(20), ...u16le(0), ...u16le(method), ...u16le(0), ...u16le(0), ...u32le(crc), ...u32le(data.length), ...u32le(data.length),
      ...u16le(nb.length), ...u16le(0), ...u16le(0), ...u16le(0), ...u16le(0), ...u32le(0), ...u32le(offset), ...nb,
    );
  }
  const eocd = [...u32le(0x06054b50), ...u16le(0), ...u16le(0), ...u16le(entries.length), ...u16le(entries.length), ...u32le(central.length), ...u32le(local.length), ...u16le(0)];
  return new Uint8Array([...local, ...central, ...eocd]);
}

export const f32bytes = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);

/** A zip checkpoint `a/data.pkl` + `a/data/<key>` for each storage. */
export function zipCheckpoint(pkl: number[] | Uint8Array, storages: Array<[string, Uint8Array]>): Uint8Array {
  return zipFile([['a/data.pkl', pkl instanceof Uint8Array ? pkl : new Uint8Array(pkl)], ...storages.map(([k, b]): [string, Uint8Array] => [`a/data/${k}`, b])]);
}

// ---- hostile structures (class 1 of issue 13) -------------------------------------------------------------------

/**
 * A dict that holds, under two keys, the same dict of the next level, `depth` levels deep, with one tensor at the
 * bottom: 2^depth paths to that tensor through a file of a few hundred bytes.
 */
export function sharedDictsPickle(depth: number, leafTensor = true): number[] {
  const out = [...op.proto];
  // Bottom dict: {'t': tensor} (or {'x': 1}); memo 0.
  out.push(...op.emptyDict, ...op.str(leafTensor ? 't' : 'x'));
  if (leafTensor) out.push(...tensorOps({ name: 't', storage: '0', numel: 1, size: [1], stride: [1] }, false));
  else out.push(...op.int(1));
  out.push(...op.setitem, ...op.put(0), 0x30 /* POP */);
  for (let d = 1; d <= depth; d++) {
    // {'a': memo[d-1], 'b': memo[d-1]} -> memo[d]
    out.push(...op.emptyDict, ...op.mark, ...op.str('a'), ...op.get(d - 1), ...op.str('b'), ...op.get(d - 1), ...op.setitems, ...op.put(d), 0x30);
  }
  out.push(...op.get(depth), ...op.stop);
  return out;
}

/** Lists nested `depth` deep: [[[...[]...]]]. */
export function deepListPickle(depth: number): number[] {
  const out = [...op.proto, 0x5d /* EMPTY_LIST */, ...op.put(0), 0x30 /* POP */];
  for (let d = 1; d <= depth; d++) out.push(0x5d, ...op.get(d - 1), 0x61 /* APPEND */, ...op.put(d), 0x30);
  out.push(...op.get(depth), ...op.stop);
  return out;
}

/** {'k': {'k': ... {'t': tensor} ...}}, `depth` dicts above the innermost (storage "0", one float). */
export function deepDictPickle(depth: number): number[] {
  const out = [...op.proto, ...op.emptyDict, ...op.str('t'), ...tensorOps({ name: 't', storage: '0', numel: 1, size: [1], stride: [1] }, false), ...op.setitem, ...op.put(0), 0x30];
  for (let d = 1; d <= depth; d++) out.push(...op.emptyDict, ...op.str('k'), ...op.get(d - 1), ...op.setitem, ...op.put(d), 0x30);
  out.push(...op.get(depth), ...op.stop);
  return out;
}

/**
 * A dict whose keys are tuples sharing a tuple of the level below twice, `depth` levels deep: written out as JSON
 * text, each key doubles in length with each level.
 */
export function sharedTupleKeysPickle(depth: number, keys = 1): number[] {
  const out = [...op.proto, ...op.str('x'), 0x85 /* TUPLE1 */, ...op.put(0), 0x30 /* POP */];
  for (let d = 1; d <= depth; d++) out.push(...op.get(d - 1), ...op.get(d - 1), 0x86 /* TUPLE2 */, ...op.put(d), 0x30);
  out.push(...op.emptyDict, ...op.mark);
  for (let k = 0; k < keys; k++) out.push(...op.get(depth), ...op.int(k));
  out.push(...op.setitems, ...op.stop);
  return out;
}

/** The entries of a stored zip written by zipFile (no ZIP64), or undefined when the bytes are not one. */
export function zipEntries(b: Uint8Array): Array<[string, Uint8Array]> | undefined {
  if (b.length < 22) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const eocd = b.length - 22;
  if (v.getUint32(eocd, true) !== 0x06054b50) return undefined;
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const out: Array<[string, Uint8Array]> = [];
  const dec = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (p + 46 > b.length || v.getUint32(p, true) !== 0x02014b50) return undefined;
    const size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const skip = nameLen + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
    const local = v.getUint32(p + 42, true);
    if (p + 46 + nameLen > b.length || local + 30 > b.length) return undefined;
    const name = dec.decode(b.subarray(p + 46, p + 46 + nameLen));
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    if (start + size > b.length) return undefined;
    out.push([name, b.subarray(start, start + size)]);
    p += 46 + skip;
  }
  return out;
}
