// Long-stream reliability run: an hour (simulated, as fast as possible) of MaAI's realtime loop through each encoder.
// Usage: node scripts/run-ts.mjs scripts/longStream.ts [--encoder cpc|mimi|all] [--minutes 60] [--size full|tiny]
//          [--backend wasm] [--calls-per-minute N]
// Prints one line per simulated minute (minute, calls, frames, ms/call, tf.memory() tensors and bytes, RSS,
// all-finite flag, Mimi position), the resume-from-minute-(M-1) comparison, and one final JSON line per encoder
// with pass/fail per check (see src/bench/longStream.ts). Exit code 1 if any check fails, 2 on bad usage.
// Weights: full-size deterministic ones by default (CPC: cpc_lstm_manifest.json; Mimi: mimi_full_manifest.json
// at frame_hz 12.5); --size tiny uses mimi_tiny_weights.safetensors with the tiny config (CPC has one size).
import * as path from 'node:path';
import { BACKENDS, BackendName, setBackend } from '../src/backend';
import { runLongStream, summarize } from '../src/bench/longStream';
import { EncoderCPC } from '../src/models/cpc/encoderCpc';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { MIMI_CONFIG, MIMI_TINY_OVERRIDES } from '../src/models/mimi/mimiConfig';
import { openWeights } from '../src/weights/store';

const WEIGHTS = path.join('test', 'fixtures', 'golden', 'weights');

function usage(msg: string): never {
  console.error(`longStream: ${msg}`);
  process.exit(2);
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) usage(`--${name} needs a value`);
  return v;
}

function positiveInt(name: string, fallback: number | undefined): number | undefined {
  const v = flag(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) usage(`--${name} needs a positive integer, got "${v}"`);
  return n;
}

async function main(): Promise<number> {
  const which = flag('encoder') ?? 'all';
  if (!['cpc', 'mimi', 'all'].includes(which)) usage(`--encoder must be cpc, mimi or all, got "${which}"`);
  const size = flag('size') ?? 'full';
  if (size !== 'full' && size !== 'tiny') usage(`--size must be full or tiny, got "${size}"`);
  const backend = (flag('backend') ?? 'wasm') as BackendName;
  if (!BACKENDS.includes(backend)) usage(`--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`);
  const minutes = positiveInt('minutes', 60)!;
  const callsPerMinute = positiveInt('calls-per-minute', undefined);
  await setBackend(backend);

  const encoders = which === 'all' ? (['cpc', 'mimi'] as const) : ([which] as Array<'cpc' | 'mimi'>);
  let failed = false;
  for (const kind of encoders) {
    const weights =
      kind === 'cpc'
        ? path.join(WEIGHTS, 'cpc_lstm_manifest.json')
        : path.join(WEIGHTS, size === 'full' ? 'mimi_full_manifest.json' : 'mimi_tiny_weights.safetensors');
    const load = async () =>
      kind === 'cpc'
        ? EncoderCPC.load(await openWeights(weights))
        : EncoderMimi.load(await openWeights(weights), { frameHz: 12.5, config: size === 'full' ? { ...MIMI_CONFIG } : MIMI_TINY_OVERRIDES });
    console.log(`# ${kind} (${kind === 'cpc' ? 'full' : size}, ${weights}), ${minutes} simulated minute(s), backend ${backend}`);
    const r = await runLongStream({ load, minutes, callsPerMinute, log: (l) => console.log(l) });
    console.log(JSON.stringify(summarize(r, { size: kind === 'cpc' ? 'full' : size, backend, weights })));
    if (!r.pass) failed = true;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`longStream: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    process.exit(1);
  },
);
