/**
 * Hostile inputs: a fixed-seed sample of the fuzz run in scripts/fuzz.ts (which runs >= 100,000 inputs per parser):
 * safetensors, torch .pt (with the structures of issue 13: shared references, deep nesting, long integers, tuple
 * keys, stride 0, storage views, duplicate entries) and WAV.
 * Every input must give a valid result or a FormatError; anything else is a parser bug.
 */
import * as path from 'node:path';
import { targets } from '../scripts/fuzz';
import { formatExamples, formatSummary, fuzzParser, FuzzTarget, makeRng, safetensorsMutators, torchMutators, wavMutators } from './helpers/fuzzParsers';
import { zipCheckpoint, stateDictPickle, f32bytes } from './helpers/ptBuild';
import { writeWav } from '../src/audio/wav';
import { FormatError } from '../src/weights/types';

const FIXTURE = path.join(__dirname, 'fixtures', 'golden', 'weights', 'mimi_tiny_weights.safetensors');
const SEED = 20240601;
/** Inputs per target: the .pt inputs are larger structures (shared references, deep nesting, long integers). */
const runsFor = (name: string) => (name.startsWith('torch') ? 250 : 2000);

describe('parsers survive hostile inputs', () => {
  for (const target of targets(FIXTURE)) {
    const RUNS = runsFor(target.name);
    test(`${target.name}: ${RUNS} inputs, no crash`, () => {
      const s = fuzzParser(target, { runs: RUNS, seed: SEED });
      if (s.crash > 0) throw new Error(`${formatSummary(s)}\n${formatExamples(s)}`);
      expect(s.tried).toBe(RUNS);
      expect(s.ok + s.ownError).toBe(RUNS);
      // the sample must reach both outcomes, or it is not exercising the parser
      expect(s.ok).toBeGreaterThan(RUNS / 50);
      expect(s.ownError).toBeGreaterThan(RUNS / 2);
      expect(s.maxAllocationRatio).toBeLessThanOrEqual(8);
    });
  }
});

describe('the harness', () => {
  const seeds = [writeWav(new Float32Array([0, 0.5, -0.5]), 16000), writeWav([new Float32Array(4), new Float32Array(4)], 8000, 'float32')];
  const base = { isOwnError: (e: unknown) => e instanceof FormatError, seeds, mutators: wavMutators() };

  test('counts a TypeError as a crash and keeps an example', () => {
    const target: FuzzTarget<number> = {
      ...base,
      name: 'buggy',
      parse(b) {
        if (b.length < 12) throw new FormatError('short');
        if (b[0] !== 0x52) return (undefined as unknown as { x: number }).x; // TypeError
        return b.length;
      },
    };
    const s = fuzzParser(target, { runs: 300, seed: 1, maxExamples: 3 });
    expect(s.crash).toBeGreaterThan(0);
    expect(s.ownError).toBeGreaterThan(0);
    expect(s.ok).toBeGreaterThan(0);
    expect(s.examples).toHaveLength(3);
    expect(s.examples[0].error).toMatch(/^TypeError/);
  });

  test('stops oversized allocations before they happen and restores the constructors', () => {
    const F64 = Float64Array;
    const AB = ArrayBuffer;
    const target: FuzzTarget<number> = {
      ...base,
      name: 'greedy',
      parse(b) {
        if (b.length < 12) throw new FormatError('short');
        const declared = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4, true); // the RIFF size field
        return new Float64Array(declared).length; // 8 bytes per declared byte: always over 8 x input once declared > length
      },
    };
    const s = fuzzParser(target, { runs: 300, seed: 2 });
    expect(s.crash).toBeGreaterThan(0);
    expect(s.examples.some((e) => /AllocationLimitError: new Float64Array: \d+ bytes requested/.test(e.error))).toBe(true);
    expect(Float64Array).toBe(F64);
    expect(ArrayBuffer).toBe(AB);
  });

  test('a failed result check is a crash', () => {
    const target: FuzzTarget<number> = { ...base, name: 'checked', parse: (b) => b.length, checkResult: (n) => (n > 40 ? 'too long' : undefined) };
    const s = fuzzParser(target, { runs: 200, seed: 3 });
    expect(s.crash).toBeGreaterThan(0);
    expect(s.examples[0].error).toBe('bad result: too long');
  });

  test('is deterministic for a seed', () => {
    const collect = (seed: number) => {
      const lengths: number[] = [];
      fuzzParser({ ...base, name: 'lengths', parse: (b) => lengths.push(b.length) }, { runs: 200, seed });
      return lengths;
    };
    expect(collect(5)).toEqual(collect(5));
    expect(collect(5)).not.toEqual(collect(6));
  });

  test('format mutators never throw and never modify their seed', () => {
    const header = new TextEncoder().encode('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}}');
    const stSeed = new Uint8Array(8 + header.length + 8);
    new DataView(stSeed.buffer).setBigUint64(0, BigInt(header.length), true);
    stSeed.set(header, 8);
    const ptSeed = zipCheckpoint(stateDictPickle([{ name: 'x', storage: '0', numel: 2, size: [2], stride: [1] }], false), [['0', f32bytes([1, 2])]]);
    for (const [seed, mutators, n] of [[stSeed, safetensorsMutators(), 2000], [seeds[1], wavMutators(), 2000], [ptSeed, torchMutators(), 60]] as const) {
      const copy = seed.slice();
      const rng = makeRng(9);
      for (let i = 0; i < n; i++) {
        const m = rng.pick(mutators);
        expect(m.apply(seed, rng)).toBeInstanceOf(Uint8Array);
      }
      expect(seed).toEqual(copy);
    }
  });
});
