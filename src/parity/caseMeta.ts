/**
 * Validation of a golden case's `meta` (the JSON that says how its output was produced). Every field a runner
 * reads is checked here, with its type and range, before anything runs: a case file is input like any other, and a
 * bad field is a FormatError naming it (exit 2), never a loop without end (`shift: 0`) or an unrelated TypeError
 * (`kind: "constructor"`). Fields no runner reads (reference, layout, ...) are left alone.
 */
import { FormatError } from '../weights/types';

/** The case kinds and the meta fields each requires (the optional ones are checked whenever present). */
const KIND_REQUIRES: Readonly<Record<string, readonly string[]>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, readonly string[]>, {
    cpc_offline: ['signal'],
    cpc_stream: ['signal'],
    mimi_core: [],
    mimi_core_onnx: [],
    mimi_offline: ['signal', 'frame_hz'],
    mimi_stream: ['signal', 'frame_hz'],
    vap_offline: ['signal', 'frame_hz', 'encoder', 'context_len_sec', 'context_limit'],
    vap_stream: ['signal', 'frame_hz', 'encoder', 'context_len_sec', 'context_limit'],
  }),
);

/** The case kinds a runner exists for. */
export const CASE_KINDS: readonly string[] = Object.keys(KIND_REQUIRES);

/** Longest window, shift, chunk or padding a case may ask for: one minute at 16 kHz. */
export const MAX_CASE_SAMPLES = 16000 * 60;

type Check = (v: unknown) => string | undefined;

const integer = (min: number, max: number): Check => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be an integer in ${min}..${max}`;

/** The checks of every field a runner reads. */
const FIELDS: Readonly<Record<string, Check>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, Check>, {
    // The signal is a file name inside the signals folder: no path, no "..".
    signal: (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/.test(v) && !v.includes('..') ? undefined : 'must be a signal name (letters, digits, "_", "-", "."; no path)'),
    ar_mode: (v: unknown) => (v === 'LSTM' || v === 'GRU' ? undefined : 'must be "LSTM" or "GRU"'),
    window: integer(1, MAX_CASE_SAMPLES),
    shift: integer(1, MAX_CASE_SAMPLES),
    leading_zeros: integer(0, MAX_CASE_SAMPLES),
    frame_hz: (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0.5 && v <= 1000 ? undefined : 'must be a number in 0.5..1000'),
    context_samples: integer(0, MAX_CASE_SAMPLES),
    chunk_samples: integer(1, MAX_CASE_SAMPLES),
    config: (v: unknown) => (v === 'kyutai/mimi' || v === 'tiny' ? undefined : 'must be "kyutai/mimi" or "tiny"'),
    // VAP cases: the encoder under the model, its context and the realtime loop's frames per call.
    encoder: (v: unknown) => (v === 'cpc' || v === 'mimi' || v === 'mimi_tiny' ? undefined : 'must be "cpc", "mimi" or "mimi_tiny"'),
    context_len_sec: (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 3600 ? undefined : 'must be a number of seconds in (0, 3600]'),
    context_limit: integer(1, 3600 * 1000),
    frames_per_call: integer(1, 64),
    state_snap_after_steps: (v: unknown) => (v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1e6) ? undefined : 'must be null or an integer in 0..1000000'),
    tiny_overrides: (v: unknown) => (v === null || (typeof v === 'object' && !Array.isArray(v)) ? undefined : 'must be an object of MimiConfig fields, or null'),
  }),
);

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Checks a case's meta and returns it as a null-prototype object (so no field name reaches Object.prototype).
 * `name` labels the errors.
 */
export function validateCaseMeta(name: string, meta: unknown): Record<string, unknown> & { kind: string } {
  const fail = (m: string): never => {
    throw new FormatError(`case ${name}: meta ${m}`);
  };
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return fail('must be a JSON object');
  const m = Object.assign(Object.create(null) as Record<string, unknown>, meta);
  const kind = m.kind;
  if (typeof kind !== 'string') return fail('has no "kind" (a string)');
  if (!Object.prototype.hasOwnProperty.call(KIND_REQUIRES, kind)) {
    return fail(`"kind" ${show(kind)} is not a known case kind (known: ${CASE_KINDS.join(', ')})`);
  }
  for (const f of KIND_REQUIRES[kind]) if (m[f] === undefined) fail(`"${f}" is missing (required for kind ${kind})`);
  for (const [f, check] of Object.entries(FIELDS)) {
    if (m[f] === undefined) continue;
    const problem = check(m[f]);
    if (problem) fail(`"${f}" ${problem}, got ${show(m[f])}`);
  }
  // The CPC loop keeps window - shift samples between calls (defaults 1920 and 1600).
  if (kind === 'cpc_stream' && ((m.shift as number | undefined) ?? 1600) > ((m.window as number | undefined) ?? 1920)) {
    fail(`"shift" ${show(m.shift ?? 1600)} must not exceed "window" ${show(m.window ?? 1920)}`);
  }
  return m as Record<string, unknown> & { kind: string };
}
