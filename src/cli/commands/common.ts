import * as fs from 'node:fs';
import { AudioInputError, readAudio16k } from '../../audio/readAudio';
import { MIMI_TINY_OVERRIDES, MimiConfig } from '../../models/mimi/mimiConfig';
import { CPC_CHECKPOINT_NAME_MAP, NameMap, VAP_ENCODER_NAME_MAP } from '../../weights/nameMap';
import { BACKENDS, BackendChoice, BackendName, defaultBackendChoice, isValidWasmThreads, setBackend } from '../../backend';
import { FlagSpec, Parsed, UsageError, num, str } from '../args';
import { EncoderCPC } from '../../models/cpc/encoderCpc';
import { EncoderMimi } from '../../models/mimi/encoderMimi';
import { openWeights } from '../../weights/store';
import type { AudioEncoder } from '../../pipeline/types';

/** --backend auto|wasm|cpu|tensorflow|cuda (default MAAI_BACKEND, else auto), --threads N, --verbose (TensorFlow's own logs). */
export const BACKEND_FLAG: Record<string, FlagSpec> = { backend: { type: 'string' }, threads: { type: 'string' }, verbose: { type: 'boolean' } };

/** For commands that read a weights file. */
export const NAME_MAP_FLAG: Record<string, FlagSpec> = { 'name-map': { type: 'string' } };

/** For commands that encode a WAV file with an encoder (encode, stream): loadEncoder and channelFlag read these. */
export const ENCODE_FLAGS: Record<string, FlagSpec> = {
  ...BACKEND_FLAG,
  ...NAME_MAP_FLAG,
  encoder: { type: 'string' },
  weights: { type: 'string' },
  'frame-hz': { type: 'string' },
  channel: { type: 'string' },
  'mimi-config': { type: 'string' },
  output: { type: 'string', short: 'o' },
  /** Clip input samples to [-1, 1] instead of refusing samples outside ±MAX_AUDIO_ABS (see readInputAudio). */
  clip: { type: 'boolean' },
};

/**
 * --name-map: how to rename the tensors of the weights file before use. A preset (cpc-checkpoint: MaAI's CPC
 * training checkpoint; vap: a MaAI VAP state dict's encoder) or a JSON NameMap such as
 * '{"select":"encoder.","strip":["encoder."]}'.
 */
export function nameMapFlag(p: Parsed): NameMap | undefined {
  const v = str(p, 'name-map');
  if (v === undefined) return undefined;
  if (v === 'cpc-checkpoint') return CPC_CHECKPOINT_NAME_MAP;
  if (v === 'vap') return VAP_ENCODER_NAME_MAP;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new UsageError(`--name-map must be cpc-checkpoint, vap or a JSON name map, got "${v}"`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('--name-map: expected a JSON object {select, strip, add, rename}');
  return parsed as NameMap;
}

export async function useBackend(p: Parsed): Promise<BackendName> {
  const b = str(p, 'backend');
  if (b !== undefined && b !== 'auto' && !BACKENDS.includes(b as BackendName)) throw new UsageError(`--backend must be auto or one of ${BACKENDS.join(', ')}, got "${b}"`);
  const choice = (b as BackendChoice | undefined) ?? defaultBackendChoice();
  const t = str(p, 'threads');
  let threads: number | undefined;
  if (t !== undefined) {
    threads = Number(t);
    const native = choice === 'tensorflow' || choice === 'cuda' || choice === 'auto';
    if (!(native ? Number.isInteger(threads) && threads >= 1 : isValidWasmThreads(threads))) {
      throw new UsageError(`--threads must be an integer in 1..8${native ? ' (wasm) or >= 1 (tensorflow)' : ''}, got "${t}"`);
    }
  }
  return setBackend(choice, { threads, verbose: p.flags.verbose === true });
}

export function required(p: Parsed, name: string): string {
  const v = str(p, name);
  if (v === undefined) throw new UsageError(`missing required option --${name}`);
  return v;
}

export function onePositional(p: Parsed, what: string): string {
  if (p.positionals.length !== 1) throw new UsageError(`expected exactly one ${what}, got ${p.positionals.length}`);
  return p.positionals[0];
}

/** A progress bar on stderr when it is a terminal; silent otherwise. */
export function progress(label: string): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => {};
  let last = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    if (pct === last && done !== total) return;
    last = pct;
    const width = 30;
    const fill = Math.round((width * pct) / 100);
    process.stderr.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${pct}% (${done}/${total})`);
    if (done >= total) process.stderr.write('\n');
  };
}

/** The file --mimi-config names, if it names one (not a preset). */
export function mimiConfigFile(p: Parsed): string | undefined {
  const v = str(p, 'mimi-config');
  return v === undefined || v === 'kyutai/mimi' || v === 'tiny' ? undefined : v;
}

/** --mimi-config: "kyutai/mimi" (default), "tiny" (the golden tiny config) or a JSON file of MimiConfig fields. */
export function mimiConfigFlag(p: Parsed): Partial<MimiConfig> {
  const v = str(p, 'mimi-config') ?? 'kyutai/mimi';
  if (v === 'kyutai/mimi') return {};
  if (v === 'tiny') return { ...MIMI_TINY_OVERRIDES };
  if (!fs.existsSync(v)) throw new UsageError(`--mimi-config must be kyutai/mimi, tiny or a JSON file; file not found: ${v}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(v, 'utf8'));
  } catch (e) {
    throw new UsageError(`--mimi-config ${v}: not valid JSON (${(e as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--mimi-config ${v}: expected a JSON object of MimiConfig fields`);
  return parsed as Partial<MimiConfig>;
}

/** --encoder cpc|mimi (required). */
export function encoderFlag(p: Parsed): 'cpc' | 'mimi' {
  const e = required(p, 'encoder');
  if (e !== 'cpc' && e !== 'mimi') throw new UsageError(`--encoder must be cpc or mimi, got "${e}"`);
  return e;
}

/** --frame-hz: default 10 for CPC (must divide 16000), 12.5 for Mimi (positive). */
export function frameHzFlag(p: Parsed, encoder: 'cpc' | 'mimi'): number {
  const hz = num(p, 'frame-hz', encoder === 'cpc' ? 10 : 12.5)!;
  if (!(hz > 0)) throw new UsageError(`--frame-hz must be positive, got ${hz}`);
  if (encoder === 'cpc' && 16000 % hz !== 0) throw new UsageError(`--frame-hz must divide 16000 for cpc, got ${hz}`);
  return hz;
}

/** --channel N|mix: which channel of a multi-channel WAV to encode (default: mix down). */
export function channelFlag(p: Parsed): number | 'mix' {
  const c = str(p, 'channel') ?? 'mix';
  if (c === 'mix') return 'mix';
  const n = Number(c);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--channel must be a channel index or "mix", got "${c}"`);
  return n;
}

/** Loads the encoder `kind` from a weights file, with --name-map and (Mimi) --mimi-config; Mimi at `frameHz`. */
export async function loadEncoder(p: Parsed, kind: 'cpc' | 'mimi', weightsFile: string, frameHz: number): Promise<AudioEncoder> {
  const store = await openWeights(weightsFile, { nameMap: nameMapFlag(p) });
  return kind === 'cpc' ? EncoderCPC.load(store) : EncoderMimi.load(store, { frameHz, config: mimiConfigFlag(p) });
}

/**
 * The input WAV of encode / stream as 16 kHz mono: --clip (with a note on stderr of how many samples were
 * clipped), and a usage error with the hints for a sample out of range or (resampling off) another rate.
 */
export function readInputAudio(p: Parsed, file: string, channel: number | 'mix', allowResample: boolean): Float32Array {
  try {
    return readAudio16k(file, channel, allowResample, { clip: !!p.flags.clip, onClip: (n) => process.stderr.write(`${file}: ${n} samples clipped to [-1, 1]\n`) });
  } catch (e) {
    if (e instanceof AudioInputError && e.reason === 'range') throw new UsageError(`${e.message}; --clip clips the input to [-1, 1]`);
    if (e instanceof AudioInputError && e.reason === 'sample-rate') throw new UsageError(`${e.message} (drop --no-resample to resample)`);
    throw e;
  }
}
