/**
 * MaAI's EncoderCPC: 16 kHz waveform -> CPC gEncoder (100 Hz) -> drop first and last frame -> gAR (LSTM/GRU)
 * -> downsample (Conv1d k s2 unpadded -> LayerNorm -> GELU) = 50 Hz features of 256 channels.
 *
 * Offline: `forward(wave)` from a zero recurrent state. Streaming: `step(window, state)` carries the gAR state
 * between calls as upstream's keepHidden does; `CpcStream` wraps it with reset/export/import.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv1d } from '../../layers/conv1d';
import { LayerNorm } from '../../layers/layerNorm';
import { gelu } from '../../layers/activations';
import { RecurrentMode, RecurrentState, RecurrentStateData, disposeState, validateRecurrentState } from '../../layers/recurrent';
import { setTrainable, disposeAll } from '../../layers/param';
import { WeightStore } from '../../weights/store';
import { CPCAR, CPCEncoder } from './cpc';
import { checkWave, toWaveTensor } from '../input';
import { OfflineOptions, checkedFeatures, offlineChunkSamples, progressReporter } from '../offline';
import { cpcForwardChunked } from './cpcChunked';
import { tidyTyped } from '../../util/tidy';
import { TracedSteps } from '../../backend/tfFunction';
import type { AudioEncoder, CallWindow, CallWindowOptions, EncoderStream, WaveInput } from '../../pipeline/types';
import { callWindowFor } from '../../pipeline/realtimeLoop';

export interface EncoderCPCOptions {
  /** 'LSTM' (MaAI's default) or 'GRU'; checked against the weight shapes. Omit to take it from the weights. */
  arMode?: RecurrentMode;
  /** Freeze the CPC encoder (gEncoder + gAR), as upstream's freeze=True. Default true. */
  freeze?: boolean;
  /** Hidden size (256 in every published checkpoint). */
  hidden?: number;
}

export class EncoderCPC implements AudioEncoder {
  readonly kind = 'cpc';
  readonly sampleRate = 16000;
  readonly inputSampleRate = 16000;
  readonly outputDim: number;
  /** Samples per output frame (upstream's downsample_ratio). */
  readonly downsampleRatio = 320;
  /** Frames per second of the offline output (16000 / downsample_ratio = 50). */
  readonly frameHz = 50;
  /** Streaming calls as TensorFlow functions (native backend only; see backend/tfFunction.ts). */
  readonly traced = new TracedSteps();
  private frozen = true;

  constructor(
    readonly gEncoder: CPCEncoder,
    readonly gAR: CPCAR,
    readonly downsampleConv: Conv1d,
    readonly downsampleNorm: LayerNorm,
    freeze = true,
  ) {
    this.outputDim = downsampleConv.outChannels;
    setTrainable(this.downsampleVariables(), true);
    this.setFrozen(freeze);
  }

  /** Loads upstream names: encoder.gEncoder.*, encoder.gAR.baseNet.*, downsample.1.*, downsample.2.ln.*. */
  static load(store: WeightStore, opts: EncoderCPCOptions = {}): EncoderCPC {
    const hidden = opts.hidden ?? 256;
    const gEncoder = CPCEncoder.load(store, 'encoder.gEncoder', hidden);
    const gAR = CPCAR.load(store, 'encoder.gAR', hidden, opts.arMode);
    // The kernel size is taken from the weights (5 in EncoderCPC; VAP checkpoints may carry 10).
    const conv = Conv1d.load(store, 'downsample.1', { inChannels: hidden, outChannels: hidden, stride: 2, padding: 0 });
    const ln = LayerNorm.load(store, 'downsample.2.ln', hidden);
    return new EncoderCPC(gEncoder, gAR, conv, ln, opts.freeze ?? true);
  }

  /** Channels per frame (= outputDim). */
  get dim(): number {
    return this.outputDim;
  }

  get arMode(): RecurrentMode {
    return this.gAR.mode;
  }

  /** Output frames for a window of `samples` samples. */
  framesFor(samples: number): number {
    const n = CPCEncoder.outputLength(samples) - 2;
    return n < this.downsampleConv.kernelSize ? 0 : Math.floor((n - this.downsampleConv.kernelSize) / 2) + 1;
  }

  /** The shortest input that yields one output frame. */
  get minSamples(): number {
    let lo = 1;
    while (this.framesFor(lo) < 1) lo *= 2;
    let hi = lo;
    lo = Math.floor(lo / 2);
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.framesFor(mid) >= 1) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  /**
   * MaAI's CPC realtime loop: `callHz` calls per second (default 10: window 1920, shift 1600), `context` samples
   * of overlap (320). Each call emits framesFor(window) frames (3 with the k5 downsample).
   */
  callWindow(opts: CallWindowOptions = {}): CallWindow {
    const callHz = opts.callHz ?? 10;
    const g = callWindowFor(callHz, opts.context ?? 320);
    const perCall = this.framesFor(g.window);
    if (perCall < 1) {
      throw new RangeError(`EncoderCPC: a window of ${g.window} samples is shorter than CPC's receptive field (${this.minSamples} samples)`);
    }
    return { ...g, frameHz: perCall * callHz };
  }

  private checkLength(samples: number): void {
    if (this.framesFor(samples) < 1) {
      throw new RangeError(
        `EncoderCPC: input of ${samples} samples is shorter than the receptive field: ` +
          `at least ${this.minSamples} samples are needed for one output frame (kernel ${this.downsampleConv.kernelSize} downsample)`,
      );
    }
  }

  /** gEncoder -> trim -> gAR -> downsample; returns features and the new gAR state. */
  private run(wave: tf.Tensor3D, state: RecurrentState | null): { y: tf.Tensor3D; state: RecurrentState } {
    return tidyTyped(() => {
      const z = this.gEncoder.forward(wave);
      // Upstream drops the first and last 100 Hz frame of every call (conv edge effects).
      const zt = tf.slice(z, [0, 1, 0], [-1, z.shape[1] - 2, -1]);
      const ar = this.gAR.baseNet.forward(zt, state);
      const y = gelu(this.downsampleNorm.forward(this.downsampleConv.forward(ar.y)));
      return { y, state: ar.state };
    });
  }

  /**
   * Offline encoding from a fresh (zero) state. wave: Float32Array [T] or a tensor [T], [B, T] or [B, 1, T].
   * Returns [B, N, 256]. A signal longer than one chunk (`opts.chunkSamples`, default 5 s) runs in chunks with
   * carried state, equal to the one-shot pass (see cpcChunked). Non-finite features are an error.
   */
  forward(wave: WaveInput, opts: OfflineOptions = {}): tf.Tensor3D {
    const where = 'EncoderCPC.forward';
    const chunk = offlineChunkSamples(opts, this.downsampleRatio, where);
    // A long Float32Array is read slice by slice, never copied whole to the backend.
    const host = wave instanceof Float32Array && wave.length > chunk ? checkWave(wave, where) : null;
    const x = host ? null : toWaveTensor(wave, where);
    const [B, T] = host ? [1, host.length] : [x!.shape[0], x!.shape[1]];
    const progress = progressReporter(opts.onProgress, T);
    let y: tf.Tensor3D;
    try {
      this.checkLength(T);
      progress(0);
      if (T <= chunk) {
        const r = this.run(x!, null);
        disposeState(r.state);
        y = r.y;
      } else {
        const read = (a: number, b: number) => (host ? tf.tensor3d(host.subarray(a, b), [1, b - a, 1]) : (tf.slice(x!, [0, a, 0], [-1, b - a, -1]) as tf.Tensor3D));
        const r = cpcForwardChunked(this, T, B, chunk / CPCEncoder.hop, read, progress);
        y = tf.tensor3d(r.data, [B, r.frames, this.outputDim]);
      }
    } finally {
      if (x && x !== wave) x.dispose();
    }
    checkedFeatures(y, where);
    progress(T);
    return y;
  }

  /**
   * One streaming call: `window` (context + new samples) through the encoder from `state` (null = zeros).
   * Returns the features and the next state; the given state is left untouched (the caller disposes it).
   */
  step(window: WaveInput, state: RecurrentState | null): { y: tf.Tensor3D; state: RecurrentState } {
    const x = toWaveTensor(window, 'EncoderCPC.step');
    try {
      this.checkLength(x.shape[1]);
      if (state && state.h.shape[0] !== x.shape[0]) {
        throw new RangeError(`EncoderCPC.step: state has batch ${state.h.shape[0]} but the window has batch ${x.shape[0]}`);
      }
      const H = this.gAR.baseNet.hiddenSize;
      if (state && (state.h.rank !== 2 || state.h.shape[1] !== H || (this.arMode === 'LSTM') !== !!state.c || (state.c && !tf.util.arraysEqual(state.c.shape, state.h.shape)))) {
        throw new RangeError(
          `EncoderCPC.step: state is h [${state.h.shape}]${state.c ? ` c [${state.c.shape}]` : ''}; this ${this.arMode} needs h${this.arMode === 'LSTM' ? ' and c' : ''} of [batch, ${H}]`,
        );
      }
      // On the native TensorFlow backend the whole call runs as one traced function (backend/tfFunction.ts).
      const ins = state ? (state.c ? [x, state.h, state.c] : [x, state.h]) : [x];
      const outs = this.traced.run(state ? 'cpc step' : 'cpc first step', ins, ([w, h, c]) => {
        const r = this.run(w as tf.Tensor3D, h ? { h: h as tf.Tensor2D, ...(c ? { c: c as tf.Tensor2D } : {}) } : null);
        return r.state.c ? [r.y, r.state.h, r.state.c] : [r.y, r.state.h];
      });
      const [y, h, c] = outs as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D | undefined];
      return { y, state: c ? { h, c } : { h } };
    } finally {
      if (x !== window) x.dispose();
    }
  }

  /** A streaming session that keeps the gAR state between calls (upstream keepHidden); the batch comes from each window. */
  stream(_opts: { batch?: number } = {}): CpcStream {
    return new CpcStream(this);
  }

  /** Freezes the CPC encoder (gEncoder + gAR): its variables stop being trainable. The downsample stays trainable. */
  freeze(): void {
    this.setFrozen(true);
  }

  unfreeze(): void {
    this.setFrozen(false);
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  private setFrozen(f: boolean): void {
    this.frozen = f;
    setTrainable(this.encoderVariables(), !f);
  }

  encoderVariables(): tf.Variable[] {
    return [...this.gEncoder.variables(), ...this.gAR.variables()];
  }

  downsampleVariables(): tf.Variable[] {
    return [...this.downsampleConv.variables(), ...this.downsampleNorm.variables()];
  }

  variables(): tf.Variable[] {
    return [...this.encoderVariables(), ...this.downsampleVariables()];
  }

  dispose(): void {
    this.traced.clear();
    this.gAR.baseNet.disposePrepared();
    disposeAll(this.variables());
  }
}

export interface CpcStreamState {
  encoder: 'cpc';
  ar: RecurrentStateData | null;
}

/** A streaming session over EncoderCPC: each `step(window)` continues from the previous call's gAR state. */
export class CpcStream implements EncoderStream {
  private state: RecurrentState | null = null;
  calls = 0;

  constructor(readonly encoder: EncoderCPC) {}

  /** Encodes one window; returns [B, N, 256] (the caller owns it). A failed call leaves the state unchanged. */
  step(window: WaveInput): tf.Tensor3D {
    const { y, state } = this.encoder.step(window, this.state);
    disposeState(this.state);
    this.state = state;
    this.calls++;
    return y;
  }

  /** CPC owes nothing at the end of a stream: an empty [B, 0, dim]. */
  finalize(): tf.Tensor3D {
    return tf.zeros([this.state ? this.state.h.shape[0] : 1, 0, this.encoder.outputDim]);
  }

  /** Back to a zero state (upstream reset_streaming_state). */
  reset(): void {
    disposeState(this.state);
    this.state = null;
    this.calls = 0;
  }

  exportState(): CpcStreamState {
    return { encoder: 'cpc', ar: this.state ? this.encoder.gAR.baseNet.exportState(this.state) : null };
  }

  importState(s: CpcStreamState): void {
    if (!s || s.encoder !== 'cpc') {
      throw new TypeError(`CpcStream.importState: not a CPC stream state (encoder: ${JSON.stringify((s as { encoder?: unknown })?.encoder)})`);
    }
    if (s.ar) validateRecurrentState(s.ar, this.encoder.arMode, this.encoder.gAR.baseNet.hiddenSize, 'CpcStream.importState: ar.');
    const next = s.ar ? this.encoder.gAR.baseNet.importState(s.ar) : null;
    disposeState(this.state);
    this.state = next;
  }

  dispose(): void {
    disposeState(this.state);
    this.state = null;
  }
}
