/**
 * A small fuzzing harness for byte parsers, built on fast-check. It knows nothing about the parsers it drives:
 * a target is a `parse(bytes)` function, a predicate saying which exceptions are the parser's own, documented
 * rejections, an optional check of successful results, and a seed corpus of valid files.
 *
 * Each input is one of:
 * - random bytes, or a seed's first bytes followed by random bytes;
 * - a seed truncated, with bit flips, with bytes overwritten (by boundary values or random ones), with a range
 *   deleted or random bytes inserted;
 * - a seed rewritten by a format-aware mutator (see `safetensorsMutators` and `wavMutators`: lying length and size
 *   fields, huge offsets and shapes, reordered and missing chunks, ...), sometimes followed by a bit flip.
 *
 * Outcomes: `ok` (returned, and the result check passed), `ownError` (threw an error the target accepts), or a
 * crash: any other exception (TypeError, a RangeError from a typed-array constructor, ...), a failed result check,
 * an allocation over the limit, or a parse slower than `slowMs`. While a parse runs, ArrayBuffer and every
 * typed-array constructor are wrapped so that one allocation larger than `allocationLimit(input.length)` bytes
 * (default 8 x the input length, at least 64) throws an AllocationLimitError before any memory is taken.
 *
 * Runs are deterministic for a given `seed`. The mutators only use byte-level knowledge of the formats; they do not
 * import the parsers, so this module has no dependency on the rest of the library.
 */
import * as fc from 'fast-check';
import { concatBytes } from '../../src/util/concat';

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
  const maxExamples = options.maxExamples ?? 10;
  const summary: FuzzSummary = {
    name: target.name,
    ...emptyCounts(),
    examples: [],
    ms: 0,
    maxParseMs: 0,
    maxAllocationRatio: 0,
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
        if (ms > summary.maxParseMs) summary.maxParseMs = ms;
        if (bytes.length > 0) summary.maxAllocationRatio = Math.max(summary.maxAllocationRatio, guard.largest / bytes.length);
        if (crash === undefined && ms > slowMs) crash = `slow: ${ms.toFixed(0)} ms (limit ${slowMs} ms)`;
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
    `in ${(s.ms / 1000).toFixed(1)} s (slowest parse ${s.maxParseMs.toFixed(1)} ms, largest allocation ${s.maxAllocationRatio.toFixed(2)} x input)`
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
    stEdit('st-data', (h, e, key, parts, rng) => {
      const d = parts.data;
      const cut = rng.int(Math.min(d.length, 64) + 1);
      const data = rng.chance(0.5) ? d.subarray(0, d.length - cut) : concatBytes(d, new Uint8Array(rng.int(64) + 1));
      return stJoin(stStringify(h), data, rng);
    }),
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
