/**
 * An EncoderSession that times its encoder calls: per-call latency (median, p95) and the real-time factor
 * (encoding time / audio time pushed). The session runs MaAI's realtime loop; this only measures it.
 */
import { EncoderSession, FeatureChunk } from '../pipeline/encoderSession';
import { Stats, stats } from '../bench/stats';

export interface SessionFigures {
  audioSeconds: number;
  calls: number;
  frames: number;
  /** ms per encoder call over the last `window` calls; null before the first call. */
  latency: Stats | null;
  /** Encoding time / audio time over the whole stream. */
  rtf: number | null;
}

export class TimedSession {
  private readonly latencies: number[] = [];
  private samples = 0;
  private busyMs = 0;
  frames = 0;

  /** `window`: how many recent calls the latency figures cover. */
  constructor(readonly session: EncoderSession, readonly window = 500) {}

  push(chunk: Float32Array): FeatureChunk {
    const before = this.session.calls;
    const t0 = performance.now();
    const out = this.session.push(chunk);
    const ms = performance.now() - t0;
    const calls = this.session.calls - before;
    this.samples += chunk.length;
    this.busyMs += ms;
    this.frames += out.frames;
    for (let i = 0; i < calls; i++) this.latencies.push(ms / calls);
    if (this.latencies.length > this.window) this.latencies.splice(0, this.latencies.length - this.window);
    return out;
  }

  figures(): SessionFigures {
    const audioSeconds = this.samples / 16000;
    return {
      audioSeconds,
      calls: this.session.calls,
      frames: this.frames,
      latency: this.latencies.length ? stats(this.latencies) : null,
      rtf: audioSeconds > 0 ? this.busyMs / 1000 / audioSeconds : null,
    };
  }

  close(): void {
    this.session.close();
  }
}
