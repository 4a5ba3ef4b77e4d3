// Fuzzes the byte parsers (safetensors header + reader, torch .pt reader, WAV reader) with hostile inputs.
// Usage: node scripts/run-ts.mjs scripts/fuzz.ts [--n 100000] [--seed 20240601] [--only NAME]
// Prints one summary line per parser (tried / ok / own error / crash, the slowest parse, the largest allocation and
// heap growth); exits 1 if any input crashed a parser, took over 2 s or grew the heap by over 256 MB
// (see test/helpers/fuzzParsers.ts). test/fuzz.test.ts imports `targets` and runs a smaller sample of the same inputs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readWav, writeWav, WAV_FORMATS, WavData } from '../src/audio/wav';
import { formatExamples, formatSummary, fuzzParser, FuzzTarget, safetensorsMutators, torchMutators, wavMutators } from '../test/helpers/fuzzParsers';
import { TensorSpec, ascii, f32bytes, legacyFile, op, stateDictPickle, zipCheckpoint, zipFile } from '../test/helpers/ptBuild';
import { loadTorchStateDict } from '../src/weights/torchCheckpoint';
import { memorySource, parseHeader, readSafetensors, SafetensorsHeader, writeSafetensors } from '../src/weights/safetensors';
import { DTYPE_SIZE, FormatError, RawTensor, numel, toFloat32 } from '../src/weights/types';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer`);
  return v;
}

export const FIXTURE = path.join('test', 'fixtures', 'golden', 'weights', 'mimi_tiny_weights.safetensors');

function safetensorsSeeds(fixturePath: string): Uint8Array[] {
  const fixture = new Uint8Array(fs.readFileSync(fixturePath));
  const first = [...readSafetensors(fixture).tensors.entries()].slice(0, 3);
  const t = (dtype: RawTensor['dtype'], shape: number[], data: RawTensor['data']): RawTensor => ({ dtype, shape, data });
  const allDtypes = writeSafetensors(
    [
      ['f64', t('F64', [2], new Float64Array([1.5, -2]))],
      ['f32', t('F32', [2, 2], new Float32Array([1, 2, 3, 4]))],
      ['f16', t('F16', [3], new Uint16Array([0x3c00, 0x7c00, 0xfe00]))],
      ['bf16', t('BF16', [1], new Uint16Array([0x3f80]))],
      ['i64', t('I64', [2], new BigInt64Array([1n, -(2n ** 62n)]))],
      ['i32', t('I32', [], new Int32Array([7]))],
      ['i16', t('I16', [3], new Int16Array([1, -1, 300]))],
      ['i8', t('I8', [2], new Int8Array([-128, 127]))],
      ['u8', t('U8', [0, 5], new Uint8Array(0))],
      ['bool', t('BOOL', [3], new Uint8Array([0, 1, 1]))],
    ],
    { format: 'pt', note: 'fuzz seed' },
  );
  return [fixture, writeSafetensors(first), allDtypes, writeSafetensors(new Map()), writeSafetensors(new Map(), { only: 'metadata' })];
}

function wavSeeds(): Uint8Array[] {
  const sig = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(0.3 * i * (k + 1)) * 0.9);
  const seeds: Uint8Array[] = [];
  for (const f of WAV_FORMATS) {
    seeds.push(writeWav(sig(7, 0), 16000, f));
    seeds.push(writeWav([sig(5, 0), sig(5, 1), sig(5, 2)], 44100, f));
  }
  seeds.push(writeWav([new Float32Array(0), new Float32Array(0)], 8000, 'pcm16'));
  return seeds;
}

/** Small torch.save files in both containers: every storage dtype, strided and broadcast views, parameters, nesting. */
function torchSeeds(): Uint8Array[] {
  const specs: TensorSpec[] = [
    { name: 'plain', storage: '0', numel: 6, size: [2, 3], stride: [3, 1] },
    { name: 'transposed', storage: '0', numel: 6, size: [3, 2], stride: [1, 3] },
    { name: 'scalar', storage: '0', numel: 6, offset: 5, size: [], stride: [] },
    { name: 'broadcast', storage: '0', numel: 6, offset: 2, size: [2, 2], stride: [0, 1], parameter: true },
    { name: 'ids', storage: '1', type: 'LongStorage', numel: 3, size: [3], stride: [1] },
    { name: 'half', storage: '2', type: 'HalfStorage', numel: 2, size: [2], stride: [1] },
    { name: 'mask', storage: '3', type: 'BoolStorage', numel: 2, size: [2], stride: [1] },
  ];
  const storages: Array<[string, Uint8Array, number]> = [
    ['0', f32bytes([0, 1, 2, 3, 4, 5]), 6],
    ['1', new Uint8Array(new BigInt64Array([7n, -1n, 1n << 40n]).buffer), 3],
    ['2', new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer), 2],
    ['3', new Uint8Array([1, 0]), 2],
  ];
  const zip = zipFile([
    ['archive/data.pkl', new Uint8Array(stateDictPickle(specs, false))],
    ['archive/byteorder', new Uint8Array(ascii('little'))],
    ...storages.map(([k, b]): [string, Uint8Array] => [`archive/data/${k}`, b]),
    ['archive/version', new Uint8Array(ascii('3\n'))],
  ]);
  const legacy = legacyFile(stateDictPickle([...specs, { name: 'view', storage: '0', numel: 6, size: [2], stride: [1], view: ['v', 2, 3] }], true), storages);
  // {'weights': OrderedDict(...) with BUILD _metadata, 'config': {...}, 'epoch': 4}, like MaAI's CPC checkpoint.
  const od = [...op.global('collections', 'OrderedDict'), ...op.emptyTuple, ...op.reduce];
  const inner = stateDictPickle(specs.slice(0, 2), false).slice(2, -2); // without PROTO and the final SETITEMS+STOP
  const nested = [
    ...op.proto, ...op.emptyDict, ...op.mark,
    ...op.str('weights'), ...od, ...inner.slice(1), ...op.setitems, ...op.emptyDict, ...op.str('_metadata'), ...od, 0x73, 0x62,
    ...op.str('config'), ...op.emptyDict, ...op.mark, ...op.str('hiddenGar'), ...op.int(256), ...op.str('arMode'), ...op.str('LSTM'), ...op.setitems,
    ...op.str('epoch'), ...op.int(4),
    ...op.setitems, ...op.stop,
  ];
  return [zip, legacy, zipCheckpoint(nested, [['0', storages[0][1]]])];
}

const isFormatError = (e: unknown) => e instanceof FormatError;

function checkHeader(h: SafetensorsHeader, input: Uint8Array): string | undefined {
  if (h.dataStart + h.dataLength !== input.length) return `dataStart ${h.dataStart} + dataLength ${h.dataLength} != file size ${input.length}`;
  for (const t of h.tensors) {
    if (t.end > h.dataLength || t.begin > t.end) return `tensor ${t.name}: offsets [${t.begin}, ${t.end}] outside ${h.dataLength}`;
    if (t.end - t.begin !== numel(t.shape) * DTYPE_SIZE[t.dtype]) return `tensor ${t.name}: size mismatch`;
  }
  return undefined;
}

/** The fuzz targets: safetensors parseHeader and readSafetensors (+ F32 widening), WAV readWav. */
export function targets(fixturePath = FIXTURE): FuzzTarget<any>[] {
  const st = safetensorsSeeds(fixturePath);
  const wav = wavSeeds();
  const parseHeaderTarget: FuzzTarget<SafetensorsHeader> = {
    name: 'safetensors parseHeader',
    parse: (b) => parseHeader(memorySource(b)),
    isOwnError: isFormatError,
    checkResult: checkHeader,
    seeds: st,
    mutators: safetensorsMutators(),
  };
  const readTarget: FuzzTarget<{ tensors: Map<string, RawTensor>; widened: number }> = {
    name: 'safetensors readSafetensors',
    parse: (b) => {
      const { tensors } = readSafetensors(b);
      let widened = 0;
      for (const t of tensors.values()) widened += toFloat32(t).length; // F16/BF16/ints -> F32 widening
      return { tensors, widened };
    },
    isOwnError: isFormatError,
    checkResult: ({ tensors, widened }, input) => {
      let bytes = 0;
      let elems = 0;
      for (const [name, t] of tensors) {
        if (t.data.length !== numel(t.shape)) return `tensor ${name}: ${t.data.length} values for shape [${t.shape}]`;
        bytes += t.data.byteLength;
        elems += t.data.length;
      }
      if (bytes > input.length) return `decoded ${bytes} bytes from a ${input.length}-byte file`;
      if (widened !== elems) return `widened ${widened} values, expected ${elems}`;
      return undefined;
    },
    seeds: st,
    mutators: safetensorsMutators(),
  };
  const wavTarget: FuzzTarget<WavData> = {
    name: 'wav readWav',
    parse: readWav,
    isOwnError: isFormatError,
    checkResult: (w, input) => {
      if (w.channels.length === 0 || !(w.sampleRate > 0)) return `${w.channels.length} channels, rate ${w.sampleRate}`;
      const frames = w.channels[0].length;
      if (w.channels.some((c) => c.length !== frames)) return 'channels of different lengths';
      const bps = { pcm8: 1, pcm16: 2, pcm24: 3, pcm32: 4, float32: 4, float64: 8 }[w.format];
      if (frames * w.channels.length * bps > input.length) return `${frames} frames x ${w.channels.length} channels from ${input.length} bytes`;
      if (w.format.startsWith('pcm')) {
        for (const c of w.channels) for (const x of c) if (!(x >= -1 && x < 1)) return `PCM sample ${x} outside [-1, 1)`;
      }
      return undefined;
    },
    seeds: wav,
    mutators: wavMutators(),
  };
  const ptTarget: FuzzTarget<Map<string, RawTensor>> = {
    name: 'torch loadTorchStateDict',
    // The element limit tied to the input (one element per input byte) so the allocation guard (8 x the input)
    // checks that the limit holds on every path; the default (4 x stored + 2^20) is tested in hostileInputs.test.ts.
    parse: (b) => loadTorchStateDict(b, { maxElements: b.length }),
    isOwnError: isFormatError,
    checkResult: (sd, input) => {
      let elems = 0;
      const seen = new Set<unknown>();
      for (const [name, t] of sd) {
        if (t.data.length !== numel(t.shape)) return `tensor ${name}: ${t.data.length} values for shape [${t.shape}]`;
        if (!seen.has(t.data)) elems += t.data.length;
        seen.add(t.data);
      }
      if (elems > input.length) return `materialised ${elems} elements from a ${input.length}-byte file (limit ${input.length})`;
      return undefined;
    },
    seeds: torchSeeds(),
    mutators: torchMutators(),
  };
  return [parseHeaderTarget, readTarget, ptTarget, wavTarget];
}

function main(): void {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const runs = arg('n', 100_000);
  const seed = arg('seed', 20240601);
  let crashes = 0;
  for (const t of targets()) {
    if (only && !t.name.includes(only)) continue;
    const s = fuzzParser(t, { runs, seed });
    console.log(formatSummary(s));
    const strategies = Object.entries(s.byStrategy)
      .map(([k, c]) => `${k} ${c.tried}/${c.ok}/${c.ownError}/${c.crash}`)
      .join(', ');
    console.log(`  by strategy (tried/ok/own/crash): ${strategies}`);
    if (s.crash > 0) console.log(formatExamples(s));
    crashes += s.crash;
  }
  if (crashes > 0) {
    console.log(`FAIL: ${crashes} crash(es)`);
    process.exit(1);
  }
}

// Run only as a script (run-ts.mjs bundles this file to .cache/fuzz.mjs), not when a test imports `targets`.
if (/fuzz\.m?[jt]s$/.test(process.argv[1] ?? '')) main();
