/**
 * MaAI's realtime driver (Maai.process), the one place that turns arriving 16 kHz audio into encoder calls.
 * A buffer starts as `leadingZeros` zeros (320); audio arrives in pieces of any size (MaAI: 160 = 10 ms); whenever
 * the buffer holds `window` samples they go to `stream.step` and the buffer keeps their last `context` samples
 * (window - shift). `flush()` ends the stream with `stream.finalize()`. Samples short of a full window are never
 * encoded (MaAI's loop never calls with a partial window).
 *
 * EncoderSession, encodeStream, the CLI's `encode --stream` and `stream`, the parity runners and the long-stream
 * check all run through RealtimeLoop / runRealtime; `callWindowFor` is the geometry every encoder's
 * `callWindow()` is built from.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { pyRound } from '../util/pyRound';
import { assertFinite } from '../util/finite';
import { concatRows } from '../util/concat';
import type { AudioEncoder, CallWindow, CallWindowOptions, EncoderStream, EncoderStreamState } from './types';

/** Frames [frames, dim], row-major. */
export interface FeatureChunk {
  data: Float32Array;
  frames: number;
  dim: number;
}

/**
 * MaAI's call geometry for `callHz` calls per second: shift = round(16000 / callHz) with Python's rounding
 * (half to even), window = context + shift, `context` leading zeros. `frameHz` is left to the encoder.
 */
export function callWindowFor(callHz: number, context = 320): Omit<CallWindow, 'frameHz'> {
  if (!(callHz > 0) || !Number.isFinite(callHz)) throw new RangeError(`realtime loop: call rate must be a positive number of Hz, got ${callHz}`);
  if (!Number.isInteger(context) || context < 0) throw new RangeError(`realtime loop: context ${context} must be a non-negative integer`);
  const shift = pyRound(16000 / callHz);
  if (shift < 1) throw new RangeError(`realtime loop: ${callHz} calls per second leave no new samples per call`);
  return { window: context + shift, shift, context, leadingZeros: context };
}

/** Checks a geometry given by hand (e.g. a golden case's window / shift / leading_zeros). */
export function checkCallWindow(cw: Omit<CallWindow, 'frameHz'>): void {
  for (const k of ['window', 'shift', 'context', 'leadingZeros'] as const) {
    if (!Number.isInteger(cw[k]) || cw[k] < 0) throw new RangeError(`realtime loop: ${k} ${cw[k]} must be a non-negative integer`);
  }
  if (cw.shift < 1 || cw.context !== cw.window - cw.shift) {
    throw new RangeError(`realtime loop: window ${cw.window}, shift ${cw.shift} and context ${cw.context}: need shift >= 1 and context = window - shift`);
  }
}

/** Number of calls the loop makes over `samples` samples, whatever the arrival chunking. */
export function realtimeCallCount(samples: number, cw: Omit<CallWindow, 'frameHz'>): number {
  const n = cw.leadingZeros + samples;
  return n >= cw.window ? Math.floor((n - cw.window) / cw.shift) + 1 : 0;
}

/**
 * The loop's buffer. Samples buf[start ..] are buffered; advancing moves `start` (no copy), appending compacts.
 * Every window it hands out has exactly `window` samples.
 */
export class RealtimeBuffer {
  private buf: Float32Array;
  private start = 0;

  constructor(readonly window: number, readonly context: number, leadingZeros = context) {
    checkCallWindow({ window, shift: window - context, context, leadingZeros });
    this.buf = new Float32Array(leadingZeros);
  }

  get length(): number {
    return this.buf.length - this.start;
  }

  append(samples: Float32Array): void {
    const next = new Float32Array(this.length + samples.length);
    next.set(this.buf.subarray(this.start));
    next.set(samples, this.length);
    this.buf = next;
    this.start = 0;
  }

  /** The next call window if the buffer holds one (a view: use it before `advance`), else null. */
  peek(): Float32Array | null {
    return this.length >= this.window ? this.buf.subarray(this.start, this.start + this.window) : null;
  }

  /** Drops the window just encoded, keeping its last `context` samples. */
  advance(): void {
    if (this.length < this.window) throw new Error('RealtimeBuffer.advance: no complete window');
    this.start += this.window - this.context;
  }

  /** A copy of the buffered samples. */
  contents(): Float32Array {
    return this.buf.slice(this.start);
  }

  /** Replaces the buffered samples (at most window - 1 of them: a full window would have been encoded). */
  restore(samples: ArrayLike<number>): void {
    if (!samples || typeof samples.length !== 'number' || samples.length >= this.window) {
      throw new RangeError(`RealtimeBuffer: a buffer state holds fewer than ${this.window} samples`);
    }
    assertFinite(samples, 'RealtimeBuffer');
    this.buf = Float32Array.from(samples);
    this.start = 0;
  }
}

/** A RealtimeLoop's state as plain data: the stream's state and the samples waiting in the buffer. */
export interface RealtimeLoopState {
  stream: EncoderStreamState;
  buffered: Float32Array;
  calls: number;
}

/** Frames of one push or flush, and the frames each call emitted. */
export interface RealtimeOutput extends FeatureChunk {
  emitted: number[];
}

/** MaAI's realtime loop over one stream (batch 1): push audio in any pieces, get the frames that are ready. */
export class RealtimeLoop {
  private readonly buffer: RealtimeBuffer;
  private nCalls = 0;

  /** `name` labels the errors (EncoderSession passes its own). */
  constructor(readonly stream: EncoderStream, readonly geometry: CallWindow, readonly dim: number, private readonly name = 'RealtimeLoop') {
    this.buffer = new RealtimeBuffer(geometry.window, geometry.context, geometry.leadingZeros);
  }

  /** Encoder calls made. */
  get calls(): number {
    return this.nCalls;
  }

  /** New samples waiting for the next call (beyond the context). */
  get pending(): number {
    return Math.max(0, this.buffer.length - this.geometry.context);
  }

  /**
   * Appends 16 kHz samples and makes every call they complete. A call that throws leaves its window in the
   * buffer and the stream unchanged (the samples appended stay buffered), so the error can be handled and the
   * loop continued.
   */
  push(samples: Float32Array): RealtimeOutput {
    if (!(samples instanceof Float32Array)) throw new TypeError(`${this.name}.push: expected a Float32Array of 16 kHz samples`);
    assertFinite(samples, `${this.name}.push`);
    this.buffer.append(samples);
    const parts: Float32Array[] = [];
    const emitted: number[] = [];
    for (let w = this.buffer.peek(); w; w = this.buffer.peek()) {
      parts.push(this.take(this.stream.step(w), emitted));
      this.nCalls++;
      this.buffer.advance();
    }
    return this.output(parts, emitted);
  }

  /** End of stream: the encoder's finalize (the buffered partial window is not encoded). */
  flush(): RealtimeOutput {
    const emitted: number[] = [];
    const data = this.take(this.stream.finalize(), emitted);
    return this.output([data], emitted);
  }

  exportState(): RealtimeLoopState {
    return { stream: this.stream.exportState(), buffered: this.buffer.contents(), calls: this.nCalls };
  }

  /** Continues from an exported state (the stream's state and the buffered samples); nothing changes on error. */
  importState(s: RealtimeLoopState): void {
    if (!s || typeof s !== 'object' || !Number.isInteger(s.calls) || s.calls < 0) throw new TypeError(`${this.name}.importState: not a realtime loop state`);
    const keep = this.buffer.contents();
    this.buffer.restore(s.buffered);
    try {
      this.stream.importState(s.stream);
    } catch (e) {
      this.buffer.restore(keep);
      throw e;
    }
    this.nCalls = s.calls;
  }

  /** Reads a step's frames (batch 1) to the host, records the count, disposes the tensor. */
  private take(y: tf.Tensor3D, emitted: number[]): Float32Array {
    try {
      emitted.push(y.shape[1]);
      return y.dataSync() as Float32Array;
    } finally {
      y.dispose();
    }
  }

  private output(parts: Float32Array[], emitted: number[]): RealtimeOutput {
    const frames = emitted.reduce((a, b) => a + b, 0);
    return { data: parts.length === 1 ? parts[0] : concatRows(parts), frames, dim: this.dim, emitted };
  }
}

export interface RunRealtimeOptions {
  /** The encoder's geometry from these options (default: its own call rate). */
  callWindow?: CallWindowOptions;
  /** Or an explicit geometry (a golden case's window / shift / leading zeros). */
  geometry?: Omit<CallWindow, 'frameHz'> & { frameHz?: number };
  /** Arrival chunk in samples (MaAI: 160 = 10 ms). */
  chunk?: number;
  /** Call the stream's finalize after the last sample (EncoderSession.flush does). Default true. */
  finalize?: boolean;
  /** Progress: calls done and the total. */
  onCall?: (done: number, total: number) => void;
}

export interface RealtimeRun extends FeatureChunk {
  /** Frames per call (a finalize that emitted frames counts as one more entry). */
  emitted: number[];
  /** Input position (samples of the signal consumed) at each call. */
  callEnd: number[];
  geometry: CallWindow;
}

/** Runs a whole signal through a fresh stream of `encoder` as MaAI's realtime loop does. */
export function runRealtime(encoder: AudioEncoder, signal: Float32Array, opts: RunRealtimeOptions = {}): RealtimeRun {
  const chunk = opts.chunk ?? 160;
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`realtime loop: chunk ${chunk} must be a positive integer`);
  let geometry: CallWindow;
  if (opts.geometry) {
    checkCallWindow(opts.geometry);
    geometry = { ...opts.geometry, frameHz: opts.geometry.frameHz ?? 16000 / opts.geometry.shift };
  } else geometry = encoder.callWindow(opts.callWindow);
  const total = realtimeCallCount(signal.length, geometry);
  const loop = new RealtimeLoop(encoder.stream(), geometry, encoder.dim);
  const parts: Float32Array[] = [];
  const emitted: number[] = [];
  const callEnd: number[] = [];
  try {
    for (let pos = 0; pos < signal.length; pos += chunk) {
      const end = Math.min(pos + chunk, signal.length);
      const r = loop.push(signal.subarray(pos, end));
      if (r.emitted.length === 0) continue;
      parts.push(r.data);
      emitted.push(...r.emitted);
      for (const _ of r.emitted) callEnd.push(end);
      opts.onCall?.(loop.calls, total);
    }
    if (opts.finalize !== false) {
      const r = loop.flush();
      if (r.frames > 0) {
        parts.push(r.data);
        emitted.push(r.frames);
        callEnd.push(signal.length);
      }
    }
  } finally {
    loop.stream.dispose();
  }
  const frames = emitted.reduce((a, b) => a + b, 0);
  return { data: concatRows(parts), frames, dim: encoder.dim, emitted, callEnd, geometry };
}
