/**
 * A streaming session over EncoderMimi, holding MaAI's per-stream state explicitly:
 * the 16k -> 24k causal resampler, whether the one leading zero was added, the Mimi core state (padding caches,
 * KV buffers, position), the 12.5 Hz -> frame_hz feature resampler and the frame_rate_conv's 2-frame cache.
 * A failed step leaves the state as it was.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CausalResamplerState, CausalStreamingResampler } from '../../audio/causalResampler';
import { RawTensor } from '../../weights/types';
import { MimiModel, MimiState, disposeMimiState } from './mimi';
import { mimiFrameSize } from './mimiConfig';
import { toRows } from '../input';
import { concatRows } from '../../util/concat';
import { tidyTyped } from '../../util/tidy';
import type { Conv1d } from '../../layers/conv1d';
import type { EncoderStream } from '../../pipeline/types';

type ResamplerState = CausalResamplerState;

/** Everything a stream needs to continue elsewhere, as plain data. */
export interface MimiStreamState {
  encoder: 'mimi';
  hidden: number;
  frameHz: number;
  audioResampler: ResamplerState;
  leadingZeroDone: boolean;
  /** The core state in the flat ONNX-contract form (pad_cache_i, past_j, cache_position). */
  core: Array<[string, RawTensor]>;
  featureResampler: ResamplerState | null;
  /** frame_rate_conv cache [B, k-1, C] (row-major), null before the first aligned frame. */
  frameConvCache: Float32Array | null;
  calls: number;
}

export interface MimiStepOptions {
  /** Flush the resamplers at the end of the stream (upstream finalize_stream). */
  finalize?: boolean;
  /** The window starts with `contextSamples` samples of overlap (MaAI's realtime loop). Default true. */
  hasOverlapContext?: boolean;
}

/** What a MimiStream reads of its encoder (EncoderMimi). */
export interface MimiStreamSource {
  readonly model: MimiModel;
  /** Causal k3 conv after the frame-rate alignment (null at 12.5 Hz). */
  readonly frameRateConv: Conv1d | null;
  /** Output rate, Mimi's own rate, and whether they are equal (no alignment). */
  readonly frameHz: number;
  readonly frameHzMimi: number;
  readonly skipsAlignment: boolean;
  /** Mimi's sample rate (24000). */
  readonly sampleRate: number;
  readonly contextSamples: number;
  readonly outputDim: number;
  getStreamingEmitSamples16k(): number;
  getStreamingCallWindow16k(): number;
}

/** A computed step not yet committed: what changes (undefined = unchanged). */
interface Pending {
  core?: MimiState;
  convCache?: tf.Tensor3D | null;
  audioRs?: ResamplerState;
  featRs?: ResamplerState;
  leadingZero?: boolean;
}

export class MimiStream implements EncoderStream {
  private readonly audioResampler: CausalStreamingResampler;
  private readonly featureResampler: CausalStreamingResampler | null;
  /** The resamplers' states (plain data, replaced, never mutated). */
  private audioRs: ResamplerState;
  private featRs: ResamplerState | null;
  private leadingZeroDone = false;
  private core: MimiState;
  private frameConvCache: tf.Tensor3D | null = null;
  calls = 0;

  constructor(readonly encoder: MimiStreamSource, readonly batch = 1) {
    this.audioResampler = new CausalStreamingResampler(16000, encoder.sampleRate);
    this.featureResampler = encoder.skipsAlignment ? null : new CausalStreamingResampler(encoder.frameHzMimi, encoder.frameHz);
    this.audioRs = this.audioResampler.initialState();
    this.featRs = this.featureResampler?.initialState() ?? null;
    this.core = encoder.model.initialState(batch);
  }

  /**
   * One call of MaAI's realtime loop: `window` = context + new 16 kHz samples ([T], [B][T] or a tensor).
   * Returns [B, N, hidden] (N may be 0); the caller owns the tensor.
   */
  step(window: Float32Array | Float32Array[] | tf.Tensor, opts: MimiStepOptions = {}): tf.Tensor3D {
    const enc = this.encoder;
    const rows = toRows(window, 'MimiStream.step');
    if (rows.length !== this.batch) throw new RangeError(`MimiStream.step: window has batch ${rows.length}, the stream was opened with batch ${this.batch}`);
    const C = enc.outputDim;
    const empty = () => tf.zeros([this.batch, 0, C]) as tf.Tensor3D;
    const context = opts.hasOverlapContext === false ? 0 : enc.contextSamples;
    if (rows[0].length < context) {
      throw new RangeError(
        `MimiStream.step: window of ${rows[0].length} samples is shorter than its ${context} samples of context; ` +
          `MaAI's loop calls with ${enc.getStreamingCallWindow16k()} (context + ${enc.getStreamingEmitSamples16k()} new samples)`,
      );
    }
    if (context > 0 && rows[0].length === context) {
      this.calls++;
      return empty();
    }
    const fresh = rows.map((r) => r.subarray(context));

    // Everything is computed first and committed once: a throw anywhere leaves the stream as it was.
    const r = this.audioResampler.process(fresh, this.audioRs);
    let audioRs = r.state;
    let up = r.out;
    if (opts.finalize) {
      const tail = this.audioResampler.flush(audioRs);
      audioRs = tail.state;
      if (tail.out.length) up = up.map((u, i) => concatRows([u, tail.out[i]]));
    }
    let leadingZero = this.leadingZeroDone;
    if (!leadingZero && up[0].length > 0) {
      // MaAI prepends one zero to the first non-empty 24 kHz chunk (1919 -> 1920 samples).
      up = up.map((u) => concatRows([new Float32Array(1), u]));
      leadingZero = true;
    }
    if (up[0].length === 0) {
      this.commit({ audioRs, leadingZero });
      return empty();
    }
    const frameSize = mimiFrameSize(enc.model.config);
    if (up[0].length < frameSize) {
      // Upstream hands such a chunk to the core too, where PyTorch's conv1d fails (input shorter than the kernel).
      throw new RangeError(
        `MimiStream.step: ${rows[0].length - context} new samples at 16 kHz give ${up[0].length} samples at ${enc.sampleRate} Hz, ` +
          `fewer than one Mimi frame (${frameSize}); send at least ${enc.getStreamingEmitSamples16k()} new samples per call`,
      );
    }
    const out = this.encode24k(up, !!opts.finalize);
    this.commit({ ...out, audioRs, leadingZero });
    return out.y;
  }

  /** 24 kHz rows -> core step -> frame-rate alignment. Only new tensors come back; nothing is committed. */
  private encode24k(up: Float32Array[], finalize: boolean): Pending & { y: tf.Tensor3D; core: MimiState } {
    const x = tf.tensor3d(concatRows(up), [this.batch, up[0].length, 1]);
    let r: { y: tf.Tensor3D; state: MimiState };
    try {
      r = this.encoder.model.step(x, this.core);
    } finally {
      x.dispose();
    }
    if (this.encoder.skipsAlignment || r.y.shape[1] === 0) return { y: r.y, core: r.state };
    try {
      const a = this.alignStreaming(r.y, finalize);
      return { y: a.y, core: r.state, convCache: a.cache, featRs: a.featRs };
    } catch (e) {
      disposeMimiState(r.state);
      throw e;
    } finally {
      r.y.dispose();
    }
  }

  /** Makes a computed step the stream's state (the only place a step changes anything). */
  private commit(p: Pending, isCall = true): void {
    if (p.core) {
      disposeMimiState(this.core);
      this.core = p.core;
    }
    if (p.convCache !== undefined && p.convCache !== this.frameConvCache) {
      this.frameConvCache?.dispose();
      this.frameConvCache = p.convCache;
    }
    if (p.audioRs) this.audioRs = p.audioRs;
    if (p.featRs) this.featRs = p.featRs;
    if (p.leadingZero !== undefined) this.leadingZeroDone = p.leadingZero;
    if (isCall) this.calls++;
  }

  /** Causal feature resampling 12.5 Hz -> frame_hz, then frame_rate_conv over cat(cache, x). */
  private alignStreaming(emb: tf.Tensor3D, finalize: boolean): { y: tf.Tensor3D; cache: tf.Tensor3D | null; featRs: ResamplerState } {
    const [B, N, C] = emb.shape;
    const host = emb.dataSync() as Float32Array;
    // Channel-major rows for the resampler: one row per (batch, channel).
    const chans: Float32Array[] = [];
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const row = new Float32Array(N);
        for (let t = 0; t < N; t++) row[t] = host[(b * N + t) * C + c];
        chans.push(row);
      }
    }
    const rs = this.featureResampler!;
    let { out: res, state: featRs } = rs.process(chans, this.featRs!);
    if (finalize) {
      const tail = rs.flush(featRs);
      featRs = tail.state;
      if (tail.out.length) res = res.map((r, i) => concatRows([r, tail.out[i]]));
    }
    const M = res[0].length;
    if (M === 0) return { y: tf.zeros([B, 0, C]), cache: this.frameConvCache, featRs };
    const frames = new Float32Array(B * M * C);
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let t = 0; t < M; t++) frames[(b * M + t) * C + c] = res[b * C + c][t];
    const conv = this.encoder.frameRateConv!;
    const k1 = conv.span - 1;
    const out = tidyTyped(() => {
      const x = tf.tensor3d(frames, [B, M, C]);
      const cache = this.frameConvCache ?? tf.zeros<tf.Rank.R3>([B, k1, C]);
      const full = tf.concat([cache, x], 1);
      const y = conv.forwardValid(full);
      const next = tf.slice(full, [0, full.shape[1] - k1, 0], [-1, k1, -1]);
      return { y, cache: next };
    });
    return { ...out, featRs };
  }

  /**
   * Flushes the 16k -> 24k resampler with no new audio (upstream only flushes inside a step with finalize_stream;
   * use `step(window, { finalize: true })` for that). The flushed tail is usually one sample, too short for a
   * frame, and is then dropped: the result is empty.
   */
  finalize(): tf.Tensor3D {
    const tail = this.audioResampler.flush(this.audioRs);
    const empty = () => tf.zeros<tf.Rank.R3>([this.batch, 0, this.encoder.outputDim]);
    if (tail.out.length === 0) return empty();
    if (tail.out[0].length < mimiFrameSize(this.encoder.model.config)) {
      // A tail shorter than one Mimi frame cannot produce a frame (upstream's conv would fail on it): it is dropped.
      this.commit({ audioRs: tail.state }, false);
      return empty();
    }
    const out = this.encode24k(tail.out, true);
    this.commit({ ...out, audioRs: tail.state });
    return out.y;
  }

  /** Back to a fresh stream (upstream reset_streaming_state). */
  reset(): void {
    disposeMimiState(this.core);
    this.frameConvCache?.dispose();
    this.frameConvCache = null;
    this.core = this.encoder.model.initialState(this.batch);
    this.audioRs = this.audioResampler.initialState();
    this.featRs = this.featureResampler?.initialState() ?? null;
    this.leadingZeroDone = false;
    this.calls = 0;
  }

  /** The core (Mimi) state in MaAI's flat ONNX-contract order. */
  exportCoreState(): Array<[string, RawTensor]> {
    return this.encoder.model.exportState(this.core);
  }

  /** Replaces the core state from its flat form (validated; nothing changes on error). */
  importCoreState(flat: Array<[string, RawTensor]> | Map<string, RawTensor>): void {
    const next = this.encoder.model.importState(flat);
    if (next.batch !== this.batch) {
      disposeMimiState(next);
      throw new RangeError(`MimiStream.importCoreState: state has batch ${next.batch}, the stream has batch ${this.batch}`);
    }
    disposeMimiState(this.core);
    this.core = next;
  }

  /** Current absolute transformer position (frames seen). */
  get position(): number {
    return this.core.position;
  }

  exportState(): MimiStreamState {
    return {
      encoder: 'mimi',
      hidden: this.encoder.outputDim,
      frameHz: this.encoder.frameHz,
      audioResampler: { ...this.audioRs, prev: this.audioRs.prev?.slice() ?? null },
      leadingZeroDone: this.leadingZeroDone,
      core: this.exportCoreState(),
      featureResampler: this.featRs ? { ...this.featRs, prev: this.featRs.prev?.slice() ?? null } : null,
      frameConvCache: this.frameConvCache ? (this.frameConvCache.dataSync() as Float32Array).slice() : null,
      calls: this.calls,
    };
  }

  importState(s: MimiStreamState): void {
    if (!s || s.encoder !== 'mimi') {
      throw new TypeError(`MimiStream.importState: not a Mimi stream state (encoder: ${JSON.stringify((s as { encoder?: unknown })?.encoder)})`);
    }
    if (s.hidden !== this.encoder.outputDim || s.frameHz !== this.encoder.frameHz) {
      throw new RangeError(`MimiStream.importState: state is for hidden ${s.hidden} at ${s.frameHz} Hz; this encoder is hidden ${this.encoder.outputDim} at ${this.encoder.frameHz} Hz`);
    }
    const k1 = this.encoder.frameRateConv ? this.encoder.frameRateConv.span - 1 : 0;
    if (s.frameConvCache && s.frameConvCache.length !== this.batch * k1 * this.encoder.outputDim) {
      throw new RangeError('MimiStream.importState: frameConvCache has the wrong size');
    }
    const prevRows = s.audioResampler?.prev?.length;
    if (prevRows !== undefined && prevRows !== this.batch) {
      throw new RangeError(`MimiStream.importState: state has batch ${prevRows} (audio resampler rows), the stream has batch ${this.batch}`);
    }
    const core = this.encoder.model.importState(s.core);
    if (core.batch !== this.batch) {
      disposeMimiState(core);
      throw new RangeError(`MimiStream.importState: state has batch ${core.batch}, the stream has batch ${this.batch}`);
    }
    let audioRs: ResamplerState;
    let featRs: ResamplerState | null;
    try {
      audioRs = this.audioResampler.checkState(s.audioResampler);
      featRs = this.featureResampler ? (s.featureResampler ? this.featureResampler.checkState(s.featureResampler) : this.featureResampler.initialState()) : null;
    } catch (e) {
      disposeMimiState(core);
      throw e;
    }
    this.audioRs = audioRs;
    this.featRs = featRs;
    disposeMimiState(this.core);
    this.core = core;
    this.frameConvCache?.dispose();
    this.frameConvCache = s.frameConvCache ? tf.tensor3d(s.frameConvCache, [this.batch, k1, this.encoder.outputDim]) : null;
    this.leadingZeroDone = s.leadingZeroDone;
    this.calls = s.calls;
  }

  dispose(): void {
    disposeMimiState(this.core);
    this.frameConvCache?.dispose();
    this.frameConvCache = null;
  }
}
