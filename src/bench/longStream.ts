/**
 * Long-stream reliability run (shared by scripts/longStream.ts and test/longStream.test.ts): drives MaAI's
 * realtime loop (RealtimeLoop over `encoder.stream()`, fed `shift` new samples at a time, so one call per push)
 * over a deterministic speech-like 16 kHz signal generated on the fly, for a number of simulated minutes, and
 * checks that
 * - every output is finite;
 * - tf.memory() numTensors / numBytes are identical at every minute boundary from minute 1 on;
 * - RSS grows by at most `rssTolerance` over the second half of the run (see LongStreamResult.rssGrowthPct);
 * - Mimi: the core position advances by 2 (25 Hz frames) per call and ends far past the KV window;
 * - the last minute rerun from the loop state exported at minute M-1 (stream state and buffered samples), in a
 *   fresh loop over a freshly loaded encoder, gives bit-identical outputs (max abs diff 0) and the same emitted
 *   frame counts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderMimi } from '../models/mimi/encoderMimi';
import type { MimiStream } from '../models/mimi/mimiStream';
import { RealtimeLoop, RealtimeLoopState } from '../pipeline/realtimeLoop';
import type { AudioEncoder, CallWindow } from '../pipeline/types';
import { firstNonFinite } from '../util/finite';
import { pyRound } from '../util/pyRound';

export type LongStreamEncoderKind = 'cpc' | 'mimi';

export interface LongStreamOptions {
  /** Loads the encoder; called twice (the run, then the fresh encoder that resumes from the exported state). */
  load: () => Promise<AudioEncoder> | AudioEncoder;
  /** Simulated minutes (integer >= 1). */
  minutes: number;
  /** Calls per simulated minute; default one real minute of calls (750 for Mimi at 12.5 Hz, 600 for CPC at 10 Hz). */
  callsPerMinute?: number;
  /** CPC only: call rate (10 Hz: window 1920, shift 1600). */
  cpcFrameHz?: number;
  /** Allowed RSS growth over the second half of the run (see rssGrowthPct), as a fraction (0.05). */
  rssTolerance?: number;
  /** Receives one line per simulated minute and the resume line. */
  log?: (line: string) => void;
  /** Signal seed. */
  seed?: number;
}

export interface MinuteStats {
  minute: number;
  /** Calls so far. */
  calls: number;
  /** Frames emitted so far. */
  frames: number;
  /** Mean ms per call (step + reading the output) during this minute. */
  msPerCall: number;
  numTensors: number;
  numBytes: number;
  rssMB: number;
  /** Every output so far was finite. */
  finite: boolean;
  /** Mimi core position (null for CPC). */
  position: number | null;
}

export interface LongStreamResult {
  encoder: LongStreamEncoderKind;
  minutes: number;
  callsPerMinute: number;
  window: number;
  shift: number;
  calls: number;
  frames: number;
  lines: MinuteStats[];
  /** Mimi only: the KV cache window (sliding_window) and the final position. */
  kvWindow: number | null;
  finalPosition: number | null;
  /** Calls after which position != 2 * calls (Mimi). */
  positionMismatches: number;
  /**
   * RSS growth over the second half of the run, from minute max(2, ceil(N/2)) (minute 1 when the run is shorter)
   * to the end, in percent: the checked figure. A leak grows RSS for as long as the stream runs; the JS heap is
   * resized by V8 a few times early on (one step of ~16 MB seen anywhere from minute 1 to 10 of a CPC run), which
   * is not growth of the stream and must not fail the check.
   */
  rssGrowthPct: number;
  /** RSS growth from minute 2 to the end, in percent (informative: includes any late V8 heap resize). */
  rssGrowthFromMinute2Pct: number;
  /** RSS growth from minute 1 to the end, in percent (includes warm-up; informative). */
  rssGrowthFromMinute1Pct: number;
  resume: { fromMinute: number; calls: number; maxAbsDiff: number; emittedEqual: boolean; finite: boolean; positionEqual: boolean };
  checks: {
    finite: boolean;
    tensorsFlat: boolean;
    bytesFlat: boolean;
    rssFlat: boolean;
    /** Mimi: position == 2 * calls after every call and ends at >= 2 x the KV window (null for CPC). */
    positionAdvances: boolean | null;
    resumeIdentical: boolean;
  };
  pass: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Signal

/** 32-bit integer hash (lowbias32), deterministic and random-access. */
function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

const unit = (x: number) => hash32(x) / 2 ** 32; // [0, 1)

/** Samples per "syllable" segment (250 ms at 16 kHz). */
const SEGMENT = 4000;

/**
 * Sample `i` (>= 0) of a deterministic speech-like 16 kHz signal: 250 ms segments, each voiced (a harmonic tone
 * with a 100-250 Hz pitch and a smooth envelope, 60 %), unvoiced (shaped noise, 15 %) or silence (25 %), over a
 * faint noise floor. Computed on the fly from the index, so any stretch of an hour can be made without the rest.
 */
export function speechLikeSample(i: number, seed = 1): number {
  const seg = Math.floor(i / SEGMENT);
  const pos = i - seg * SEGMENT;
  const h = hash32(seg * 2654435761 + seed * 97);
  const kind = (h % 100) / 100;
  const env = Math.sin((Math.PI * pos) / SEGMENT);
  const floor = 0.004 * (unit(i * 3 + seed * 7919) - 0.5);
  if (kind < 0.25) return floor;
  if (kind < 0.4) return floor + 0.08 * env * (unit(i * 5 + 1 + seed) - 0.5);
  const f0 = 100 + ((h >>> 8) % 150);
  const amp = 0.15 + 0.2 * (((h >>> 16) % 100) / 100);
  const t = (2 * Math.PI * f0 * i) / 16000;
  const tone = Math.sin(t) + 0.5 * Math.sin(2 * t + 0.3) + 0.25 * Math.sin(3 * t + 1.1) + 0.12 * Math.sin(4 * t + 2.0);
  return floor + amp * env * tone * 0.5 + 0.01 * env * (unit(i * 11 + seed) - 0.5);
}

/** Samples [start, start + length) of the signal; negative indices are the realtime loop's leading zeros. */
export function speechLikeWindow(start: number, length: number, seed = 1): Float32Array {
  const out = new Float32Array(length);
  for (let k = 0; k < length; k++) {
    const i = start + k;
    if (i >= 0) out[k] = speechLikeSample(i, seed);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Run

interface Geometry {
  kind: LongStreamEncoderKind;
  calls: CallWindow;
  callsPerMinute: number;
}

function geometry(enc: AudioEncoder, opts: LongStreamOptions): Geometry {
  if (enc.kind !== 'cpc' && enc.kind !== 'mimi') throw new RangeError(`longStream: unknown encoder kind ${enc.kind}`);
  const kind: LongStreamEncoderKind = enc.kind;
  if (kind === 'mimi' && !(enc as EncoderMimi).skipsAlignment) {
    throw new RangeError(`longStream: Mimi runs at frame_hz ${(enc as EncoderMimi).frameHzMimi} (got ${enc.frameHz}): 2 core frames per call`);
  }
  const calls = enc.callWindow(kind === 'cpc' ? { callHz: opts.cpcFrameHz ?? 10 } : {});
  const callsPerMinute = opts.callsPerMinute ?? pyRound((60 * 16000) / calls.shift);
  if (!Number.isInteger(callsPerMinute) || callsPerMinute < 1) throw new RangeError(`longStream: callsPerMinute must be a positive integer, got ${callsPerMinute}`);
  return { kind, calls, callsPerMinute };
}

/** The new samples of call k (the loop's buffer adds the leading zeros and the context). */
function callSamples(g: Geometry, k: number, seed: number): Float32Array {
  return speechLikeWindow(k * g.calls.shift, g.calls.shift, seed);
}

/** One push of call k's samples through `loop`: exactly one call. */
function oneCall(loop: RealtimeLoop, g: Geometry, k: number, seed: number): { data: Float32Array; frames: number; ms: number } {
  const x = callSamples(g, k, seed);
  const t0 = performance.now();
  const r = loop.push(x);
  const ms = performance.now() - t0;
  if (r.emitted.length !== 1) throw new Error(`longStream: push ${k} made ${r.emitted.length} calls, expected 1`);
  return { data: r.data, frames: r.frames, ms };
}

const allFinite = (a: Float32Array) => firstNonFinite(a) < 0;

const rssMB = () => process.memoryUsage().rss / 2 ** 20;

/** Runs the long stream and its resume check; never throws for a failed check (see `pass` and `checks`). */
export async function runLongStream(opts: LongStreamOptions): Promise<LongStreamResult> {
  const minutes = opts.minutes;
  if (!Number.isInteger(minutes) || minutes < 1) throw new RangeError(`longStream: minutes must be a positive integer, got ${minutes}`);
  const seed = opts.seed ?? 1;
  const log = opts.log ?? (() => undefined);
  const tol = opts.rssTolerance ?? 0.05;

  const enc = await opts.load();
  let g: Geometry;
  try {
    g = geometry(enc, opts);
  } catch (e) {
    enc.dispose();
    throw e;
  }
  const isMimi = g.kind === 'mimi';
  const kvWindow = isMimi ? (enc as EncoderMimi).model.kvCache.capacity : null;
  const loop = new RealtimeLoop(enc.stream(), g.calls, enc.dim);
  const positionOf = (l: RealtimeLoop) => (isMimi ? (l.stream as MimiStream).position : null);
  const position = () => positionOf(loop);

  const lines: MinuteStats[] = [];
  let calls = 0;
  let frames = 0;
  let finite = true;
  let positionMismatches = 0;
  let exported: RealtimeLoopState | null = null;
  const lastOut: Float32Array[] = [];
  const lastEmitted: number[] = [];

  for (let m = 1; m <= minutes; m++) {
    if (m === minutes) exported = loop.exportState(); // the state at minute M-1 (minute 0 = fresh)
    let ms = 0;
    for (let c = 0; c < g.callsPerMinute; c++) {
      const { data, frames: n, ms: t } = oneCall(loop, g, calls, seed);
      ms += t;
      calls++;
      frames += n;
      if (!allFinite(data)) finite = false;
      if (isMimi && position() !== 2 * calls) positionMismatches++;
      if (m === minutes) {
        lastOut.push(data);
        lastEmitted.push(n);
      }
    }
    const mem = tf.memory();
    const line: MinuteStats = {
      minute: m,
      calls,
      frames,
      msPerCall: ms / g.callsPerMinute,
      numTensors: mem.numTensors,
      numBytes: mem.numBytes,
      rssMB: rssMB(),
      finite,
      position: position(),
    };
    lines.push(line);
    log(formatMinute(line));
  }
  const finalPosition = position();
  loop.stream.dispose();

  // Resume: a freshly loaded encoder, a fresh loop, the state of minute M-1 (copied as a worker would get it).
  const enc2 = await opts.load();
  const loop2 = new RealtimeLoop(enc2.stream(), g.calls, enc2.dim);
  loop2.importState(structuredClone(exported!));
  let maxAbsDiff = 0;
  let emittedEqual = true;
  let resumeFinite = true;
  const from = (minutes - 1) * g.callsPerMinute;
  for (let c = 0; c < g.callsPerMinute; c++) {
    const { data, frames: n } = oneCall(loop2, g, from + c, seed);
    if (!allFinite(data)) resumeFinite = false;
    const ref = lastOut[c];
    if (n !== lastEmitted[c] || data.length !== ref.length) {
      emittedEqual = false;
      continue;
    }
    for (let i = 0; i < data.length; i++) {
      const d = Math.abs(data[i] - ref[i]);
      if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
    }
  }
  const positionEqual = positionOf(loop2) === finalPosition;
  loop2.stream.dispose();
  enc2.dispose();
  enc.dispose();
  const resume = { fromMinute: minutes - 1, calls: g.callsPerMinute, maxAbsDiff, emittedEqual, finite: resumeFinite, positionEqual };
  log(
    `resume: minute ${minutes} rerun from the state exported at minute ${minutes - 1} in a fresh encoder: ` +
      `max abs diff ${maxAbsDiff}, emitted ${emittedEqual ? 'equal' : 'DIFFERENT'}, position ${positionEqual ? 'equal' : 'DIFFERENT'}`,
  );

  const first = lines[0];
  const rssTo = lines[lines.length - 1];
  const growthFrom = (minute: number) => {
    const from = lines[Math.min(minute, lines.length) - 1];
    return ((rssTo.rssMB - from.rssMB) / from.rssMB) * 100;
  };
  const rssGrowthPct = growthFrom(Math.max(2, Math.ceil(minutes / 2)));
  const rssGrowthFromMinute2Pct = growthFrom(2);
  const rssGrowthFromMinute1Pct = ((rssTo.rssMB - first.rssMB) / first.rssMB) * 100;
  const checks: LongStreamResult['checks'] = {
    finite: finite && resumeFinite,
    tensorsFlat: lines.every((l) => l.numTensors === first.numTensors),
    bytesFlat: lines.every((l) => l.numBytes === first.numBytes),
    rssFlat: rssGrowthPct <= tol * 100,
    positionAdvances: isMimi ? positionMismatches === 0 && finalPosition === 2 * calls && finalPosition >= 2 * kvWindow! : null,
    resumeIdentical: maxAbsDiff === 0 && emittedEqual && positionEqual,
  };
  const pass = Object.values(checks).every((v) => v !== false);
  return {
    encoder: g.kind,
    minutes,
    callsPerMinute: g.callsPerMinute,
    window: g.calls.window,
    shift: g.calls.shift,
    calls,
    frames,
    lines,
    kvWindow,
    finalPosition,
    positionMismatches,
    rssGrowthPct,
    rssGrowthFromMinute2Pct,
    rssGrowthFromMinute1Pct,
    resume,
    checks,
    pass,
  };
}

export function formatMinute(l: MinuteStats): string {
  return (
    `minute ${String(l.minute).padStart(3)}  calls ${l.calls}  frames ${l.frames}  ms/call ${l.msPerCall.toFixed(2)}  ` +
    `tensors ${l.numTensors}  bytes ${l.numBytes}  rss ${l.rssMB.toFixed(1)} MB  finite ${l.finite}` +
    (l.position === null ? '' : `  position ${l.position}`)
  );
}

/** The one-line JSON summary (no per-minute lines). */
export function summarize(r: LongStreamResult, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const last = r.lines[r.lines.length - 1];
  return {
    ...extra,
    encoder: r.encoder,
    minutes: r.minutes,
    calls: r.calls,
    frames: r.frames,
    window: r.window,
    shift: r.shift,
    ms_per_call_last_minute: Number(last.msPerCall.toFixed(3)),
    num_tensors: last.numTensors,
    num_bytes: last.numBytes,
    rss_mb_last: Number(last.rssMB.toFixed(1)),
    rss_growth_pct: Number(r.rssGrowthPct.toFixed(3)),
    rss_growth_pct_from_minute_2: Number(r.rssGrowthFromMinute2Pct.toFixed(3)),
    rss_growth_pct_from_minute_1: Number(r.rssGrowthFromMinute1Pct.toFixed(3)),
    position: r.finalPosition,
    kv_window: r.kvWindow,
    position_mismatches: r.encoder === 'mimi' ? r.positionMismatches : null,
    resume_from_minute: r.resume.fromMinute,
    resume_max_abs_diff: r.resume.maxAbsDiff,
    checks: r.checks,
    pass: r.pass,
  };
}
