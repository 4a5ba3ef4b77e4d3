/**
 * A Node-friendly streaming API over any encoder: `push(samples)` accepts 16 kHz audio in any chunk sizes and
 * returns the feature frames that are ready; `flush()` ends the stream. It is MaAI's realtime loop
 * (RealtimeLoop) over a stream the session opens and owns. `encodeStream` adapts an (async) iterable of chunks;
 * wrap it with `stream.Readable.from` for a Node stream.
 */
import type { AudioEncoder, CallWindow } from './types';
import { FeatureChunk, RealtimeLoop, RealtimeLoopState } from './realtimeLoop';

export type { FeatureChunk } from './realtimeLoop';

export interface SessionOptions {
  /** Encoder calls per second (CPC: 10 in MaAI, window 1920, shift 1600; Mimi: its frame_hz). */
  callHz?: number;
  /** Same as callHz (the name this option had first). */
  frameHz?: number;
  /** Left context samples kept between calls (320; Mimi's is fixed at load). */
  context?: number;
}

export class EncoderSession {
  readonly geometry: CallWindow;
  readonly dim: number;
  private readonly loop: RealtimeLoop;
  private closed = false;

  constructor(readonly encoder: AudioEncoder, opts: SessionOptions = {}) {
    if (opts.callHz !== undefined && opts.frameHz !== undefined && opts.callHz !== opts.frameHz) {
      throw new RangeError(`EncoderSession: callHz ${opts.callHz} and frameHz ${opts.frameHz} disagree (they are the same option)`);
    }
    this.geometry = encoder.callWindow({ callHz: opts.callHz ?? opts.frameHz, context: opts.context });
    this.dim = encoder.dim;
    this.loop = new RealtimeLoop(encoder.stream(), this.geometry, this.dim, 'EncoderSession');
  }

  /** Call window (context + new samples). */
  get window(): number {
    return this.geometry.window;
  }

  get context(): number {
    return this.geometry.context;
  }

  /** Number of encoder calls made. */
  get calls(): number {
    return this.loop.calls;
  }

  /** Appends 16 kHz samples; returns the frames produced by the calls this made possible (maybe none). */
  push(samples: Float32Array): FeatureChunk {
    if (this.closed) throw new Error('EncoderSession: push after flush/close');
    const { data, frames, dim } = this.loop.push(samples);
    return { data, frames, dim };
  }

  /** Ends the stream: the encoder's finalize (Mimi flushes its resamplers, upstream finalize_stream). */
  flush(): FeatureChunk {
    if (this.closed) return { data: new Float32Array(0), frames: 0, dim: this.dim };
    this.closed = true;
    try {
      const { data, frames, dim } = this.loop.flush();
      return { data, frames, dim };
    } finally {
      this.loop.stream.dispose();
    }
  }

  /** Samples waiting for the next call (beyond the context). */
  get pending(): number {
    return this.loop.pending;
  }

  /** The session's state as plain data (the stream's and the buffered samples): importState elsewhere continues it. */
  exportState(): RealtimeLoopState {
    return this.loop.exportState();
  }

  importState(s: RealtimeLoopState): void {
    if (this.closed) throw new Error('EncoderSession: importState after flush/close');
    this.loop.importState(s);
  }

  /** Releases the stream state without flushing. */
  close(): void {
    if (!this.closed) this.loop.stream.dispose();
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
