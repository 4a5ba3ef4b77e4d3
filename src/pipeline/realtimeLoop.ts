/**
 * MaAI's realtime driver (Maai.process): per channel a buffer starts as `context` zeros, audio arrives in
 * `chunk`-sample pieces, and whenever the buffer holds at least `window` samples the whole buffer goes to the
 * encoder and the buffer keeps its last `context` samples.
 */
export interface RealtimeLoopOptions {
  /** Call window (context + new samples), e.g. 1600 at 12.5 Hz or 1920 at 10 Hz. */
  window: number;
  /** Overlap kept between calls (320). */
  context?: number;
  /** Arrival chunk size (160 = 10 ms). */
  chunk?: number;
}

export interface RealtimeCall {
  /** The buffer handed to the encoder. */
  window: Float32Array;
  /** Input position (samples of the signal consumed) at the call. */
  endSample: number;
  index: number;
}

/**
 * The loop's buffer: starts as `context` zeros; whenever it holds `window` samples, those go to the encoder and
 * the last `context` of them stay. Every call window has exactly `window` samples (MaAI requires arrival chunks
 * that tile the window; this also holds for any chunking).
 */
export class RealtimeBuffer {
  /** Samples buf[start ..] are the buffer; advancing moves `start` (no copy), appending compacts. */
  private buf: Float32Array;
  private start = 0;

  constructor(readonly window: number, readonly context = 320) {
    if (!Number.isInteger(context) || context < 0) throw new RangeError(`realtime loop: context ${context} must be a non-negative integer`);
    if (!Number.isInteger(window) || window <= context) throw new RangeError(`realtime loop: window ${window} must be an integer > context ${context}`);
    this.buf = new Float32Array(context);
  }

  private get length(): number {
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

  /** A copy of the buffered samples (context included), for exporting a stream's state. */
  contents(): Float32Array {
    return this.buf.slice(this.start);
  }

  /** Replaces the buffered samples (as returned by `contents`; at least `context` of them). */
  restore(samples: Float32Array): void {
    if (!(samples instanceof Float32Array) || samples.length < this.context) {
      throw new RangeError(`RealtimeBuffer.restore: expected a Float32Array of at least ${this.context} samples`);
    }
    this.buf = samples.slice();
    this.start = 0;
  }

  /** New samples waiting for the next call (beyond the context). */
  get pending(): number {
    return Math.max(0, this.length - this.context);
  }
}

/** Yields the encoder calls the realtime loop makes over a whole signal arriving in `chunk`-sample pieces. */
export function* realtimeCalls(signal: Float32Array, opts: RealtimeLoopOptions): Generator<RealtimeCall> {
  const chunk = opts.chunk ?? 160;
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`realtime loop: chunk ${chunk} must be a positive integer`);
  const buffer = new RealtimeBuffer(opts.window, opts.context ?? 320);
  let index = 0;
  for (let pos = 0; pos < signal.length; pos += chunk) {
    const end = Math.min(pos + chunk, signal.length);
    buffer.append(signal.subarray(pos, end));
    for (let w = buffer.peek(); w; w = buffer.peek()) {
      yield { window: w.slice(), endSample: end, index: index++ };
      buffer.advance();
    }
  }
}

/** Number of calls the loop makes over `samples` samples (chunks tile the window exactly). */
export function realtimeCallCount(samples: number, opts: RealtimeLoopOptions): number {
  let n = 0;
  for (const _ of realtimeCalls(new Float32Array(samples), opts)) n++;
  return n;
}
