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

/** Yields the encoder calls the realtime loop makes over a whole signal. */
export function* realtimeCalls(signal: Float32Array, opts: RealtimeLoopOptions): Generator<RealtimeCall> {
  const context = opts.context ?? 320;
  const chunk = opts.chunk ?? 160;
  const { window } = opts;
  if (!Number.isInteger(window) || window <= context) throw new RangeError(`realtime loop: window ${window} must be an integer > context ${context}`);
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`realtime loop: chunk ${chunk} must be a positive integer`);
  let buf = new Float32Array(context);
  let index = 0;
  for (let pos = 0; pos < signal.length; pos += chunk) {
    const piece = signal.subarray(pos, Math.min(pos + chunk, signal.length));
    const next = new Float32Array(buf.length + piece.length);
    next.set(buf);
    next.set(piece, buf.length);
    buf = next;
    if (buf.length >= window) {
      yield { window: buf, endSample: pos + piece.length, index: index++ };
      buf = buf.slice(buf.length - context);
    }
  }
}

/** Number of calls the loop makes over `samples` samples (chunks tile the window exactly). */
export function realtimeCallCount(samples: number, opts: RealtimeLoopOptions): number {
  let n = 0;
  for (const _ of realtimeCalls(new Float32Array(samples), opts)) n++;
  return n;
}
