/**
 * PyTorch checkpoints (`torch.save` files) read without Python.
 *
 * Two container formats are understood:
 * - the zip format (torch >= 1.6): an uncompressed ("stored") zip archive holding `<prefix>/data.pkl` (the pickled
 *   object tree), `<prefix>/data/<key>` (the raw bytes of each storage) and optionally `<prefix>/byteorder`;
 *   ZIP64 archives are accepted;
 * - the legacy format (torch < 1.6, or `_use_new_zipfile_serialization=False`): five pickles in a row (magic number,
 *   protocol version, sys_info, the object tree, the list of storage keys), then every storage as an int64 element
 *   count followed by its raw bytes.
 *
 * The object tree is unpickled by a small, restricted pickle machine written for this purpose: it knows the opcodes of
 * pickle protocols 2 to 5 that torch emits, and it resolves only a fixed list of globals (OrderedDict, the tensor and
 * parameter rebuild helpers, the typed storage classes). Any other global is refused with a FormatError naming it;
 * nothing found in a file is ever executed. Every length read from the file is checked against the bytes that remain,
 * and every opcode consumes input, so a truncated or corrupt file ends in a FormatError, never in a hang.
 *
 * Only little-endian files are supported (all the ones torch writes on x86 and ARM).
 *
 * Work and memory are bounded by the file: reading takes time and memory linear in the file size plus the tensors
 * it yields, whatever the file holds.
 * - Objects referred to several times (pickle memo) are walked once: shared dicts, lists and tuples are memoised,
 *   and every walk is iterative. Objects nested deeper than MAX_NESTING (1000) levels are refused with a
 *   FormatError (CPython cannot pickle deeper either), never a "Maximum call stack size exceeded".
 * - Integers: LONG1/LONG4 are decoded in linear time; the text INT/LONG opcodes accept at most 4300 digits
 *   (CPython's own int_max_str_digits).
 * - Dict keys: a tuple key becomes its JSON text (integers as digits, bigints included), at most
 *   MAX_TUPLE_KEY_CHARS (1024) characters per key and, over a whole pickle, at most 8 characters per pickle byte
 *   plus 1 Mi; an integer key has at most 4300 digits.
 * - Tensors: at most `maxElements` elements are materialised per file, counting every tensor once (shared tensors
 *   are shared): by default 4 x the elements the file stores plus 2^20 (DEFAULT_ELEMENT_ALLOWANCE), so a view with
 *   stride 0 and a huge shape cannot turn a kilobyte into gigabytes. Past it, a FormatError names the tensor, its
 *   shape and the limit. Every view must lie inside its storage (legacy storage views inside their root storage).
 * - The state dict (stateDictOf): each tensor is listed once per key path; the names total at most
 *   MAX_STATE_DICT_NAME_CHARS (2^21) characters, and a dict that contains itself is refused.
 * - Containers must be unambiguous: a zip with two entries of one name, or with two data.pkl at the same depth, a
 *   legacy file listing a storage twice, or a storage whose stored size differs from the size its pickle declares,
 *   is refused.
 */
import { DTYPE_SIZE, DType, FormatError, RawTensor } from './types';

/** Deepest nesting of containers (dicts, lists, tuples) accepted in a checkpoint's object tree. */
export const MAX_NESTING = 1000;
/** Longest JSON text of one tuple-valued dict key. */
export const MAX_TUPLE_KEY_CHARS = 1024;
/** Most decimal digits in an integer written as text (INT / LONG opcodes) or used as a dict key. */
export const MAX_INT_DIGITS = 4300;
/** Elements a file may materialise beyond 4 x the elements it stores (see ReadTorchOptions.maxElements). */
export const DEFAULT_ELEMENT_ALLOWANCE = 2 ** 20;
/** Total characters of the names stateDictOf gives. */
export const MAX_STATE_DICT_NAME_CHARS = 2 ** 21;

export interface ReadTorchOptions {
  /**
   * Most tensor elements materialised from one file, all tensors together (a tensor shared by several keys counts
   * once). Default: 4 x the elements of the file's storages + DEFAULT_ELEMENT_ALLOWANCE.
   */
  maxElements?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Values of the unpickled tree

/** A reference to a global (`module.name`) that the pickle named and the allowlist accepted. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A torch storage as named by a persistent id; its bytes are attached once the container has been read. */
class StorageRef {
  bytes: Uint8Array | undefined;
  constructor(
    readonly key: string,
    readonly dtype: DType,
    /** Element offset inside the root storage (legacy storage views), else 0. */
    readonly elementOffset: number,
    /** Elements of a legacy storage view (checked against its root once the storages are read); else undefined. */
    readonly viewElements?: number,
  ) {}

  /** Elements this storage (or view) holds; 0 while its bytes are missing. */
  get elements(): number {
    if (!this.bytes) return 0;
    return this.viewElements ?? Math.floor(this.bytes.length / DTYPE_SIZE[this.dtype]);
  }
}

/** A tensor of the tree before its storage is read: what `_rebuild_tensor_v2` was asked to build. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** A tensor of the unpickled tree: a RawTensor with contiguous row-major data. */
export class TorchTensor implements RawTensor {
  constructor(
    readonly dtype: DType,
    readonly shape: number[],
    readonly data: RawTensor['data'],
  ) {}
}

/** Dict keys: primitives are kept; a tuple key becomes its JSON text. */
export type PyKey = string | number | bigint | boolean | null;

/**
 * A value of the tree: Python lists are arrays, tuples are frozen arrays (`Object.isFrozen`), dicts and OrderedDicts
 * are Maps (insertion order kept), `bytes` are Uint8Arrays, ints beyond 2^53 are bigints, tensors are TorchTensors.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | Map<PyKey, PyValue>
  | PyGlobal
  | TorchTensor;

/** Internal values during unpickling (storages and tensor references appear only until the end). */
type Val = PyValue | StorageRef | TensorRef | Val[] | Map<PyKey, Val>;

export interface TorchPickle {
  format: 'zip' | 'legacy';
  /** The unpickled object, with every tensor materialised as a TorchTensor. */
  root: PyValue;
}

// ---------------------------------------------------------------------------------------------------------------
// Allowlist

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const ALLOWED_CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  // Protocol 2 writes Python 3 `bytes` as _codecs.encode(text, 'latin1'): pure data, no side effect.
  '_codecs.encode',
]);

function resolveGlobal(module: string, name: string): PyGlobal {
  const q = `${module}.${name}`;
  if (module === 'torch' && Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, name)) return new PyGlobal(module, name);
  if (ALLOWED_CALLABLES.has(q)) return new PyGlobal(module, name);
  // Python 2 pickles name the OrderedDict module the same way; nothing else is accepted.
  throw new FormatError(`forbidden global ${q} in pickle (only tensors, storages and OrderedDict are allowed)`);
}

// ---------------------------------------------------------------------------------------------------------------
// Pickle machine

const MARK = Symbol('mark');
type StackItem = Val | typeof MARK;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function isTuple(v: unknown): v is Val[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

function tuple(items: Val[]): Val[] {
  return Object.freeze(items) as Val[];
}

/** A bigint for messages: its digits when short, else its size (the decimal text of a huge one costs time). */
function bigintText(v: bigint): string {
  const bits = (v < 0n ? -v : v).toString(16).length * 4;
  return bits <= 256 ? v.toString() : `an integer of about ${bits} bits`;
}

/** Decimal digits of a bigint, or undefined past MAX_INT_DIGITS (checked on the cheap hex length first). */
function bigintDigits(v: bigint): string | undefined {
  const hexLen = (v < 0n ? -v : v).toString(16).length;
  if (hexLen * Math.log10(16) > MAX_INT_DIGITS + 1) return undefined;
  const s = v.toString();
  return s.replace('-', '').length > MAX_INT_DIGITS ? undefined : s;
}

type KeyOf = (k: Val) => PyKey;

/**
 * Dict keys of one pickle: primitives are kept (integers of at most MAX_INT_DIGITS digits), a tuple becomes its JSON
 * text (memoised per tuple object, built iteratively, at most MAX_TUPLE_KEY_CHARS per key and `budget` in all).
 */
function keyMaker(budget: number, fail: (m: string) => never): KeyOf {
  const texts = new Map<object, string>();
  let spent = 0;
  const tooLong = (): never => fail(`a tuple dict key is longer than ${MAX_TUPLE_KEY_CHARS} characters as text`);
  const atom = (x: Val): string => {
    if (x === null) return 'null';
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'number') return Number.isFinite(x) ? String(x) : JSON.stringify(String(x));
    if (typeof x === 'bigint') {
      const d = bigintDigits(x);
      if (d === undefined) return fail(`a tuple dict key holds ${bigintText(x)} (more than ${MAX_INT_DIGITS} digits)`);
      return d;
    }
    if (typeof x === 'string') {
      if (x.length > MAX_TUPLE_KEY_CHARS) return tooLong();
      return JSON.stringify(x);
    }
    return fail(`unsupported value in a tuple dict key: ${describe(x)} (only strings, numbers, booleans, None and tuples)`);
  };
  const tupleText = (root: Val[]): string => {
    const hit = texts.get(root);
    if (hit !== undefined) return hit;
    // Iterative: each frame is a tuple whose parts are being written.
    const stack: Array<{ t: Val[]; i: number; parts: string[]; len: number }> = [{ t: root, i: 0, parts: [], len: 2 }];
    let done = '';
    while (stack.length) {
      const f = stack[stack.length - 1];
      if (f.i === f.t.length) {
        stack.pop();
        const text = `[${f.parts.join(',')}]`;
        texts.set(f.t, text);
        if (stack.length === 0) done = text;
        else {
          const parent = stack[stack.length - 1];
          parent.parts.push(text);
          parent.len += text.length + 1;
          if (parent.len > MAX_TUPLE_KEY_CHARS) tooLong();
        }
        continue;
      }
      const x = f.t[f.i++];
      if (isTuple(x)) {
        const known = texts.get(x);
        if (known === undefined) {
          if (stack.length >= MAX_NESTING) fail(`a tuple dict key is nested deeper than ${MAX_NESTING} levels`);
          stack.push({ t: x, i: 0, parts: [], len: 2 });
          continue;
        }
        f.parts.push(known);
        f.len += known.length + 1;
      } else {
        const a = atom(x);
        f.parts.push(a);
        f.len += a.length + 1;
      }
      if (f.len > MAX_TUPLE_KEY_CHARS) tooLong();
    }
    spent += done.length;
    if (spent > budget) fail(`the tuple dict keys total more than ${budget} characters as text`);
    return done;
  };
  return (k) => {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean') return k;
    if (typeof k === 'bigint') {
      if (bigintDigits(k) === undefined) fail(`dict key ${bigintText(k)} has more than ${MAX_INT_DIGITS} digits`);
      return k;
    }
    if (isTuple(k)) return tupleText(k);
    return fail(`unsupported dict key type ${describe(k)} (only strings, numbers, booleans, None and tuples)`);
  };
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof Map) return 'dict';
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof TensorRef) return 'tensor';
  if (v instanceof StorageRef) return 'storage';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}

type PersistentLoad = (pid: Val) => Val;

/**
 * Runs one pickle starting at `start`; returns the object and the position after STOP.
 * `label` prefixes error messages (e.g. "data.pkl").
 */
function unpickle(bytes: Uint8Array, start: number, persistentLoad: PersistentLoad | undefined, label: string): { value: Val; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  const stack: StackItem[] = [];
  const memo = new Map<number, Val>();
  const fail = (msg: string): never => {
    throw new FormatError(`${label}: ${msg}`);
  };
  const keyOf = keyMaker(8 * (bytes.length - start) + 2 ** 20, fail);
  const need = (n: number, what: string): void => {
    if (!Number.isSafeInteger(n) || n < 0) fail(`invalid ${what} length ${n} at byte ${pos}`);
    if (pos + n > bytes.length) fail(`truncated pickle: ${what} needs ${n} bytes at byte ${pos}, ${bytes.length - pos} left`);
  };
  const u8 = () => (need(1, 'u8'), bytes[pos++]);
  const u16 = () => (need(2, 'u16'), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4, 'u32'), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4, 'i32'), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = (): number => {
    need(8, 'u64');
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`);
    return Number(v);
  };
  const take = (n: number, what: string): Uint8Array => {
    need(n, what);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const line = (what: string): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail(`truncated pickle: unterminated ${what} at byte ${pos}`);
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail(`invalid UTF-8 string at byte ${pos - b.length}`);
    }
  };
  const pop = (): Val => {
    if (stack.length === 0) fail(`stack underflow at byte ${pos - 1}`);
    const v = stack.pop()!;
    if (v === MARK) fail(`unexpected MARK at byte ${pos - 1}`);
    return v as Val;
  };
  const top = (): Val => {
    if (stack.length === 0) fail(`stack underflow at byte ${pos - 1}`);
    const v = stack[stack.length - 1];
    if (v === MARK) fail(`unexpected MARK at byte ${pos - 1}`);
    return v as Val;
  };
  const popMark = (): Val[] => {
    let i = stack.length - 1;
    while (i >= 0 && stack[i] !== MARK) i--;
    if (i < 0) fail(`no MARK on the stack at byte ${pos - 1}`);
    const items = stack.splice(i) as Val[];
    items.shift();
    return items;
  };
  const memoGet = (i: number): Val => {
    if (!memo.has(i)) fail(`memo key ${i} is not defined (byte ${pos})`);
    return memo.get(i)!;
  };
  const asList = (v: Val, op: string): Val[] => {
    if (!Array.isArray(v) || isTuple(v)) fail(`${op} on a ${describe(v)} at byte ${pos - 1}, expected a list`);
    return v as Val[];
  };
  const asDict = (v: Val, op: string): Map<PyKey, Val> => {
    if (!(v instanceof Map)) fail(`${op} on a ${describe(v)} at byte ${pos - 1}, expected a dict`);
    return v as Map<PyKey, Val>;
  };
  const int = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  // Little-endian two's complement, in linear time: the bytes as one hex literal (V8 parses hex in linear time).
  const longLE = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    const neg = (b[b.length - 1] & 0x80) !== 0;
    if (b.length <= 6) {
      let v = 0;
      for (let i = b.length - 1; i >= 0; i--) v = v * 256 + b[i];
      return neg ? v - 2 ** (8 * b.length) : v;
    }
    const hex = new Array<string>(b.length);
    for (let i = 0; i < b.length; i++) hex[i] = HEX[b[b.length - 1 - i]];
    let v = BigInt(`0x${hex.join('')}`);
    if (neg) v -= 1n << BigInt(8 * b.length);
    return int(v);
  };
  const decimal = (s: string, what: string): number | bigint => {
    if (s.replace(/^[+-]/, '').length > MAX_INT_DIGITS) fail(`${what} literal at byte ${pos} has more than ${MAX_INT_DIGITS} digits`);
    return int(BigInt(s));
  };

  for (;;) {
    if (pos >= bytes.length) fail(`truncated pickle: no STOP opcode before byte ${bytes.length}`);
    const at = pos;
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        {
          const p = u8();
          if (p > 5) fail(`unsupported pickle protocol ${p}`);
        }
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || stack[0] === MARK) fail(`STOP with ${stack.length} items on the stack`);
        return { value: stack[0] as Val, end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack.length === 0) fail(`stack underflow at byte ${at}`);
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(longLE(take(u8(), 'LONG1')));
        break;
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) fail(`negative LONG4 length at byte ${at}`);
        stack.push(longLE(take(n, 'LONG4')));
        break;
      }
      case 0x49: { // INT (protocol 0 text): also True/False as I01/I00
        const s = line('INT');
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else if (/^[+-]?\d+$/.test(s)) stack.push(decimal(s, 'INT'));
        else fail(`bad INT literal at byte ${at}`);
        break;
      }
      case 0x4c: { // LONG (protocol 0 text)
        const s = line('LONG').replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail(`bad LONG literal at byte ${at}`);
        stack.push(decimal(s, 'LONG'));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8, 'BINFLOAT');
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(take(u32(), 'BINUNICODE')));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(take(u8(), 'SHORT_BINUNICODE')));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(take(u64(), 'BINUNICODE8')));
        break;
      case 0x54: { // BINSTRING (Python 2 str)
        const n = i32();
        if (n < 0) fail(`negative BINSTRING length at byte ${at}`);
        stack.push(new TextDecoder('latin1').decode(take(n, 'BINSTRING')));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder('latin1').decode(take(u8(), 'SHORT_BINSTRING')));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32(), 'BINBYTES').slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8(), 'SHORT_BINBYTES').slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64(), 'BINBYTES8').slice());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2) fail(`DICT with an odd number of items at byte ${at}`);
        const d = new Map<PyKey, Val>();
        for (let i = 0; i < items.length; i += 2) d.set(keyOf(items[i]), items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        asList(top(), 'APPEND').push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = asList(top(), 'APPENDS');
        for (const v of items) list.push(v);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        asDict(top(), 'SETITEM').set(keyOf(k), v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) fail(`SETITEMS with an odd number of items at byte ${at}`);
        const d = asDict(top(), 'SETITEMS');
        for (let i = 0; i < items.length; i += 2) d.set(keyOf(items[i]), items[i + 1]);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: { // PUT (protocol 0)
        const s = line('PUT');
        if (!/^\d+$/.test(s)) fail(`bad PUT index at byte ${at}`);
        memo.set(Number(s), top());
        break;
      }
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: { // GET (protocol 0)
        const s = line('GET');
        if (!/^\d+$/.test(s)) fail(`bad GET index at byte ${at}`);
        stack.push(memoGet(Number(s)));
        break;
      }
      case 0x63: { // GLOBAL
        const module = line('GLOBAL module');
        const name = line('GLOBAL name');
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail(`STACK_GLOBAL needs two strings at byte ${at}`);
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!isTuple(args)) fail(`REDUCE arguments are a ${describe(args)}, expected a tuple (byte ${at})`);
        stack.push(call(fn, args as Val[], fail, keyOf));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args); only OrderedDict is a class we build
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyGlobal) || cls.qualified !== 'collections.OrderedDict') fail(`NEWOBJ of ${describe(cls)} is not supported (byte ${at})`);
        if (!isTuple(args)) fail(`NEWOBJ arguments are not a tuple (byte ${at})`);
        stack.push(new Map());
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); // kwargs
        pop(); // args
        const cls = pop();
        if (!(cls instanceof PyGlobal) || cls.qualified !== 'collections.OrderedDict') fail(`NEWOBJ_EX of ${describe(cls)} is not supported (byte ${at})`);
        stack.push(new Map());
        break;
      }
      case 0x62: { // BUILD: obj.__setstate__(state); only dict attributes (e.g. a state dict's _metadata) are accepted
        const state = pop();
        const obj = top();
        if (obj instanceof Map || obj instanceof TensorRef) {
          if (state !== null && !(state instanceof Map) && !isTuple(state)) fail(`BUILD with a ${describe(state)} state at byte ${at}`);
          // Attributes are not part of the tensor data: dropped.
        } else fail(`BUILD on a ${describe(obj)} at byte ${at}`);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!persistentLoad) fail(`persistent id in a pickle that should have none (byte ${at})`);
        stack.push(persistentLoad!(pid));
        break;
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}

function num(v: Val, what: string, fail: (m: string) => never): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${what} must be an integer, got ${describe(v)}`);
  return v as number;
}

function intTuple(v: Val, what: string, fail: (m: string) => never): number[] {
  if (!Array.isArray(v)) fail(`${what} must be a tuple of integers, got ${describe(v)}`);
  return (v as Val[]).map((x) => num(x, what, fail));
}

/** REDUCE of an allowlisted callable: builds data, runs nothing. */
function call(fn: Val, args: Val[], fail: (m: string) => never, keyOf: KeyOf): Val {
  if (!(fn instanceof PyGlobal)) return fail(`REDUCE of a ${describe(fn)}, expected an allowed global`);
  switch (fn.qualified) {
    case 'collections.OrderedDict': {
      const d = new Map<PyKey, Val>();
      if (args.length > 0) {
        const items = args[0];
        if (!Array.isArray(items)) fail('OrderedDict argument must be a list of pairs');
        for (const kv of items as Val[]) {
          if (!Array.isArray(kv) || kv.length !== 2) fail('OrderedDict argument must be a list of pairs');
          d.set(keyOf((kv as Val[])[0]), (kv as Val[])[1]);
        }
      }
      return d;
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      if (args.length < 4) fail(`${fn.qualified} needs (storage, offset, size, stride), got ${args.length} arguments`);
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof StorageRef)) fail(`${fn.qualified}: first argument is a ${describe(storage)}, expected a storage`);
      const sz = intTuple(size, 'tensor size', fail);
      const st = intTuple(stride, 'tensor stride', fail);
      if (sz.length !== st.length) fail(`tensor size [${sz}] and stride [${st}] differ in length`);
      if (sz.some((d) => d < 0) || st.some((d) => d < 0)) fail(`negative size or stride in [${sz}] / [${st}]`);
      return new TensorRef(storage as StorageRef, num(offset, 'storage offset', fail), sz, st);
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      if (!(args[0] instanceof TensorRef)) fail(`${fn.qualified}: first argument is a ${describe(args[0])}, expected a tensor`);
      return args[0];
    }
    case '_codecs.encode': {
      const [s, enc] = args;
      if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) fail('_codecs.encode is accepted only as (str, "latin1")');
      const out = new Uint8Array((s as string).length);
      for (let i = 0; i < out.length; i++) {
        const c = (s as string).charCodeAt(i);
        if (c > 255) fail('_codecs.encode: character outside latin1');
        out[i] = c;
      }
      return out;
    }
    default:
      return fail(`${fn.qualified} cannot be called`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Storages and tensors

function storageDtype(t: Val, fail: (m: string) => never): DType {
  if (!(t instanceof PyGlobal) || t.module !== 'torch' || !Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, t.name)) {
    return fail(`storage type ${describe(t)} is not supported (expected torch.FloatStorage, torch.HalfStorage, ...)`);
  }
  return STORAGE_DTYPES[t.name];
}

/** Counts the elements materialised from one file against its limit. */
class ElementBudget {
  used = 0;
  constructor(readonly limit: number) {}
}

/** Elements of a shape, or Infinity once past `limit` (no overflow for huge dimensions). */
function elementCount(size: readonly number[], limit: number): number {
  if (size.some((d) => d === 0)) return 0;
  let n = 1;
  for (const d of size) {
    n *= d;
    if (n > limit) return Infinity;
  }
  return n;
}

function materialize(t: TensorRef, label: string, budget: ElementBudget): TorchTensor {
  const s = t.storage;
  const name = `${label}: tensor of shape [${t.size}] in storage "${s.key}"`;
  if (!s.bytes) throw new FormatError(`${name}: the storage's data is missing from the file`);
  const es = DTYPE_SIZE[s.dtype];
  const storageElems = s.elements;
  const n = elementCount(t.size, budget.limit - budget.used);
  if (n === Infinity) {
    throw new FormatError(
      `${name}: materialising it would exceed the limit of ${budget.limit} elements per file ` +
        `(4 x the elements the file stores + ${DEFAULT_ELEMENT_ALLOWANCE}; ${budget.used} used so far)`,
    );
  }
  const base = s.elementOffset + t.storageOffset;
  if (n > 0) {
    // Each term is checked on its own first, so the sum never loses precision below the storage size.
    let last = t.storageOffset;
    for (let d = 0; d < t.size.length; d++) {
      if (t.size[d] > 1 && t.stride[d] >= storageElems) last = Infinity;
      else last += (t.size[d] - 1) * t.stride[d];
    }
    if (t.storageOffset < 0 || last >= storageElems) {
      throw new FormatError(`${name}: offset ${t.storageOffset} and strides [${t.stride}] reach element ${last === Infinity ? 'beyond the storage' : last}, but the storage holds ${Math.max(0, storageElems)}`);
    }
  }
  budget.used += n;
  const out = new Uint8Array(n * es);
  // Row-major strides of the shape: a tensor with them is a plain slice of the storage.
  let contiguous = true;
  let expect = 1;
  for (let d = t.size.length - 1; d >= 0; d--) {
    if (t.size[d] !== 1 && t.stride[d] !== expect) contiguous = false;
    expect *= t.size[d];
  }
  if (n === 0) {
    // nothing to copy
  } else if (contiguous) {
    out.set(s.bytes.subarray(base * es, (base + n) * es));
  } else {
    // Gather element by element in row-major order of the output.
    const src = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
    const dst = new DataView(out.buffer);
    const rank = t.size.length;
    const idx = new Array<number>(rank).fill(0);
    let at = base;
    for (let i = 0; i < n; i++) {
      const o = i * es;
      const b = at * es;
      switch (es) {
        case 1: out[o] = s.bytes[b]; break;
        case 2: dst.setUint16(o, src.getUint16(b, true), true); break;
        case 4: dst.setUint32(o, src.getUint32(b, true), true); break;
        default:
          dst.setUint32(o, src.getUint32(b, true), true);
          dst.setUint32(o + 4, src.getUint32(b + 4, true), true);
      }
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        at += t.stride[d];
        if (idx[d] < t.size[d]) break;
        at -= t.stride[d] * t.size[d];
        idx[d] = 0;
      }
    }
  }
  let data: RawTensor['data'];
  const buf = out.buffer;
  switch (s.dtype) {
    case 'F64': data = new Float64Array(buf); break;
    case 'F32': data = new Float32Array(buf); break;
    case 'F16': case 'BF16': data = new Uint16Array(buf); break;
    case 'I64': data = new BigInt64Array(buf); break;
    case 'I32': data = new Int32Array(buf); break;
    case 'I16': data = new Int16Array(buf); break;
    case 'I8': data = new Int8Array(buf); break;
    case 'U8': case 'BOOL': data = out; break;
  }
  return new TorchTensor(s.dtype, [...t.size], data);
}

/**
 * Replaces every TensorRef of the tree by its TorchTensor. Iterative, and every container, tensor and storage is
 * converted once: shared references stay shared (so the work is linear in the tree, not in its paths), and cycles
 * are kept. Containers nested deeper than MAX_NESTING are a FormatError.
 */
function finish(root: Val, label: string, budget: ElementBudget): PyValue {
  const done = new Map<object, PyValue>();
  type Frame = { entries: Iterator<[PyKey | number, Val]>; out: Map<PyKey, PyValue> | PyValue[]; tuple: boolean };
  const stack: Frame[] = [];
  /** The converted value, or a fresh container (registered, and pushed to be filled). */
  const convert = (v: Val): PyValue => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array || v instanceof PyGlobal) return v as PyValue;
    const prev = done.get(v);
    if (prev !== undefined) return prev;
    if (v instanceof TensorRef) {
      const t = materialize(v, label, budget);
      done.set(v, t);
      return t;
    }
    if (v instanceof StorageRef) {
      // A bare storage (not wrapped in a tensor): exposed as a 1-D tensor of its elements.
      const t = materialize(new TensorRef(v, 0, [v.elements], [1]), label, budget);
      done.set(v, t);
      return t;
    }
    if (stack.length >= MAX_NESTING) throw new FormatError(`${label}: objects nested deeper than ${MAX_NESTING} levels`);
    if (v instanceof Map) {
      const m = new Map<PyKey, PyValue>();
      done.set(v, m);
      stack.push({ entries: v.entries(), out: m, tuple: false });
      return m;
    }
    const a: PyValue[] = [];
    done.set(v, a);
    stack.push({ entries: (v as Val[]).entries(), out: a, tuple: isTuple(v) });
    return a;
  };
  const result = convert(root);
  while (stack.length) {
    const f = stack[stack.length - 1];
    const next = f.entries.next();
    if (next.done) {
      stack.pop();
      if (f.tuple) Object.freeze(f.out);
      continue;
    }
    const [k, x] = next.value;
    // convert() may push a frame for x; its slot in f.out is filled now (the object is filled in later).
    const y = convert(x);
    if (f.out instanceof Map) f.out.set(k as PyKey, y);
    else f.out.push(y);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Zip container

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function readZipDirectory(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (m: string): never => {
    throw new FormatError(`torch zip checkpoint: ${m}`);
  };
  // End of central directory: 22 bytes + a comment of at most 65535 bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (truncated or not a zip file)');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== 0x07064b50) fail('ZIP64 end-of-central-directory locator is missing');
    const z = Number(view.getBigUint64(loc + 8, true));
    if (!(z >= 0 && z + 56 <= bytes.length) || view.getUint32(z, true) !== 0x06064b50) fail('ZIP64 end-of-central-directory record is missing');
    count = Number(view.getBigUint64(z + 32, true));
    cdSize = Number(view.getBigUint64(z + 40, true));
    cdOffset = Number(view.getBigUint64(z + 48, true));
  }
  if (!Number.isSafeInteger(cdOffset + cdSize) || cdOffset + cdSize > bytes.length) fail(`central directory (offset ${cdOffset}, ${cdSize} bytes) runs past the end of the file (${bytes.length} bytes)`);
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let p = cdOffset;
  const dec = new TextDecoder('utf-8');
  for (let k = 0; k < count; k++) {
    if (p + 46 > cdOffset + cdSize || view.getUint32(p, true) !== 0x02014b50) fail(`central directory entry ${k} is corrupt`);
    const method = view.getUint16(p + 10, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localOffset = view.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdOffset + cdSize) fail(`central directory entry ${k} runs past the directory`);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: the 64-bit values of the fields that were saturated, in this order.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (e + 4 + len > eEnd) fail(`entry "${name}": extra field runs past its end`);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + len) fail(`entry "${name}": ZIP64 extra field is too short`);
          const v = Number(view.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e += 4 + len;
    }
    if (seen.has(name)) fail(`two entries are named "${name}" (an ambiguous archive)`);
    seen.add(name);
    entries.push({ name, method, compressedSize, size, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function zipEntryData(bytes: Uint8Array, e: ZipEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.method !== 0) {
    throw new FormatError(`torch zip checkpoint: entry "${e.name}" is compressed (method ${e.method}); torch.save writes uncompressed entries, re-save the file with torch.save`);
  }
  if (e.compressedSize !== e.size) throw new FormatError(`torch zip checkpoint: entry "${e.name}": stored sizes differ (${e.compressedSize} vs ${e.size})`);
  const p = e.localOffset;
  if (p + 30 > bytes.length || view.getUint32(p, true) !== 0x04034b50) {
    throw new FormatError(`torch zip checkpoint: entry "${e.name}": local header missing at byte ${p} (truncated or corrupt file)`);
  }
  const start = p + 30 + view.getUint16(p + 26, true) + view.getUint16(p + 28, true);
  if (start + e.size > bytes.length) {
    throw new FormatError(`torch zip checkpoint: entry "${e.name}": ${e.size} bytes at byte ${start} run past the end of the file (${bytes.length} bytes; truncated?)`);
  }
  return bytes.subarray(start, start + e.size);
}

/** A parsed container: the object tree and the elements its storages hold (the base of the element limit). */
interface Container {
  tree: Val;
  storedElements: number;
}

function readZip(bytes: Uint8Array): Container {
  const entries = readZipDirectory(bytes);
  const pkl = entries.filter((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'));
  if (pkl.length === 0) throw new FormatError('torch zip checkpoint: no data.pkl entry (is this a torch.save file?)');
  // torch writes `<archive>/data.pkl`; with several, the shallowest one is the checkpoint's (two at that depth: refused).
  const depth = (e: ZipEntry) => e.name.split('/').length;
  pkl.sort((a, b) => depth(a) - depth(b));
  if (pkl.length > 1 && depth(pkl[1]) === depth(pkl[0])) {
    throw new FormatError(`torch zip checkpoint: two data.pkl entries ("${pkl[0].name}", "${pkl[1].name}"): which one is the checkpoint is ambiguous`);
  }
  const prefix = pkl[0].name.slice(0, pkl[0].name.length - 'data.pkl'.length);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const bo = byName.get(`${prefix}byteorder`);
  if (bo) {
    const order = new TextDecoder().decode(zipEntryData(bytes, bo)).trim();
    if (order !== 'little') throw new FormatError(`torch zip checkpoint: byteorder is "${order}"; only little-endian files are supported`);
  }
  const storages = new Map<string, StorageRef>();
  const fail = (m: string): never => {
    throw new FormatError(`${prefix}data.pkl: ${m}`);
  };
  let storedElements = 0;
  const persistentLoad: PersistentLoad = (pid) => {
    if (!isTuple(pid) || pid[0] !== 'storage' || pid.length < 5) return fail(`unsupported persistent id (${describe(pid)})`);
    const [, type, key, , numelVal] = pid;
    if (typeof key !== 'string') return fail('storage key must be a string');
    const dtype = storageDtype(type, fail);
    const declared = num(numelVal, `storage "${key}" element count`, fail);
    let s = storages.get(key);
    if (s) {
      if (s.dtype !== dtype) fail(`storage "${key}" is used as ${s.dtype} and ${dtype}`);
      if (s.elements !== declared) fail(`storage "${key}" is declared with ${s.elements} and ${declared} elements`);
      return s;
    }
    const entry = byName.get(`${prefix}data/${key}`);
    if (!entry) return fail(`storage "${key}" has no entry ${prefix}data/${key} in the archive (truncated?)`);
    s = new StorageRef(key, dtype, 0);
    s.bytes = zipEntryData(bytes, entry);
    if (s.bytes.length !== declared * DTYPE_SIZE[dtype]) {
      fail(`storage "${key}" declares ${declared} ${dtype} elements (${declared * DTYPE_SIZE[dtype]} bytes) but its entry holds ${s.bytes.length} bytes`);
    }
    storedElements += declared;
    storages.set(key, s);
    return s;
  };
  const data = zipEntryData(bytes, pkl[0]);
  const { value, end } = unpickle(data, 0, persistentLoad, `${prefix}data.pkl`);
  if (end !== data.length) throw new FormatError(`${prefix}data.pkl: ${data.length - end} trailing bytes after STOP`);
  return { tree: value, storedElements };
}

// ---------------------------------------------------------------------------------------------------------------
// Legacy container

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function readLegacy(bytes: Uint8Array): Container {
  const L = 'torch legacy checkpoint';
  let pos = 0;
  const next = (what: string, pl?: PersistentLoad): Val => {
    const r = unpickle(bytes, pos, pl, `${L} (${what})`);
    pos = r.end;
    return r.value;
  };
  const magic = next('magic number');
  if (typeof magic !== 'bigint' || magic !== LEGACY_MAGIC) throw new FormatError(`${L}: bad magic number (not a torch.save file)`);
  const proto = next('protocol version');
  if (proto !== 1001) throw new FormatError(`${L}: unsupported protocol version ${typeof proto === 'bigint' ? bigintText(proto) : typeof proto === 'number' ? proto : describe(proto)} (expected 1001)`);
  const sys = next('sys_info');
  if (sys instanceof Map && sys.get('little_endian') === false) throw new FormatError(`${L}: big-endian file; only little-endian files are supported`);
  const roots = new Map<string, StorageRef>();
  /** Elements each root storage is declared with (the persistent id's numel). */
  const declared = new Map<string, number>();
  const views = new Map<string, StorageRef>();
  const fail = (m: string): never => {
    throw new FormatError(`${L}: ${m}`);
  };
  const persistentLoad: PersistentLoad = (pid) => {
    if (!isTuple(pid) || pid[0] !== 'storage' || pid.length < 5) return fail(`unsupported persistent id (${describe(pid)})`);
    const [, type, rootKey, , numelVal, viewMeta] = pid;
    if (typeof rootKey !== 'string') return fail('storage key must be a string');
    const dtype = storageDtype(type, fail);
    const n = num(numelVal, `storage "${rootKey}" element count`, fail);
    let root = roots.get(rootKey);
    if (!root) {
      roots.set(rootKey, (root = new StorageRef(rootKey, dtype, 0)));
      declared.set(rootKey, n);
    }
    if (root.dtype !== dtype) fail(`storage "${rootKey}" is used as ${root.dtype} and ${dtype}`);
    if (declared.get(rootKey) !== n) fail(`storage "${rootKey}" is declared with ${declared.get(rootKey)} and ${n} elements`);
    if (viewMeta === undefined || viewMeta === null) return root;
    // (view key, element offset, element count): torch reads root[offset : offset + count].
    if (!isTuple(viewMeta) || viewMeta.length !== 3 || typeof viewMeta[0] !== 'string') return fail('bad storage view metadata (expected (key, offset, size))');
    const vk = viewMeta[0] as string;
    const offset = num(viewMeta[1], `storage view "${vk}" offset`, fail);
    const size = num(viewMeta[2], `storage view "${vk}" size`, fail);
    if (offset < 0 || size < 0) fail(`storage view "${vk}" of "${rootKey}": negative offset ${offset} or size ${size}`);
    let v = views.get(vk);
    if (!v) views.set(vk, (v = new StorageRef(rootKey, dtype, offset, size)));
    else if (v.key !== rootKey || v.elementOffset !== offset || v.viewElements !== size || v.dtype !== dtype) {
      fail(`storage view "${vk}" is declared twice differently`);
    }
    return v;
  };
  const tree = next('object', persistentLoad);
  const keys = next('storage keys');
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) fail('the storage key list is not a list of strings');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const listed = new Set<string>();
  let storedElements = 0;
  for (const key of keys as string[]) {
    const root = roots.get(key);
    if (listed.has(key)) fail(`storage "${key}" is listed twice (an ambiguous file)`);
    listed.add(key);
    if (pos + 8 > bytes.length) fail(`truncated file: storage "${key}" is missing (byte ${pos} of ${bytes.length})`);
    const count = view.getBigInt64(pos, true);
    pos += 8;
    // torch lists exactly the storages the tree uses; the element size comes from the storage type there.
    if (!root) fail(`storage "${key}" is listed but never used by the tree`);
    const nbytes = count * BigInt(DTYPE_SIZE[root!.dtype]);
    if (count < 0n || nbytes > BigInt(bytes.length - pos)) {
      fail(`truncated file: storage "${key}" needs ${nbytes} bytes at byte ${pos}, ${bytes.length - pos} left`);
    }
    // torch refuses a stored size that differs from the declared one ("storage has wrong byte size").
    if (count !== BigInt(declared.get(key)!)) fail(`storage "${key}" is declared with ${declared.get(key)} elements but ${count} are stored`);
    root!.bytes = bytes.subarray(pos, pos + Number(nbytes));
    storedElements += Number(count);
    pos += Number(nbytes);
  }
  for (const [k, r] of roots) if (!r.bytes) fail(`storage "${k}" is used by the tree but its data is missing`);
  // A view must lie inside its root: torch slices root[offset : offset + size].
  for (const [vk, v] of views) {
    const root = roots.get(v.key)!;
    const rootElems = root.elements;
    if (v.elementOffset + v.viewElements! > rootElems) {
      fail(`storage view "${vk}" covers elements [${v.elementOffset}, ${v.elementOffset + v.viewElements!}) of storage "${v.key}", which holds ${rootElems}`);
    }
    v.bytes = root.bytes;
  }
  return { tree, storedElements };
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

function detectFormat(bytes: Uint8Array): 'zip' | 'legacy' {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'zip';
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return 'legacy';
  if (bytes.length >= 262 && new TextDecoder('latin1').decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new FormatError('torch checkpoint: the tar format of torch < 0.4 is not supported; re-save the file with a recent torch.save');
  }
  if (bytes.length === 0) throw new FormatError('torch checkpoint: the file is empty');
  throw new FormatError('torch checkpoint: not a torch.save file (neither a zip archive nor a legacy pickle stream)');
}

/**
 * Unpickles a torch.save file (zip or legacy format) into its object tree. Tensors become TorchTensors with contiguous
 * row-major data (non-contiguous strides are gathered); no code from the file runs.
 */
export function readTorchPickle(bytes: Uint8Array, opts: ReadTorchOptions = {}): TorchPickle {
  const format = detectFormat(bytes);
  const { tree, storedElements } = format === 'zip' ? readZip(bytes) : readLegacy(bytes);
  const limit = opts.maxElements ?? 4 * storedElements + DEFAULT_ELEMENT_ALLOWANCE;
  if (!(limit >= 0)) throw new RangeError(`readTorchPickle: maxElements must be a non-negative number, got ${limit}`);
  return { format, root: finish(tree, `torch ${format} checkpoint`, new ElementBudget(limit)) };
}

/**
 * Finds the tensors of a checkpoint. Dicts are walked recursively and every tensor becomes an entry named by its key
 * path joined with '.': a plain state dict keeps its names, while a training checkpoint such as CPC's
 * `{weights: {gEncoder.conv0.weight: ...}, config: {...}, epoch: 4}` gives `weights.gEncoder.conv0.weight`, ...
 * Values that are not tensors (config, epoch, lists) are skipped. Use a NameMap to select and rename.
 *
 * A dict reached by several key paths lists its tensors under each (they share their data). The walk is bounded by
 * its output: dicts without tensors are found once and never entered again, the names total at most
 * MAX_STATE_DICT_NAME_CHARS characters, and a dict that contains itself (a cycle) is a FormatError.
 */
export function stateDictOf(root: PyValue): Map<string, RawTensor> {
  const fail = (m: string): never => {
    throw new FormatError(`torch checkpoint: ${m}`);
  };
  // Pass 1 (each dict once, iterative): the entries of each dict that lead to a tensor; cycles and depth checked.
  const relevant = new Map<Map<PyKey, PyValue>, Array<[string, TorchTensor | Map<PyKey, PyValue>]>>();
  const onPath = new Set<Map<PyKey, PyValue>>();
  if (root instanceof Map) {
    type Frame = { m: Map<PyKey, PyValue>; it: Iterator<[PyKey, PyValue]>; keep: Array<[string, TorchTensor | Map<PyKey, PyValue>]>; pending?: [string, Map<PyKey, PyValue>] };
    const stack: Frame[] = [{ m: root, it: root.entries(), keep: [] }];
    onPath.add(root);
    while (stack.length) {
      const f = stack[stack.length - 1];
      if (f.pending) {
        // The child dict just finished: keep it if it leads to a tensor.
        if (relevant.get(f.pending[1])!.length) f.keep.push(f.pending);
        f.pending = undefined;
      }
      const n = f.it.next();
      if (n.done) {
        stack.pop();
        onPath.delete(f.m);
        relevant.set(f.m, f.keep);
        continue;
      }
      const [k, v] = n.value;
      if (v instanceof TorchTensor) f.keep.push([keyText(k), v]);
      else if (v instanceof Map) {
        if (onPath.has(v)) fail(`a dict contains itself (key "${keyText(k)}" refers back to an enclosing dict)`);
        const known = relevant.get(v);
        if (known) {
          if (known.length) f.keep.push([keyText(k), v]);
          continue;
        }
        if (stack.length >= MAX_NESTING) fail(`dicts nested deeper than ${MAX_NESTING} levels`);
        f.pending = [keyText(k), v];
        onPath.add(v);
        stack.push({ m: v, it: v.entries(), keep: [] });
      }
    }
  }
  // Pass 2: every key path to a tensor. Each step leads to at least one name, so the work is bounded by the names.
  const out = new Map<string, RawTensor>();
  let chars = 0;
  const emit = (name: string, v: TorchTensor): void => {
    chars += name.length;
    if (chars > MAX_STATE_DICT_NAME_CHARS) {
      fail(`the tensor names total more than ${MAX_STATE_DICT_NAME_CHARS} characters (${out.size} tensors so far; dicts shared by many key paths?)`);
    }
    if (out.has(name)) fail(`two tensors are both named "${name}" after flattening nested dicts`);
    out.set(name, { dtype: v.dtype, shape: [...v.shape], data: v.data });
  };
  if (root instanceof TorchTensor) emit('tensor', root);
  else if (root instanceof Map) {
    const stack: Array<{ list: Array<[string, TorchTensor | Map<PyKey, PyValue>]>; i: number; prefix: string }> = [{ list: relevant.get(root)!, i: 0, prefix: '' }];
    while (stack.length) {
      const f = stack[stack.length - 1];
      if (f.i === f.list.length) {
        stack.pop();
        continue;
      }
      const [k, v] = f.list[f.i++];
      const name = f.prefix + k;
      // A dict entered here leads to at least one tensor whose name extends `name`: the steps are bounded by the
      // total length of the names.
      if (v instanceof TorchTensor) emit(name, v);
      else stack.push({ list: relevant.get(v)!, i: 0, prefix: `${name}.` });
    }
  }
  if (out.size === 0) throw new FormatError('torch checkpoint: no tensors found in the file (expected a state dict or a dict holding one)');
  return out;
}

/** A dict key as a name part: strings as they are, numbers, booleans, None as Python prints them (str(key)). */
function keyText(k: PyKey): string {
  if (typeof k === 'string') return k;
  if (k === null) return 'null';
  return String(k);
}

/** Reads a torch.save file and returns its tensors by name (see stateDictOf for the naming of nested dicts). */
export function loadTorchStateDict(bytes: Uint8Array, opts: ReadTorchOptions = {}): Map<string, RawTensor> {
  return stateDictOf(readTorchPickle(bytes, opts).root);
}
