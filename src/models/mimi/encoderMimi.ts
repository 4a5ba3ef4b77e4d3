/**
 * MaAI's EncoderMimi: 16 kHz audio -> 24 kHz -> Mimi core (12.5 Hz, hidden_size channels) -> frame-rate
 * alignment to frame_hz -> frame_rate_conv (causal Conv1d k3). At frame_hz 12.5 the alignment and the
 * frame_rate_conv are skipped, as upstream does.
 *
 * Offline (`forward`): torchaudio-style sinc resampling, the core without caches, linear interpolation to
 * round(samples * frame_hz / 16000) frames, frame_rate_conv with 2 zeros of left padding.
 * Streaming (`stream()`): MaAI's realtime path: strip the 320 context samples, the causal linear resampler
 * 16k -> 24k with one leading zero on the first non-empty chunk, the core step with its padding caches and
 * KV cache, the causal feature resampler 12.5 Hz -> frame_hz, and frame_rate_conv with a 2-frame cache.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv1d } from '../../layers/conv1d';
import { disposeAll } from '../../layers/param';
import { sincResample, sincResampleLength, sincResampleRange } from '../../audio/sincResample';
import { interpolateLinear } from '../../audio/interpolate';
import { WeightStore, WeightError } from '../../weights/store';
import { MimiModel } from './mimi';
import { pyRound } from '../../util/pyRound';
import { concatRows } from '../../util/concat';
import { MimiConfig, MIMI_CONFIG, mimiConfig, mimiFrameSize } from './mimiConfig';
import { MimiStream } from './mimiStream';
import { MimiOnnxIoSpec, MimiOnnxMeta, mimiOnnxMeta } from './onnxContract';
import { toRows } from '../input';
import type { AudioEncoder, CallWindow, CallWindowOptions } from '../../pipeline/types';
import { callWindowFor } from '../../pipeline/realtimeLoop';
import { mimiCoreChunked } from './mimiChunked';
import { OfflineOptions, checkedFeatures, offlineChunkSamples, progressReporter } from '../offline';

export interface EncoderMimiOptions {
  /** Output frame rate (MaAI's default 10; 12.5 skips the alignment). */
  frameHz?: number;
  /** Samples of left context in every streaming window (320 in MaAI). */
  contextSamples?: number;
  /** The Mimi config (default kyutai/mimi). */
  config?: Partial<MimiConfig>;
  /** Static KV cache length (MaAI: mimi_encoder_static_cache_max_len(12.5) = 250). */
  maxCacheLen?: number;
}

export class EncoderMimi implements AudioEncoder {
  readonly kind = 'mimi';
  readonly sampleRate = 24000;
  readonly inputSampleRate = 16000;
  readonly frameHz: number;
  readonly frameHzMimi: number;
  readonly contextSamples: number;
  readonly outputDim: number;

  constructor(readonly model: MimiModel, readonly frameRateConv: Conv1d | null, opts: EncoderMimiOptions = {}) {
    this.frameHz = opts.frameHz ?? 10;
    if (!(this.frameHz > 0) || !Number.isFinite(this.frameHz)) throw new RangeError(`EncoderMimi: frameHz must be a positive number, got ${this.frameHz}`);
    this.frameHzMimi = model.config.frame_rate;
    this.contextSamples = opts.contextSamples ?? 320;
    this.outputDim = model.config.hidden_size;
    if (!this.skipsAlignment && !frameRateConv) {
      throw new WeightError(`EncoderMimi at frame_hz ${this.frameHz} needs frame_rate_conv.weight and frame_rate_conv.bias in the weights`);
    }
  }

  /** Loads encoder.*, encoder_transformer.*, downsample.conv.weight and (unless frame_hz is 12.5) frame_rate_conv.*. */
  static load(store: WeightStore, opts: EncoderMimiOptions = {}): EncoderMimi {
    const config = mimiConfig({ ...MIMI_CONFIG, ...(opts.config ?? {}) });
    const model = MimiModel.load(store, config, { maxCacheLen: opts.maxCacheLen });
    const H = config.hidden_size;
    const frameHz = opts.frameHz ?? 10;
    const needConv = Math.abs(frameHz - config.frame_rate) > 1e-6;
    const conv =
      needConv || store.has('frame_rate_conv.weight')
        ? Conv1d.load(store, 'frame_rate_conv', { inChannels: H, outChannels: H, kernelSize: 3, padding: 0 })
        : null;
    return new EncoderMimi(model, conv, opts);
  }

  get config(): MimiConfig {
    return this.model.config;
  }

  /** Channels per frame (= outputDim). */
  get dim(): number {
    return this.outputDim;
  }

  /** True when frame_hz equals Mimi's rate (|diff| <= 1e-6): no alignment, no frame_rate_conv. */
  get skipsAlignment(): boolean {
    return Math.abs(this.frameHz - this.frameHzMimi) <= 1e-6;
  }

  /** New 16 kHz samples per streaming call of one frame: round(16000 / frame_hz). */
  getStreamingEmitSamples16k(): number {
    return pyRound(16000 / this.frameHz);
  }

  /** Streaming call window at 16 kHz for N frames per call: context + N * emit. */
  getStreamingCallWindow16k(framesPerCall = 1): number {
    return this.contextSamples + checkFramesPerCall(framesPerCall) * this.getStreamingEmitSamples16k();
  }

  /** Mimi core input per call at 24 kHz for N frames per call: round(N * emit * 24000 / 16000). */
  getStreamingMimiInput24k(framesPerCall = 1): number {
    return pyRound((checkFramesPerCall(framesPerCall) * this.getStreamingEmitSamples16k() * this.sampleRate) / 16000);
  }

  /**
   * MaAI's realtime loop for this encoder: `callHz` calls per second (default frame_hz: window 1600 at 12.5 Hz;
   * frame_hz / N gives MaAI's frames_per_call N), with the encoder's own context (320).
   */
  callWindow(opts: CallWindowOptions = {}): CallWindow {
    if (opts.context !== undefined && opts.context !== this.contextSamples) {
      throw new RangeError(`EncoderMimi: the context is fixed at load (${this.contextSamples} samples), got ${opts.context}`);
    }
    const g = callWindowFor(opts.callHz ?? this.frameHz, this.contextSamples);
    const frame16k = Math.ceil((mimiFrameSize(this.config) * 16000) / this.sampleRate);
    if (g.shift < frame16k) {
      throw new RangeError(`EncoderMimi: ${g.shift} new samples per call are fewer than one Mimi frame (${frame16k} at 16 kHz); call at most ${(16000 / frame16k).toFixed(2)} times per second`);
    }
    return { ...g, frameHz: this.frameHz };
  }

  /** The ONNX streaming contract's I/O spec (MaAI get_mimi_streaming_onnx_io_spec) for N frames per call. */
  getMimiStreamingOnnxIoSpec(batchSize = 1, framesPerCall = 1): MimiOnnxIoSpec {
    const c = this.config;
    const pad = this.model.cachedConvs.map((conv) => [batchSize, conv.inChannels, conv.paddingTotal]);
    const past = this.model.encoderTransformer.layers.flatMap(() => {
      const s = [batchSize, c.num_attention_heads, this.model.kvCache.capacity, c.head_dim];
      return [s, [...s]];
    });
    return {
      frames_per_call: checkFramesPerCall(framesPerCall),
      wave_16k_call_window: this.getStreamingCallWindow16k(framesPerCall),
      wave_24k_mimi_input: this.getStreamingMimiInput24k(framesPerCall),
      padding_cache_shapes: pad,
      past_key_value_shapes: past,
      num_padding_tensors: pad.length,
      num_past_tensors: past.length,
      output_dim: this.outputDim,
    };
  }

  /**
   * The meta JSON of MaAI's streaming ONNX contract (continuous_mimi_*.json) for this encoder with N frames per
   * call; a stream's exportCoreState({ framesPerCall: N }) is the state such a graph continues from.
   * The contract is for frame_hz = Mimi's rate (12.5 Hz): another frame_hz is an error.
   */
  getMimiStreamingOnnxMeta(framesPerCall = 1): MimiOnnxMeta {
    if (!this.skipsAlignment) throw new RangeError(`EncoderMimi: the ONNX contract runs at Mimi's ${this.frameHzMimi} Hz; this encoder is at frame_hz ${this.frameHz}`);
    return mimiOnnxMeta(this.getMimiStreamingOnnxIoSpec(1, framesPerCall), {
      frameRate: this.frameHzMimi,
      contextSamples: this.contextSamples,
      cachePositionLen: this.model.tokensPerCall(framesPerCall),
      maxPastLen: this.model.kvCache.capacity,
    });
  }

  /**
   * Offline: 16 kHz waveform(s) -> [B, frames, hidden] at frame_hz. Rows of a batch must have equal length. A signal longer
   * than one chunk (`opts.chunkSamples`, default 5 s) runs in chunks with carried state, equal to the one-shot
   * pass and in memory bounded by the chunk (see mimiChunked). Non-finite features are an error.
   */
  forward(wave: Float32Array | Float32Array[] | tf.Tensor, opts: OfflineOptions = {}): tf.Tensor3D {
    const where = 'EncoderMimi.forward';
    const rows = toRows(wave, where);
    const frameSize = this.model.frameSize;
    const chunk16 = offlineChunkSamples(opts, Math.ceil((frameSize * this.inputSampleRate) / this.sampleRate), where);
    const chunk24 = Math.max(1, Math.floor((chunk16 * this.sampleRate) / this.inputSampleRate / frameSize)) * frameSize;
    const T16 = rows[0].length;
    const progress = progressReporter(opts.onProgress, T16);
    progress(0);
    const T24 = sincResampleLength(T16, this.inputSampleRate, this.sampleRate);
    const y = T24 <= chunk24 ? this.forwardOneShot(rows) : this.forwardChunked(rows, chunk24, (end) => progress(Math.min(T16, Math.round((end * this.inputSampleRate) / this.sampleRate))));
    checkedFeatures(y, where);
    progress(T16);
    return y;
  }

  /** The whole signal in one piece. */
  private forwardOneShot(rows: Float32Array[]): tf.Tensor3D {
    const T16 = rows[0].length;
    const up = rows.map((r) => sincResample(r, this.inputSampleRate, this.sampleRate));
    const T24 = up[0].length;
    const B = rows.length;
    if (T24 === 0) return tf.zeros([B, 0, this.outputDim]) as tf.Tensor3D;
    const x = tf.tensor3d(concatRows(up), [B, T24, 1]);
    const emb = this.model.forward(x);
    x.dispose();
    if (this.skipsAlignment) return emb;
    const out = tf.tidy(() => {
      const N = emb.shape[1];
      const target = this.alignedFrames(T16);
      let aligned: tf.Tensor3D = emb;
      if (target !== N) aligned = tf.tensor3d(this.interpolateRows(emb.dataSync() as Float32Array, B, N, target), [B, target, this.outputDim]);
      // CConv1d: two zeros of left padding, then the conv.
      return this.frameRateConv!.forwardPadded(aligned, 2, 0);
    });
    emb.dispose();
    return out;
  }

  /** In chunks of `chunk24` samples at 24 kHz: the core through mimiCoreChunked, the alignment on the host. */
  private forwardChunked(rows: Float32Array[], chunk24: number, onChunk: (end24: number) => void): tf.Tensor3D {
    const B = rows.length;
    const C = this.outputDim;
    const T16 = rows[0].length;
    const T24 = sincResampleLength(T16, this.inputSampleRate, this.sampleRate);
    const read = (start: number, end: number) =>
      tf.tensor3d(concatRows(rows.map((r) => sincResampleRange(r, this.inputSampleRate, this.sampleRate, start, end))), [B, end - start, 1]);
    const core = mimiCoreChunked(this.model, T24, B, chunk24, read, onChunk);
    if (this.skipsAlignment) return tf.tensor3d(core.data, [B, core.frames, C]);
    const target = this.alignedFrames(T16);
    const aligned = target === core.frames ? core.data : this.interpolateRows(core.data, B, core.frames, target);
    return tf.tensor3d(this.frameRateConvChunked(aligned, B, target), [B, target, C]);
  }

  /** Offline frame count after the alignment: round(samples * frame_hz / 16000), at least 1. */
  private alignedFrames(T16: number): number {
    return Math.max(1, pyRound((T16 * this.frameHz) / this.inputSampleRate));
  }

  /** Linear interpolation of each row of [B, N, C] to `target` frames. */
  private interpolateRows(host: Float32Array, B: number, N: number, target: number): Float32Array {
    const C = this.outputDim;
    return concatRows(Array.from({ length: B }, (_, b) => interpolateLinear(host.subarray(b * N * C, (b + 1) * N * C), N, C, target)));
  }

  /** frame_rate_conv with its causal left zeros over [B, N, C] on the host, a block of frames at a time. */
  private frameRateConvChunked(host: Float32Array, B: number, N: number, block = 1024): Float32Array {
    const C = this.outputDim;
    const conv = this.frameRateConv!;
    const k1 = conv.span - 1;
    const out = new Float32Array(B * N * C);
    for (let f0 = 0; f0 < N; f0 += block) {
      const f1 = Math.min(N, f0 + block);
      const n = f1 - f0 + k1;
      const x = new Float32Array(B * n * C); // frames f0-k1 .. f1-1, zeros before the signal
      const from = Math.max(0, f0 - k1);
      for (let b = 0; b < B; b++) x.set(host.subarray((b * N + from) * C, (b * N + f1) * C), (b * n + from - (f0 - k1)) * C);
      const y = tf.tidy(() => conv.forwardValid(tf.tensor3d(x, [B, n, C])));
      const d = y.dataSync() as Float32Array;
      y.dispose();
      for (let b = 0; b < B; b++) out.set(d.subarray(b * (f1 - f0) * C, (b + 1) * (f1 - f0) * C), (b * N + f0) * C);
    }
    return out;
  }

  /** A streaming session with fresh state (MaAI's realtime path). */
  stream(opts: { batch?: number } = {}): MimiStream {
    return new MimiStream(this, opts.batch ?? 1);
  }

  variables(): tf.Variable[] {
    return [...this.model.variables(), ...(this.frameRateConv ? this.frameRateConv.variables() : [])];
  }

  dispose(): void {
    this.model.dispose(); // its variables and the attention's fused q/k/v copies
    if (this.frameRateConv) disposeAll(this.frameRateConv.variables());
  }
}

function checkFramesPerCall(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`EncoderMimi: frames_per_call must be a positive integer, got ${n}`);
  return n;
}
