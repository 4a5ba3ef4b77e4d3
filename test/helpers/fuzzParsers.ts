/**
 * A small fuzzing harness for byte parsers, built on fast-check. It knows nothing about the parsers it drives:
 * a target is a `parse(bytes)` function, a predicate saying which exceptions are the parser's own, documented
 * rejections, an optional check of successful results, and a seed corpus of valid files.
 *
 * Each input is one of:
 * - random bytes, or a seed's first bytes followed by random bytes;
 * - a seed truncated, with bit flips, with bytes overwritten (by boundary values or random ones), with a range
 *   deleted or random bytes inserted;
 * - a seed rewritten by a format-aware mutator (see `safetensorsMutators`, `torchMutators` and `wavMutators`: lying
 *   length and size fields, huge offsets and shapes, reordered and missing chunks, duplicate entries and keys, shared
 *   references, deep nesting, long integers, tuple keys, stride 0, storage views ...), sometimes followed by a bit
 *   flip.
 *
 * Outcomes: `ok` (returned, and the result check passed), `ownError` (threw an error the target accepts), or a
 * crash: any other exception (TypeError, a RangeError from a typed-array constructor, ...), a failed result check,
 * an allocation over the limit, or a parse slower than `slowMs`. While a parse runs, ArrayBuffer and every
 * typed-array constructor are wrapped so that one allocation larger than `allocationLimit(input.length)` bytes
 * (default 8 x the input length, at least 64) throws an AllocationLimitError before any memory is taken. The JS heap's
 * growth over each parse is measured too (V8's used heap after minus before: what the parse allocated and still
 * held, GC permitting); past `heapLimit` (default 256 MB) it is a crash. The summary reports the slowest parse and
 * the largest allocation and heap growth.
 *
 * Runs are deterministic for a given `seed`. The mutators only use byte-level knowledge of the formats; they do not
 * import the parsers, so this module has no dependency on the rest of the library.
 */
import * as fc from 'fast-check';
import * as v8 from 'node:v8';
import { concatBytes } from '../../src/util/concat';
import {
  TensorSpec, ascii, deepDictPickle, deepListPickle, f32bytes, i64le, legacyFile, op, sharedDictsPickle, sharedTupleKeysPickle, stateDictPickle, storagePid, tensorOps,
  zipCheckpoint, zipEntries, zipFile,
} from './ptBuild';

// ---- deterministic randomness for mutators ------------------------------------------------------------------

export interface Rng {
  /** Uniform integer in [0, n). */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: tiny, fast, deterministic. */
export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

export interface Mutator {
  name: string;
  /** Returns a new (or the same, if it does not apply) byte array; must not modify `seed`. */
  apply(seed: Uint8Array, rng: Rng): Uint8Array;
}

// ---- targets, options, results ------------------------------------------------------------------------------

export interface FuzzTarget<R = unknown> {
  name: string;
  parse(bytes: Uint8Array): R;
  /** True for the parser's own, documented errors (a clean rejection). */
  isOwnError(e: unknown): boolean;
  /** Checks a successful result; returns what is wrong with it, or undefined. */
  checkResult?(result: R, input: Uint8Array): string | undefined;
  seeds: Uint8Array[];
  mutators?: Mutator[];
}

export interface FuzzOptions {
  runs: number;
  /** fast-check seed (runs are reproducible). */
  seed: number;
  /** Largest single ArrayBuffer / typed-array allocation (bytes) allowed for an input of this length. */
  allocationLimit?(inputLength: number): number;
  /** A parse slower than this counts as a crash (a hang); default 2000 ms. */
  slowMs?: number;
  /** How many crash examples to keep; default 10. */
  maxExamples?: number;
  /** Longest random input; default 512. */
  randomMaxLength?: number;
  /** Largest growth of the JS heap over one parse (bytes) for an input of this length; default 256 MB. */
  heapLimit?(inputLength: number): number;
}

export interface CrashExample {
  strategy: string;
  error: string;
  length: number;
  /** Hex of the first 64 bytes. */
  head: string;
  input: Uint8Array;
}

export interface OutcomeCounts {
  tried: number;
  ok: number;
  ownError: number;
  crash: number;
}

export interface FuzzSummary extends OutcomeCounts {
  name: string;
  examples: CrashExample[];
  /** Wall time of the whole run. */
  ms: number;
  /** Slowest single parse. */
  maxParseMs: number;
  /** Largest single allocation seen during a parse, as a multiple of that input's length. */
  maxAllocationRatio: number;
  /** Largest single allocation seen during a parse, in bytes. */
  maxAllocationBytes: number;
  /** Largest growth of the JS heap over one parse, in bytes. */
  maxHeapGrowth: number;
  /** Length of the input that took longest. */
  slowestInputLength: number;
  byStrategy: Record<string, OutcomeCounts>;
}

export class AllocationLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllocationLimitError';
  }
}

// ---- allocation guard ---------------------------------------------------------------------------------------

const TYPED_ARRAYS = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
] as const;

interface Guard {
  /** Allocation limit in bytes while armed; null when disarmed. */
  limit: number | null;
  largest: number;
  restore(): void;
}

function requestedBytes(name: string, bytesPerElement: number, args: unknown[]): number {
  const a = args[0];
  if (name === 'ArrayBuffer') return typeof a === 'number' ? a : Number(a ?? 0);
  if (a === undefined || a === null) return 0;
  if (typeof a === 'number') return a * bytesPerElement;
  if (typeof a !== 'object') return Number(a) * bytesPerElement;
  if (a instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && a instanceof SharedArrayBuffer)) return 0; // a view
  const len = (a as { length?: unknown }).length;
  return typeof len === 'number' ? len * bytesPerElement : 0;
}

function installGuard(): Guard {
  const g = globalThis as unknown as Record<string, unknown>;
  const originals: [string, unknown][] = [];
  const guard: Guard = {
    limit: null,
    largest: 0,
    restore() {
      for (const [name, ctor] of originals) g[name] = ctor;
    },
  };
  for (const name of ['ArrayBuffer', ...TYPED_ARRAYS]) {
    const ctor = g[name] as (new (...a: unknown[]) => object) & { BYTES_PER_ELEMENT?: number };
    if (typeof ctor !== 'function') continue;
    originals.push([name, ctor]);
    const bpe = ctor.BYTES_PER_ELEMENT ?? 1;
    g[name] = new Proxy(ctor, {
      construct(target, args, newTarget) {
        if (guard.limit !== null) {
          const n = requestedBytes(name, bpe, args);
          if (n > guard.largest) guard.largest = n;
          if (n > guard.limit) throw new AllocationLimitError(`new ${name}: ${n} bytes requested, limit ${guard.limit}`);
        }
        return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget);
      },
    });
  }
  return guard;
}

/**
 * Runs `f` with the allocation guard armed: an ArrayBuffer or typed array of more than `limit` bytes throws an
 * AllocationLimitError before any memory is taken. Returns the result (or the error) and the largest request.
 */
export function withAllocationLimit<T>(limit: number, f: () => T): { value?: T; error?: unknown; largest: number } {
  const guard = installGuard();
  try {
    guard.limit = limit;
    try {
      return { value: f(), largest: guard.largest };
    } catch (error) {
      return { error, largest: guard.largest };
    }
  } finally {
    guard.limit = null;
    guard.restore();
  }
}

// ---- input generation ---------------------------------------------------------------------------------------

interface Case {
  strategy: string;
  bytes: Uint8Array;
}

const BOUNDARY_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

/** A position biased towards the start of the file, where headers live. */
function position(len: number): fc.Arbitrary<number> {
  if (len <= 1) return fc.constant(0);
  return fc.oneof(
    fc.integer({ min: 0, max: Math.min(len - 1, 63) }),
    fc.integer({ min: 0, max: Math.min(len - 1, 4095) }),
    fc.integer({ min: 0, max: len - 1 }),
  );
}

function caseArbitrary(seeds: Uint8Array[], mutators: Mutator[], randomMaxLength: number): fc.Arbitrary<Case> {
  const seedArb = fc.integer({ min: 0, max: seeds.length - 1 }).map((i) => seeds[i]);
  const strategies: fc.WeightedArbitrary<Case>[] = [
    {
      weight: 2,
      arbitrary: fc.uint8Array({ maxLength: randomMaxLength }).map((bytes) => ({ strategy: 'random', bytes })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(seedArb, fc.integer({ min: 0, max: 64 }), fc.uint8Array({ maxLength: randomMaxLength }))
        .map(([s, k, tail]) => {
          const head = s.subarray(0, Math.min(k, s.length));
          const bytes = new Uint8Array(head.length + tail.length);
          bytes.set(head);
          bytes.set(tail, head.length);
          return { strategy: 'prefix+random', bytes };
        }),
    },
    {
      weight: 2,
      arbitrary: seedArb.chain((s) => position(s.length + 1).map((cut) => ({ strategy: 'truncate', bytes: s.slice(0, cut) }))),
    },
    {
      weight: 3,
      arbitrary: seedArb.chain((s) =>
        fc.array(fc.tuple(position(s.length), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }).map((flips) => {
          const bytes = s.slice();
          for (const [p, b] of flips) if (p < bytes.length) bytes[p] ^= 1 << b;
          return { strategy: 'bitflip', bytes };
        }),
      ),
    },
    {
      weight: 3,
      arbitrary: seedArb.chain((s) =>
        fc
          .array(fc.tuple(position(s.length), fc.oneof(fc.constantFrom(...BOUNDARY_BYTES), fc.integer({ min: 0, max: 255 }))), {
            minLength: 1,
            maxLength: 8,
          })
          .map((writes) => {
            const bytes = s.slice();
            for (const [p, v] of writes) if (p < bytes.length) bytes[p] = v;
            return { strategy: 'overwrite', bytes };
          }),
      ),
    },
    {
      weight: 2,
      arbitrary: seedArb.chain((s) =>
        fc.tuple(position(s.length + 1), fc.integer({ min: 0, max: 64 }), fc.uint8Array({ maxLength: 16 })).map(([p, del, ins]) => {
          const at = Math.min(p, s.length);
          const end = Math.min(s.length, at + del);
          const bytes = new Uint8Array(at + ins.length + (s.length - end));
          bytes.set(s.subarray(0, at));
          bytes.set(ins, at);
          bytes.set(s.subarray(end), at + ins.length);
          return { strategy: 'splice', bytes };
        }),
      ),
    },
  ];
  if (mutators.length > 0) {
    strategies.push({
      weight: 10,
      arbitrary: fc
        .tuple(seedArb, fc.integer({ min: 0, max: mutators.length - 1 }), fc.integer(), fc.boolean(), fc.boolean())
        .map(([s, mi, rs, twice, flip]) => {
          const m = mutators[mi];
          const rng = makeRng(rs);
          let bytes = m.apply(s, rng);
          let strategy = m.name;
          if (twice) {
            const m2 = rng.pick(mutators);
            bytes = m2.apply(bytes, rng);
            strategy += `+${m2.name}`;
          }
          if (flip && bytes.length > 0) {
            bytes = bytes === s ? s.slice() : bytes;
            bytes[rng.chance(0.7) ? rng.int(Math.min(bytes.length, 256)) : rng.int(bytes.length)] ^= 1 << rng.int(8);
            strategy += '+bitflip';
          }
          return { strategy, bytes };
        }),
    });
  }
  return fc.oneof(...strategies);
}

// ---- the runner ---------------------------------------------------------------------------------------------

function hexHead(b: Uint8Array, n = 64): string {
  return Array.from(b.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join('') + (b.length > n ? '...' : '');
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.slice(0, 300);
  return `non-Error thrown: ${String(e)}`.slice(0, 300);
}

function emptyCounts(): OutcomeCounts {
  return { tried: 0, ok: 0, ownError: 0, crash: 0 };
}

/** Runs `options.runs` generated inputs through `target.parse` and sorts the outcomes. */
export function fuzzParser<R>(target: FuzzTarget<R>, options: FuzzOptions): FuzzSummary {
  if (target.seeds.length === 0) throw new Error(`fuzz target ${target.name}: empty seed corpus`);
  const limitFor = options.allocationLimit ?? ((n: number) => Math.max(64, 8 * n));
  const slowMs = options.slowMs ?? 2000;
  const heapLimit = options.heapLimit ?? (() => 256 * 2 ** 20);
  const maxExamples = options.maxExamples ?? 10;
  const summary: FuzzSummary = {
    name: target.name,
    ...emptyCounts(),
    examples: [],
    ms: 0,
    maxParseMs: 0,
    maxAllocationRatio: 0,
    maxAllocationBytes: 0,
    maxHeapGrowth: 0,
    slowestInputLength: 0,
    byStrategy: {},
  };
  const arb = caseArbitrary(target.seeds, target.mutators ?? [], options.randomMaxLength ?? 512);
  const t0 = performance.now();
  const guard = installGuard();
  try {
    fc.assert(
      fc.property(arb, ({ strategy, bytes }) => {
        const kind = strategy.split('+')[0];
        const counts = (summary.byStrategy[kind] ??= emptyCounts());
        summary.tried++;
        counts.tried++;
        let crash: string | undefined;
        let own = false;
        guard.largest = 0;
        const heap0 = v8.getHeapStatistics().used_heap_size;
        const start = performance.now();
        try {
          guard.limit = limitFor(bytes.length);
          let result: R;
          try {
            result = target.parse(bytes);
          } finally {
            guard.limit = null;
          }
          crash = target.checkResult?.(result, bytes);
          if (crash !== undefined) crash = `bad result: ${crash}`;
        } catch (e) {
          if (!(e instanceof AllocationLimitError) && target.isOwnError(e)) own = true;
          else crash = describeError(e);
        }
        const ms = performance.now() - start;
        const heap = v8.getHeapStatistics().used_heap_size - heap0;
        if (ms > summary.maxParseMs) {
          summary.maxParseMs = ms;
          summary.slowestInputLength = bytes.length;
        }
        if (heap > summary.maxHeapGrowth) summary.maxHeapGrowth = heap;
        if (bytes.length > 0) summary.maxAllocationRatio = Math.max(summary.maxAllocationRatio, guard.largest / bytes.length);
        summary.maxAllocationBytes = Math.max(summary.maxAllocationBytes, guard.largest);
        if (crash === undefined && ms > slowMs) crash = `slow: ${ms.toFixed(0)} ms (limit ${slowMs} ms)`;
        if (crash === undefined && heap > heapLimit(bytes.length)) crash = `heap grew by ${(heap / 2 ** 20).toFixed(1)} MB over one parse (limit ${(heapLimit(bytes.length) / 2 ** 20).toFixed(0)} MB)`;
        if (crash !== undefined) {
          summary.crash++;
          counts.crash++;
          if (summary.examples.length < maxExamples) {
            summary.examples.push({ strategy, error: crash, length: bytes.length, head: hexHead(bytes), input: bytes.slice() });
          }
        } else if (own) {
          summary.ownError++;
          counts.ownError++;
        } else {
          summary.ok++;
          counts.ok++;
        }
        return true;
      }),
      { seed: options.seed, numRuns: options.runs, endOnFailure: true },
    );
  } finally {
    guard.restore();
  }
  summary.ms = performance.now() - t0;
  return summary;
}

/** One line: name, counts, time. */
export function formatSummary(s: FuzzSummary): string {
  return (
    `${s.name}: tried ${s.tried}, ok ${s.ok}, own error ${s.ownError}, crash ${s.crash} ` +
    `in ${(s.ms / 1000).toFixed(1)} s (slowest parse ${s.maxParseMs.toFixed(1)} ms on ${s.slowestInputLength} bytes, ` +
    `largest allocation ${s.maxAllocationRatio.toFixed(2)} x input / ${(s.maxAllocationBytes / 1024).toFixed(0)} KB, ` +
    `largest heap growth ${(s.maxHeapGrowth / 2 ** 20).toFixed(1)} MB)`
  );
}

export function formatExamples(s: FuzzSummary): string {
  return s.examples.map((e, i) => `  #${i + 1} [${e.strategy}] ${e.error}\n     ${e.length} bytes: ${e.head}`).join('\n');
}

// ---- byte helpers for the format mutators -------------------------------------------------------------------

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

const U32_LIES = [0, 1, 2, 3, 7, 8, 15, 16, 17, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

// ---- safetensors --------------------------------------------------------------------------------------------

interface StParts {
  header: Record<string, unknown>;
  data: Uint8Array;
}

function stSplit(b: Uint8Array): StParts | undefined {
  if (b.length < 8) return undefined;
  const n = Number(dv(b).getBigUint64(0, true));
  if (8 + n > b.length) return undefined;
  try {
    const header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n)));
    if (header === null || typeof header !== 'object' || Array.isArray(header)) return undefined;
    return { header, data: b.subarray(8 + n) };
  } catch {
    return undefined;
  }
}

/** Raw JSON literals that JSON.stringify cannot produce (exact big integers, overflow to Infinity, ...). */
const RAW_NUMBERS = ['18446744073709551617', '9007199254740993', '1e400', '-0', '1.0', '1e3', '4294967296', '-9007199254740993', '0.5'];

function stJoin(headerText: string, data: Uint8Array, rng: Rng, lengthField?: bigint): Uint8Array {
  if (rng.chance(0.5)) headerText += ' '.repeat((8 - (new TextEncoder().encode(headerText).length % 8)) % 8);
  const hb = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + hb.length + data.length);
  dv(out).setBigUint64(0, lengthField ?? BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

/** Serialises `header` with placeholders `"@@RAW<i>@@"` replaced by raw JSON text. */
function stStringify(header: unknown): string {
  return JSON.stringify(header).replace(/"@@RAW(\d+)@@"/g, (_, i) => RAW_NUMBERS[Number(i)]);
}

function interestingNumber(rng: Rng, near: number[]): unknown {
  const r = rng.int(4);
  if (r === 0) return `@@RAW${rng.int(RAW_NUMBERS.length)}@@`;
  if (r === 1) {
    const base = rng.pick(near);
    return base + rng.pick([-2, -1, 1, 2, 8]);
  }
  return rng.pick<unknown>([
    -1, 0, 1, 2, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 52, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 1e21, 1e308,
    -(2 ** 53), 1.5, NaN, '3', null, true, [], {},
  ]);
}

function tensorNames(h: Record<string, unknown>): string[] {
  return Object.keys(h).filter((k) => k !== '__metadata__');
}

type Entry = { dtype?: unknown; shape?: unknown; data_offsets?: unknown } & Record<string, unknown>;

const ST_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'];
const ST_DTYPE_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Rewrites one entry of a parsed header and re-serialises (with a correct header length unless stated). */
function stEdit(name: string, edit: (h: Record<string, unknown>, e: Entry | undefined, key: string | undefined, parts: StParts, rng: Rng) => Uint8Array | void): Mutator {
  return {
    name,
    apply(seed, rng) {
      const parts = stSplit(seed);
      if (!parts) return seed;
      const names = tensorNames(parts.header);
      const key = names.length ? rng.pick(names) : undefined;
      const e = key !== undefined ? (parts.header[key] as Entry) : undefined;
      try {
        const out = edit(parts.header, e && typeof e === 'object' ? e : undefined, key, parts, rng);
        return out ?? stJoin(stStringify(parts.header), parts.data, rng);
      } catch {
        return seed; // e.g. a header nested too deeply for JSON.stringify (an earlier mutation)
      }
    },
  };
}

/** Format-aware mutators for safetensors files (8-byte LE header length, JSON header, data). */
export function safetensorsMutators(): Mutator[] {
  return [
    {
      name: 'st-header-length',
      apply(seed, rng) {
        if (seed.length < 8) return seed;
        const out = seed.slice();
        const n = dv(seed).getBigUint64(0, true);
        const len = BigInt(seed.length);
        const v = rng.pick([
          0n, 1n, 2n, 7n, n - 1n, n + 1n, n + 8n, len - 8n, len - 7n, len, len + 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n,
          2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 100_000_000n, 100_000_001n, BigInt(rng.int(2 ** 32)) * 2n ** 32n,
        ]);
        dv(out).setBigUint64(0, BigInt.asUintN(64, v), true);
        return out;
      },
    },
    stEdit('st-offsets', (h, e, key, parts, rng) => {
      if (!e) return;
      const offs = Array.isArray(e.data_offsets) ? [...e.data_offsets] : [0, 0];
      const near = [0, parts.data.length, ...offs.filter((x): x is number => typeof x === 'number')];
      const which = rng.int(4);
      if (which === 3) e.data_offsets = rng.pick<unknown>([[], [0], [0, 0, 0], 'x', null, {}, [[0], [1]]]);
      else {
        if (which !== 1) offs[0] = interestingNumber(rng, near);
        if (which !== 0) offs[1] = interestingNumber(rng, near);
        e.data_offsets = offs;
      }
    }),
    stEdit('st-shape', (h, e, key, parts, rng) => {
      if (!e) return;
      const shape = Array.isArray(e.shape) ? [...e.shape] : [];
      switch (rng.int(6)) {
        case 0:
          if (shape.length) shape[rng.int(shape.length)] = interestingNumber(rng, [0, 1, parts.data.length]);
          break;
        case 1:
          shape.push(interestingNumber(rng, [0, 1]));
          break;
        case 2:
          shape.pop();
          break;
        case 3:
          e.shape = rng.pick<unknown>([null, 'x', {}, 3, [[2]], Array(1000).fill(1), Array(64).fill(2), Array(8).fill(2 ** 20)]);
          return;
        case 4:
          shape.splice(0, shape.length, 0, 2 ** 53 - 1); // zero elements, huge dimension
          break;
        default:
          shape.splice(0, shape.length, ...Array(rng.int(6) + 1).fill(2 ** (rng.int(40) + 10)));
      }
      e.shape = shape;
    }),
    stEdit('st-shape-consistent', (h, e, key, parts, rng) => {
      // A huge shape with data_offsets that agree with it: only the end-of-data check can reject it.
      if (!e || typeof e.dtype !== 'string' || !(e.dtype in ST_DTYPE_SIZE)) return;
      const dims = Array.from({ length: rng.int(3) + 1 }, () => rng.pick([1, 2, 3, 1024, 65536, 2 ** 20, 2 ** 26]));
      const bytes = dims.reduce((a, b) => a * b, 1) * ST_DTYPE_SIZE[e.dtype];
      const begin = Array.isArray(e.data_offsets) && typeof e.data_offsets[0] === 'number' ? e.data_offsets[0] : 0;
      e.shape = dims;
      e.data_offsets = [begin, begin + bytes];
    }),
    stEdit('st-dtype', (h, e, key, parts, rng) => {
      if (!e) return;
      e.dtype = rng.chance(0.7) ? rng.pick(ST_DTYPES) : rng.pick<unknown>(['F8', 'f32', '', 'U64', 3, null, ['F32'], 'constructor', '__proto__', 'toString']);
    }),
    stEdit('st-entry', (h, e, key, parts, rng) => {
      if (key === undefined) return;
      switch (rng.int(5)) {
        case 0:
          h[key] = rng.pick<unknown>([null, [], 'x', 1, {}, true]);
          break;
        case 1:
          if (e) delete e[rng.pick(['dtype', 'shape', 'data_offsets'])];
          break;
        case 2:
          if (e) e[rng.pick(['extra', 'constructor', '__proto__', 'DTYPE'])] = 1;
          break;
        case 3: {
          const v = h[key];
          delete h[key];
          const name = rng.pick(['', '__proto__', 'constructor', 'hasOwnProperty', 'x'.repeat(10000), '\u0000', '\ud800x', '__metadata__']);
          Object.defineProperty(h, name, { value: v, enumerable: true, writable: true, configurable: true });
          break;
        }
        default: {
          // a duplicate key in the JSON text (the last one wins in JSON.parse)
          const text = stStringify(h);
          const dup = `{${JSON.stringify(key)}:{"dtype":"U8","shape":[1],"data_offsets":[0,1]},`;
          return stJoin(dup + text.slice(1), parts.data, rng);
        }
      }
    }),
    stEdit('st-swap', (h, e, key, parts, rng) => {
      const names = tensorNames(h);
      if (names.length < 2 || !e) return;
      const other = h[rng.pick(names)] as Entry;
      if (!other || typeof other !== 'object') return;
      const field = rng.pick(['data_offsets', 'shape', 'dtype']);
      [e[field], other[field]] = [other[field], e[field]];
    }),
    stEdit('st-metadata', (h, e, key, parts, rng) => {
      h.__metadata__ = rng.pick<unknown>([
        null, [], 'x', 1, { a: 1 }, { a: null }, { a: { b: 'c' } }, { constructor: 'x' }, { toString: 'x' }, { a: 'b'.repeat(5000) }, {},
      ]);
      if (rng.chance(0.3)) {
        // raw "__proto__" key (an object literal above would set the prototype instead)
        const text = stStringify(h);
        return stJoin(`{"__metadata__":{"__proto__":${rng.pick(['"x"', '{}', '1'])}},` + text.slice(1), parts.data, rng);
      }
    }),
    {
      name: 'st-root',
      apply(seed, rng) {
        const parts = stSplit(seed);
        const data = parts?.data ?? new Uint8Array(0);
        const depth = rng.pick([10, 1000, 100000]);
        const text = rng.pick([
          '[]', 'null', '1', '"x"', '{}', '', ' ', '{"a":', '{}{}', '{"a":1}', '\ufeff{}', '[1,2,3]', `${'['.repeat(depth)}${']'.repeat(depth)}`,
          `{"a":${'['.repeat(depth)}`, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
        ]);
        if (rng.chance(0.2)) {
          const bad = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]); // "{", invalid UTF-8, "}"
          const out = new Uint8Array(8 + bad.length + data.length);
          dv(out).setBigUint64(0, BigInt(bad.length), true);
          out.set(bad, 8);
          out.set(data, 8 + bad.length);
          return out;
        }
        return stJoin(text, data, rng);
      },
    },
    stEdit('st-duplicate', (h, e, key, parts, rng) => {
      // A key given twice in the JSON text: a tensor name, a field of an entry, or a __metadata__ key.
      const text = stStringify(h);
      const which = rng.int(3);
      if (which === 0 && key !== undefined) return stJoin(`{${JSON.stringify(key)}:${JSON.stringify(h[key])},` + text.slice(1), parts.data, rng);
      if (which === 1 && key !== undefined && e) {
        const field = rng.pick(['dtype', 'shape', 'data_offsets']);
        const entry = JSON.stringify(e);
        const dupEntry = `{${JSON.stringify(field)}:${JSON.stringify(e[field] ?? null)},${entry.slice(1)}`;
        return stJoin(text.replace(`${JSON.stringify(key)}:${entry}`, `${JSON.stringify(key)}:${dupEntry}`), parts.data, rng);
      }
      return stJoin(`{"__metadata__":{"k":"1","k":"2"},` + text.slice(1), parts.data, rng);
    }),
    {
      name: 'st-bom',
      apply(seed, rng) {
        // A UTF-8 byte order mark before the JSON (the header length counting it, or not).
        const parts = stSplit(seed);
        if (!parts) return seed;
        let text: string;
        try {
          text = stStringify(parts.header);
        } catch {
          return seed; // a header nested too deeply for JSON.stringify (an earlier mutation)
        }
        return stJoin('\ufeff' + text, parts.data, rng, rng.chance(0.2) ? BigInt(new TextEncoder().encode(text).length) : undefined);
      },
    },
    stEdit('st-data', (h, e, key, parts, rng) => {
      const d = parts.data;
      const cut = rng.int(Math.min(d.length, 64) + 1);
      const data = rng.chance(0.5) ? d.subarray(0, d.length - cut) : concatBytes(d, new Uint8Array(rng.int(64) + 1));
      return stJoin(stStringify(h), data, rng);
    }),
  ];
}

// ---- torch .pt -----------------------------------------------------------------------------------------------

/** A small power-of-two-ish size, or a huge one. */
function ptSize(rng: Rng): number {
  return rng.chance(0.7) ? rng.pick([0, 1, 2, 3, 4, 7, 16]) : rng.pick([255, 65536, 2 ** 20, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53 - 1]);
}

const PT_DTYPES: Array<[string, number]> = [
  ['FloatStorage', 4], ['DoubleStorage', 8], ['HalfStorage', 2], ['BFloat16Storage', 2], ['LongStorage', 8], ['IntStorage', 4], ['ShortStorage', 2],
  ['CharStorage', 1], ['ByteStorage', 1], ['BoolStorage', 1],
];

/** Random bytes of a length. */
function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

/** Pickle fragments that push one value, for splicing into a pickle. */
function pickleValue(rng: Rng): number[] {
  switch (rng.int(9)) {
    case 0: return op.int(rng.pick([0, 1, -1, 255, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 53), 2 ** 60]));
    case 1: return op.long(BigInt.asIntN(64 * (rng.int(40) + 1), BigInt(rng.int(2 ** 30)) << BigInt(rng.int(2000))));
    case 2: return [0x4c, ...ascii(`${rng.chance(0.5) ? '-' : ''}${'9'.repeat(rng.pick([1, 20, 4300, 4301, 6000]))}L\n`)];
    case 3: return [0x49, ...ascii(`${rng.pick(['01', '00', '12', '-7', '1e3', '', '9'.repeat(rng.pick([30, 4301]))])}\n`)];
    case 4: return op.str(rng.pick(['', 'a', '__proto__', 'constructor', 'x'.repeat(2000)]));
    case 5: return op.tuple([op.int(1), op.tuple([op.long(2n ** 70n)])]);
    case 6: return [0x8b, ...i64le(BigInt(rng.pick([0, 1, 2 ** 31 - 1, 2 ** 31, 0xffffffff]))).slice(0, 4)]; // a LONG4 whose length lies
    case 7: return [...op.emptyDict];
    default: return [0x5d];
  }
}

/** Opcodes (with their operands) to splice into a pickle: memo, stack and container operations. */
function pickleNoise(rng: Rng): number[] {
  return rng.pick<() => number[]>([
    () => op.get(rng.int(8)),
    () => op.put(rng.pick([0, 1, 2, 0xffffffff])),
    () => [0x94], // MEMOIZE
    () => [0x32], // DUP
    () => [0x30], // POP
    () => [0x28], // MARK
    () => [0x31], // POP_MARK
    () => [0x74], // TUPLE
    () => [0x85],
    () => [0x86],
    () => [0x87],
    () => [0x6c], // LIST
    () => [0x64], // DICT
    () => [0x61], // APPEND
    () => [0x65], // APPENDS
    () => [0x73], // SETITEM
    () => [0x75], // SETITEMS
    () => [0x52], // REDUCE
    () => [0x62], // BUILD
    () => [0x51], // BINPERSID
    () => [0x81], // NEWOBJ
    () => op.global(rng.pick(['collections', 'torch._utils', 'torch', 'os', '__builtin__']), rng.pick(['OrderedDict', '_rebuild_tensor_v2', 'FloatStorage', 'system', 'eval'])),
    () => pickleValue(rng),
  ])();
}

/** A torch state dict tensor of random shape, strides and offset over a storage of random length and dtype. */
function randomTensor(rng: Rng, name: string, storage: string, legacy: boolean): { spec: TensorSpec; bytes: Uint8Array; count: number } {
  const [type, size] = rng.pick(PT_DTYPES);
  const rank = rng.int(4);
  const dims = Array.from({ length: rank }, () => ptSize(rng));
  const strides = Array.from({ length: rank }, () => (rng.chance(0.4) ? 0 : ptSize(rng)));
  const count = rng.chance(0.8) ? rng.int(24) : ptSize(rng);
  const stored = rng.chance(0.8) ? Math.min(count, 4096) : rng.int(64);
  const spec: TensorSpec = { name, storage, type, numel: count, offset: rng.chance(0.8) ? rng.int(4) : rng.pick([-1, 2 ** 31, 2 ** 53 - 1]), size: dims, stride: strides };
  if (legacy && rng.chance(0.4)) spec.view = [`v${storage}`, rng.pick([0, 1, 2, -1, -996, count, count + 1, 2 ** 31]), rng.pick([0, 1, 3, count, 1000, 2 ** 31])];
  return { spec, bytes: randomBytes(rng, stored * size), count: stored };
}

/** The pickle of a seed file (zip: its data.pkl; legacy: the object pickle cannot be located, so undefined). */
function seedPickle(seed: Uint8Array): { pkl: Uint8Array; rest: Array<[string, Uint8Array]>; name: string } | undefined {
  const entries = zipEntries(seed);
  const i = entries?.findIndex(([n]) => n.endsWith('data.pkl')) ?? -1;
  if (!entries || i < 0) return undefined;
  return { pkl: entries[i][1], rest: entries.filter((_, j) => j !== i), name: entries[i][0] };
}

/**
 * Format-aware mutators for torch.save files: the structures of issue 13 (shared references, deep nesting, long
 * integers, tuple keys, stride 0 and huge shapes, legacy storage views, duplicate entries), random tensors, and
 * pickle-level edits of a seed's data.pkl (opcodes spliced in, a declared numel changed).
 */
export function torchMutators(): Mutator[] {
  const one = f32bytes([1]);
  return [
    { name: 'pt-shared', apply: (_s, rng) => zipCheckpoint(sharedDictsPickle(rng.pick([1, 5, 17, 20, 40, 60, 200]), rng.chance(0.7)), [['0', one]]) },
    {
      name: 'pt-deep',
      apply: (_s, rng) => zipCheckpoint((rng.chance(0.5) ? deepDictPickle : deepListPickle)(rng.pick([1, 100, 998, 999, 1000, 1001, 3000])), [['0', one]]),
    },
    {
      name: 'pt-long',
      apply(_s, rng) {
        // A long integer as the value, a dict key, a tuple key part, a tensor size or a storage offset.
        const n = rng.pick([0, 1, 7, 8, 255, 256, 4096, 65536, 200000]);
        const long = n < 256 ? [0x8a, n, ...randomBytes(rng, n)] : [0x8b, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, 0, ...randomBytes(rng, n)];
        const where = rng.int(4);
        const pkl =
          where === 0 ? [...op.proto, ...long, ...op.stop]
            : where === 1 ? [...op.proto, ...op.emptyDict, ...long, ...op.int(1), ...op.setitem, ...op.stop]
              : where === 2 ? [...op.proto, ...op.emptyDict, ...op.tuple([op.int(1), long]), ...op.int(1), ...op.setitem, ...op.stop]
                : [...op.proto, ...op.emptyDict, ...op.str('t'), ...op.global('torch._utils', '_rebuild_tensor_v2'),
                  ...op.tuple([[...storagePid({ name: 't', storage: '0', numel: 1, size: [], stride: [] }, false), ...op.binpersid], long, op.tuple([long]), op.tuple([op.int(1)]), op.newfalse, op.emptyDict]),
                  ...op.reduce, ...op.setitem, ...op.stop];
        return zipCheckpoint(pkl, [['0', one]]);
      },
    },
    { name: 'pt-tuple-keys', apply: (_s, rng) => zipCheckpoint(sharedTupleKeysPickle(rng.pick([0, 1, 5, 6, 7, 8, 20, 30]), rng.int(4) + 1), []) },
    {
      name: 'pt-tensors',
      apply(_s, rng) {
        // Random shapes, stride 0, huge sizes, offsets, storages shorter or longer than declared, shared storages.
        const legacy = rng.chance(0.4);
        const k = rng.int(4) + 1;
        const made = Array.from({ length: k }, (_, i) => randomTensor(rng, `t${i}`, rng.chance(0.7) ? String(i) : '0', legacy));
        const specs = made.map((m) => m.spec);
        const storages = new Map<string, { bytes: Uint8Array; count: number }>();
        for (const m of made) if (!storages.has(m.spec.storage)) storages.set(m.spec.storage, m);
        if (legacy) return legacyFile(stateDictPickle(specs, true), [...storages].map(([key, m]): [string, Uint8Array, number] => [key, m.bytes, rng.chance(0.9) ? m.count : m.count + 1]));
        return zipCheckpoint(stateDictPickle(specs, false), [...storages].map(([key, m]): [string, Uint8Array] => [key, m.bytes]));
      },
    },
    {
      name: 'pt-view',
      apply(_s, rng) {
        // Legacy storage views: offsets and sizes inside, at the edge of, or outside their root.
        const n = rng.pick([1, 4, 16]);
        const offset = rng.pick([0, 1, n - 1, n, n + 1, -1, -996, 2 ** 31]);
        const size = rng.pick([0, 1, n, n - offset, 1000, 2 ** 31]);
        const tensor = rng.pick([0, 1, size, n, 1000]);
        const spec: TensorSpec = { name: 'x', storage: '0', numel: n, size: [Math.max(0, tensor)], stride: [1], view: ['v', offset, Math.max(0, size)] };
        return legacyFile(stateDictPickle([spec], true), [['0', f32bytes(Array.from({ length: n }, (_, i) => i)), n]]);
      },
    },
    {
      name: 'pt-duplicate',
      apply(seed, rng) {
        // Duplicate zip entries (data.pkl, a storage), two data.pkl at one depth, a legacy storage listed twice.
        const pkl = new Uint8Array(stateDictPickle([{ name: 'x', storage: '0', numel: 1, size: [1], stride: [1] }], false));
        switch (rng.int(4)) {
          case 0: return zipFile([['a/data.pkl', pkl], ['a/data.pkl', pkl], ['a/data/0', one]]);
          case 1: return zipFile([['a/data.pkl', pkl], ['a/data/0', one], ['a/data/0', f32bytes([2])]]);
          case 2: return zipFile([['a/data.pkl', pkl], ['b/data.pkl', pkl], ['a/data/0', one], ['b/data/0', one]]);
          default: {
            const main = stateDictPickle([{ name: 'x', storage: '0', numel: 1, size: [1], stride: [1] }], true);
            return legacyFile(main, [['0', one, 1], ['0', one, 1]]);
          }
        }
      },
    },
    {
      name: 'pt-pickle',
      apply(seed, rng) {
        // Opcodes spliced into (or replacing part of) a seed's data.pkl; the archive rebuilt around it.
        const s = seedPickle(seed);
        if (!s) return seed;
        const body = Array.from(s.pkl);
        const edits = rng.int(3) + 1;
        for (let e = 0; e < edits; e++) {
          const at = rng.int(Math.max(1, body.length - 1));
          body.splice(at, rng.chance(0.3) ? rng.int(4) : 0, ...pickleNoise(rng));
        }
        return zipFile([[s.name, new Uint8Array(body)], ...s.rest]);
      },
    },
    {
      name: 'pt-zip-fields',
      apply(seed, rng) {
        // Lying central-directory fields: sizes, offsets, name lengths, the entry count.
        if (seed.length < 22 || dv(seed).getUint32(seed.length - 22, true) !== 0x06054b50) return seed;
        const out = seed.slice();
        const v = dv(out);
        const eocd = out.length - 22;
        if (rng.chance(0.3)) {
          const field = rng.pick([8, 10, 12, 16]);
          if (field <= 10) v.setUint16(eocd + field, rng.pick([0, 1, 0xffff, v.getUint16(eocd + field, true) + 1]), true);
          else v.setUint32(eocd + field, rng.pick(U32_LIES), true);
          return out;
        }
        let p = v.getUint32(eocd + 16, true);
        const count = v.getUint16(eocd + 10, true);
        const k = rng.int(Math.max(1, count));
        for (let i = 0; i < k && p + 46 <= out.length; i++) p += 46 + v.getUint16(p + 28, true) + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
        if (p + 46 > out.length) return out;
        const field = rng.pick([10, 20, 24, 28, 42]);
        if (field === 10 || field === 28) v.setUint16(p + field, rng.pick([0, 8, 0xffff]), true);
        else v.setUint32(p + field, rng.pick(U32_LIES), true);
        return out;
      },
    },
  ];
}

// ---- WAV ----------------------------------------------------------------------------------------------------

interface RiffChunk {
  id: string;
  /** Offset of the chunk header in the file. */
  pos: number;
  size: number;
}

function riffChunks(b: Uint8Array): RiffChunk[] {
  const out: RiffChunk[] = [];
  if (b.length < 12) return out;
  const v = dv(b);
  let pos = 12;
  while (pos + 8 <= b.length) {
    const size = v.getUint32(pos + 4, true);
    out.push({ id: String.fromCharCode(b[pos], b[pos + 1], b[pos + 2], b[pos + 3]), pos, size });
    pos += 8 + size + (size & 1);
  }
  return out;
}

function riffBody(b: Uint8Array, c: RiffChunk): Uint8Array {
  return b.subarray(c.pos, Math.min(b.length, c.pos + 8 + c.size + (c.size & 1)));
}

function makeChunk(id: string, body: Uint8Array, declared = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  dv(out).setUint32(4, declared >>> 0, true);
  out.set(body, 8);
  return out;
}

function makeRiff(chunks: Uint8Array[], rng: Rng): Uint8Array {
  const body = concatBytes(...chunks);
  const out = new Uint8Array(12 + body.length);
  out.set([0x52, 0x49, 0x46, 0x46]); // RIFF
  dv(out).setUint32(4, rng.chance(0.9) ? 4 + body.length : rng.pick(U32_LIES), true);
  out.set([0x57, 0x41, 0x56, 0x45], 8); // WAVE
  out.set(body, 12);
  return out;
}

const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** fmt fields: [offset in the chunk body, width in bytes]. */
const FMT_FIELDS: [number, 2 | 4][] = [[0, 2], [2, 2], [4, 4], [8, 4], [12, 2], [14, 2], [16, 2], [18, 2], [20, 4], [24, 2]];

function u16Value(rng: Rng): number {
  return rng.pick([0, 1, 2, 3, 4, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64, 0x7fff, 0x8000, 0xfffe, 0xffff, rng.int(0x10000)]);
}

/** A WAV file made from random parameters: formats, channel counts, chunk layouts, lying sizes. */
function synthWav(rng: Rng): Uint8Array {
  const ext = rng.chance(0.25);
  const code = rng.chance(0.85) ? rng.pick([1, 3]) : u16Value(rng);
  const channels = rng.chance(0.8) ? rng.int(4) + 1 : rng.pick([0, 255, 256, 0xffff]);
  const bits = rng.chance(0.8) ? rng.pick([8, 16, 24, 32, 64]) : u16Value(rng);
  const rate = rng.chance(0.9) ? rng.pick([8000, 16000, 44100]) : rng.pick([0, 1, 0xffffffff]);
  const blockAlign = rng.chance(0.85) ? ((channels * bits) / 8) & 0xffff : u16Value(rng);
  const fmt = new Uint8Array(ext ? 40 : rng.pick([14, 16, 18]));
  const f = dv(fmt);
  const set16 = (o: number, x: number) => o + 2 <= fmt.length && f.setUint16(o, x & 0xffff, true);
  set16(0, ext ? 0xfffe : code);
  set16(2, channels);
  if (fmt.length >= 8) f.setUint32(4, rate >>> 0, true);
  set16(12, blockAlign);
  set16(14, bits);
  if (ext) {
    set16(16, rng.chance(0.9) ? 22 : rng.int(30));
    set16(18, bits);
    set16(24, code);
    fmt.set(GUID_TAIL, 26);
    if (rng.chance(0.1)) fmt[26 + rng.int(14)] ^= 1 << rng.int(8);
  }
  const frames = rng.pick([0, 1, 2, 3, 5, 17]);
  let dataLen = Math.max(0, frames * (blockAlign || 1));
  if (rng.chance(0.2)) dataLen += rng.int(3);
  dataLen = Math.min(dataLen, 4096);
  const data = new Uint8Array(dataLen);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const dataDeclared = rng.chance(0.85) ? dataLen : rng.pick([...U32_LIES, dataLen + 1, dataLen - 1]);
  const chunks: Uint8Array[] = [];
  const extra = () => makeChunk(rng.pick(['LIST', 'fact', 'junk', 'cue ', 'data', 'fmt ']), new Uint8Array(rng.int(7)));
  if (rng.chance(0.3)) chunks.push(extra());
  if (rng.chance(0.95)) chunks.push(makeChunk('fmt ', fmt));
  if (rng.chance(0.3)) chunks.push(extra());
  if (rng.chance(0.95)) chunks.push(makeChunk('data', data, dataDeclared));
  if (rng.chance(0.3)) chunks.push(extra());
  if (rng.chance(0.2)) chunks.reverse();
  return makeRiff(chunks, rng);
}

/** Format-aware mutators for WAV files (RIFF chunks, fmt fields). */
export function wavMutators(): Mutator[] {
  return [
    {
      name: 'wav-chunk-size',
      apply(seed, rng) {
        const chunks = riffChunks(seed);
        if (seed.length < 8) return seed;
        const out = seed.slice();
        const v = dv(out);
        if (chunks.length === 0 || rng.chance(0.15)) {
          v.setUint32(4, rng.pick(U32_LIES), true); // the RIFF size
          return out;
        }
        const c = rng.pick(chunks);
        const remaining = seed.length - c.pos - 8;
        v.setUint32(c.pos + 4, rng.pick([...U32_LIES, c.size + 1, c.size - 1 >>> 0, remaining, remaining + 1, remaining - 1 >>> 0, c.size * 2]), true);
        return out;
      },
    },
    {
      name: 'wav-fmt-field',
      apply(seed, rng) {
        const fmt = riffChunks(seed).find((c) => c.id === 'fmt ');
        if (!fmt) return seed;
        const out = seed.slice();
        const [off, width] = rng.pick(FMT_FIELDS);
        const at = fmt.pos + 8 + off;
        if (at + width > out.length) return out;
        if (width === 2) dv(out).setUint16(at, u16Value(rng), true);
        else dv(out).setUint32(at, rng.chance(0.5) ? rng.pick(U32_LIES) : rng.int(2 ** 32), true);
        return out;
      },
    },
    {
      name: 'wav-fmt-consistent',
      apply(seed, rng) {
        // channels / bits changed together with a matching block align (and sometimes a matching data size)
        const chunks = riffChunks(seed);
        const fmt = chunks.find((c) => c.id === 'fmt ');
        if (!fmt || fmt.pos + 24 > seed.length) return seed;
        const out = seed.slice();
        const v = dv(out);
        const channels = rng.pick([1, 2, 3, 8, 255, 4096, 0xffff]);
        const bits = rng.pick([8, 16, 24, 32, 64]);
        const blockAlign = (channels * bits) / 8;
        v.setUint16(fmt.pos + 10, channels, true);
        v.setUint16(fmt.pos + 20, blockAlign & 0xffff, true);
        v.setUint16(fmt.pos + 22, bits, true);
        const data = chunks.find((c) => c.id === 'data');
        if (data && rng.chance(0.5)) v.setUint32(data.pos + 4, blockAlign * rng.int(3), true);
        return out;
      },
    },
    {
      name: 'wav-extensible',
      apply(seed, rng) {
        const chunks = riffChunks(seed);
        const fmt = chunks.find((c) => c.id === 'fmt ');
        if (!fmt || fmt.pos + 8 + 16 > seed.length) return seed;
        const old = seed.subarray(fmt.pos + 8, fmt.pos + 8 + 16);
        const body = new Uint8Array(rng.chance(0.9) ? 40 : rng.pick([18, 24, 39]));
        body.set(old.subarray(0, Math.min(16, body.length)));
        const v = dv(body);
        const code = v.getUint16(0, true);
        v.setUint16(0, 0xfffe, true);
        if (body.length >= 18) v.setUint16(16, rng.chance(0.9) ? 22 : rng.int(40), true);
        if (body.length >= 40) {
          v.setUint16(18, v.getUint16(14, true), true);
          v.setUint16(24, rng.chance(0.8) ? code : u16Value(rng), true);
          body.set(GUID_TAIL, 26);
          if (rng.chance(0.2)) body[26 + rng.int(14)] ^= 1 << rng.int(8);
        }
        const parts = chunks.map((c) => (c === fmt ? makeChunk('fmt ', body) : riffBody(seed, c)));
        return makeRiff(parts, rng);
      },
    },
    {
      name: 'wav-chunks',
      apply(seed, rng) {
        // drop, duplicate, reorder chunks or insert unknown (odd-sized) ones
        const parts = riffChunks(seed).map((c) => riffBody(seed, c));
        const op = rng.int(4);
        if (op === 0 && parts.length) parts.splice(rng.int(parts.length), 1);
        else if (op === 1 && parts.length) parts.splice(rng.int(parts.length + 1), 0, rng.pick(parts));
        else if (op === 2) parts.reverse();
        else {
          const body = new Uint8Array(rng.pick([0, 1, 3, 4, 255]));
          parts.splice(rng.int(parts.length + 1), 0, makeChunk(rng.pick(['LIST', 'fact', 'JUNK', 'smpl', '\0\0\0\0']), body, rng.chance(0.8) ? body.length : rng.pick(U32_LIES)));
        }
        return makeRiff(parts, rng);
      },
    },
    { name: 'wav-synth', apply: (_seed, rng) => synthWav(rng) },
  ];
}
