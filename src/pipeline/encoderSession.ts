/**
 * A Node-friendly streaming API over either encoder: `push(samples)` accepts 16 kHz audio in any chunk sizes
 * and returns the feature frames that are ready; `flush()` ends the stream. Internally it runs MaAI's realtime
 * loop: a buffer that starts with `context` zeros, an encoder call whenever `window` samples are buffered, and
 * the last `context` samples kept. `encodeStream` adapts an (async) iterable of chunks; wrap it with
 * `stream.Readable.from` for a Node stream.
 */
import { EncoderCPC, CpcStream } from '../models/cpc/encoderCpc';
import { EncoderMimi } from '../models/mimi/encoderMimi';
import { MimiStream } from '../models/mimi/mimiStream';
import { assertAudio } from '../util/finite';
import { pyRound } from '../util/pyRound';
import { concatRows } from '../util/concat';
import { RealtimeBuffer } from './realtimeLoop';

/** Frames [frames, dim], row-major. */
export interface FeatureChunk {
  data: Float32Array;
  frames: number;
  dim: number;
}

export interface SessionOptions {
  /** CPC only: call rate in Hz (10 in MaAI: window 1920, shift 1600). Mimi uses its own frame_hz. */
  frameHz?: number;
  /** Left context samples kept between calls (320). */
  context?: number;
}

export class EncoderSession {
  readonly window: number;
  readonly context: number;
  readonly dim: number;
  private readonly buffer: RealtimeBuffer;
  private readonly stream: CpcStream | MimiStream;
  /** Number of encoder calls made. */
  calls = 0;
  private closed = false;

  constructor(readonly encoder: EncoderCPC | EncoderMimi, opts: SessionOptions = {}) {
    if (encoder instanceof EncoderMimi) {
      this.context = encoder.contextSamples;
      this.window = encoder.getStreamingCallWindow16k();
      this.stream = encoder.stream();
    } else {
      this.context = opts.context ?? 320;
      const hz = opts.frameHz ?? 10;
      if (!(hz > 0)) throw new RangeError(`EncoderSession: frameHz must be positive, got ${hz}`);
      this.window = this.context + pyRound(16000 / hz);
      if (encoder.framesFor(this.window) < 1) throw new RangeError(`EncoderSession: a window of ${this.window} samples is shorter than CPC's receptive field (${encoder.minSamples})`);
      this.stream = encoder.stream();
    }
    this.dim = encoder.outputDim;
    this.buffer = new RealtimeBuffer(this.window, this.context);
  }

  /** Appends 16 kHz samples; returns the frames produced by the calls this made possible (maybe none). */
  push(samples: Float32Array): FeatureChunk {
    if (this.closed) throw new Error('EncoderSession: push after flush/close');
    if (!(samples instanceof Float32Array)) throw new TypeError('EncoderSession.push: expected a Float32Array of 16 kHz samples');
    assertAudio(samples, 'EncoderSession.push');
    this.buffer.append(samples);
    const parts: Float32Array[] = [];
    let frames = 0;
    // A failing step leaves its window in the buffer (advance only after success).
    for (let w = this.buffer.peek(); w; w = this.buffer.peek()) {
      const y = this.stream.step(w);
      parts.push(y.dataSync() as Float32Array);
      frames += y.shape[1];
      y.dispose();
      this.calls++;
      this.buffer.advance();
    }
    return { data: concatRows(parts), frames, dim: this.dim };
  }

  /**
   * Ends the stream. Mimi: flushes its resamplers (upstream finalize_stream) and returns the last frames.
   * Samples short of a full window are not encoded (MaAI's loop never calls with a partial window).
   */
  flush(): FeatureChunk {
    if (this.closed) return { data: new Float32Array(0), frames: 0, dim: this.dim };
    this.closed = true;
    let out: FeatureChunk = { data: new Float32Array(0), frames: 0, dim: this.dim };
    if (this.stream instanceof MimiStream) {
      const y = this.stream.finalize();
      out = { data: y.dataSync() as Float32Array, frames: y.shape[1], dim: this.dim };
      y.dispose();
    }
    this.stream.dispose();
    return out;
  }

  /** Samples waiting for the next call (beyond the context). */
  get pending(): number {
    return this.buffer.pending;
  }

  /** Releases the stream state without flushing. */
  close(): void {
    if (!this.closed) this.stream.dispose();
    this.closed = true;
  }
}


/** Encodes a stream of 16 kHz chunks, yielding feature chunks as they become ready (and the flush at the end). */
export async function* encodeStream(
  session: EncoderSession,
  source: AsyncIterable<Float32Array> | Iterable<Float32Array>,
): AsyncGenerator<FeatureChunk> {
  try {
    for await (const chunk of source) {
      const r = session.push(chunk);
      if (r.frames > 0) yield r;
    }
    const last = session.flush();
    if (last.frames > 0) yield last;
  } finally {
    session.close();
  }
}

