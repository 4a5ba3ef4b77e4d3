/**
 * MaAI's realtime class (Maai.process) for the 'vap' model: two 16 kHz channels arrive in chunks of any size; each
 * channel has a buffer that starts with `contextSamples` zeros, and whenever both hold context + N frames' worth of
 * new samples (N = inferenceChunkFrames, round(16000 / frame_hz) samples per frame, Python rounding), both windows
 * go through the encoders (one state per channel), the VAP model steps with its KV cache (trimmed to context - 1
 * frames) and the last frame's {p_now, p_future, vad, p_bins_*} is published. The buffers keep their last
 * `contextSamples` samples. State export/import is plain data and continues identically.
 */
import * as tf from '@tensorflow/tfjs-core';
import { VapEncoder } from '../models/vap/vapEncoder';
import { VapGPT, VAP_OUTPUT_NAMES, disposeOutput } from '../models/vap/vapModel';
import { VapCache, disposeCache, cacheLength } from '../models/vap/vapCache';
import { RawTensor } from '../weights/types';
import { assertFinite } from '../util/finite';
import { pyRound } from '../util/pyRound';
import { concatRows } from '../util/concat';
import { RealtimeBuffer } from './realtimeLoop';
import type { AudioEncoder, EncoderStream, EncoderStreamState } from './types';

export interface MaaiOptions {
  /** Frames per VAP step (Maai's inference_chunk_frames; 1 by default). Every frame is computed, the last published. */
  inferenceChunkFrames?: number;
  /** Left context kept in each channel's buffer (320). */
  contextSamples?: number;
  /** Also return every intermediate tensor of every frame of a step (for parity checks). */
  detail?: boolean;
  /** Maai's ONNX Mimi path drops the first encoder output (no VAP step for it); the PyTorch path does not. Default false. */
  dropFirstEncoderOutput?: boolean;
}

/** One published result (the last frame of a step). */
export interface VapResult {
  /** Step index (0-based) and the input position per channel (samples) at which the step ran. */
  step: number;
  endSample: number;
  pNow: [number, number];
  pFuture: [number, number];
  vad: [number, number];
  pBinsNow: [number, number];
  pBinsFuture: [number, number];
  /** With `detail`: every tensor of the step by upstream name, [N, ...] (all N frames), batch dropped. */
  detail?: Record<string, { shape: number[]; data: Float32Array }>;
  /** With `detail`: the cache length after the trim. */
  cacheLength?: number;
}

export interface MaaiState {
  kind: 'maai-vap';
  encoder: 'cpc' | 'mimi';
  frameHz: number;
  inferenceChunkFrames: number;
  contextSamples: number;
  /** The two channel buffers (context + pending samples). */
  buffers: [Float32Array, Float32Array];
  /** Both channels' encoder state (rows 0 and 1 of one batch). */
  encoderState: EncoderStreamState;
  /** The VAP KV cache (`${key}.${layer}.${k|v}` -> [1, heads, P, headDim]); null before the first step. */
  vapCache: Array<[string, RawTensor]> | null;
  steps: number;
  encoderOutputs: number;
  /** Input samples per channel seen so far (for `endSample`). */
  samplesSeen: number;
}

export class Maai {
  readonly inferenceChunkFrames: number;
  readonly contextSamples: number;
  /** Samples per VAP frame (round(16000 / frame_hz)). */
  readonly frameSamples: number;
  readonly window: number;
  private buffers!: [RealtimeBuffer, RealtimeBuffer];
  private stream!: EncoderStream;
  private cache: VapCache | null = null;
  private readonly opts: MaaiOptions;
  /** VAP steps run, encoder outputs seen, input samples per channel. */
  steps = 0;
  encoderOutputs = 0;
  /** Encoder calls that returned no frame (the step was skipped, as Maai does with a warning). */
  skipped = 0;
  private consumed = 0;

  constructor(readonly vap: VapGPT, readonly encoder: VapEncoder, opts: MaaiOptions = {}) {
    const n = opts.inferenceChunkFrames ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Maai: inferenceChunkFrames must be a positive integer, got ${n}`);
    if (n > 1 && encoder.type === 'cpc') throw new RangeError('Maai: inferenceChunkFrames > 1 needs the Mimi encoder (a CPC window yields one frame)');
    this.inferenceChunkFrames = n;
    this.contextSamples = opts.contextSamples ?? 320;
    // The encoder checks that it can stream with this context (Mimi's is fixed at load).
    encoder.encoder.callWindow({ callHz: vap.config.frameHz / n, context: this.contextSamples });
    if (Math.abs(encoder.frameHz - vap.config.frameHz) > 1e-9) throw new RangeError(`Maai: encoder at ${encoder.frameHz} Hz, VAP model at ${vap.config.frameHz} Hz`);
    this.frameSamples = pyRound(16000 / vap.config.frameHz);
    this.window = this.contextSamples + this.frameSamples * n;
    this.opts = { ...opts };
    this.fresh();
  }

  private fresh(): void {
    this.buffers = [new RealtimeBuffer(this.window, this.contextSamples), new RealtimeBuffer(this.window, this.contextSamples)];
    this.stream = (this.encoder.encoder as AudioEncoder).stream({ batch: 2 });
    this.cache = null;
    this.steps = 0;
    this.encoderOutputs = 0;
    this.skipped = 0;
    this.consumed = 0;
  }

  /**
   * Appends samples of both channels (equal lengths) and runs every step they complete.
   * Returns the published results (maybe none).
   */
  process(x1: Float32Array, x2: Float32Array): VapResult[] {
    for (const [n, x] of [['x1', x1], ['x2', x2]] as const) {
      if (!(x instanceof Float32Array)) throw new TypeError(`Maai.process: ${n} must be a Float32Array of 16 kHz samples`);
      assertFinite(x, `Maai.process ${n}`);
    }
    if (x1.length !== x2.length) throw new RangeError(`Maai.process: channels have ${x1.length} and ${x2.length} samples; give both channels the same number`);
    const out: VapResult[] = [];
    this.buffers[0].append(x1);
    this.buffers[1].append(x2);
    this.consumed += x1.length;
    for (let w1 = this.buffers[0].peek(), w2 = this.buffers[1].peek(); w1 && w2; w1 = this.buffers[0].peek(), w2 = this.buffers[1].peek()) {
      // The end of this window, in input samples (pending samples beyond it are still in the buffer).
      const end = this.consumed - (this.buffers[0].length - this.window);
      const r = this.step(w1, w2, end);
      this.buffers[0].advance();
      this.buffers[1].advance();
      if (r) out.push(r);
    }
    return out;
  }

  /** Both windows as one batch of two rows through the stream (one state per row). */
  private encode(w1: Float32Array, w2: Float32Array): tf.Tensor3D {
    const x = tf.tensor2d(concatRows([w1, w2]), [2, w1.length]);
    try {
      return this.stream.step(x);
    } finally {
      x.dispose();
    }
  }

  private step(w1: Float32Array, w2: Float32Array, endSample: number): VapResult | null {
    const e = this.encode(w1, w2);
    const frames = e.shape[1];
    const first = this.encoderOutputs === 0;
    if (frames > 0) this.encoderOutputs++;
    if (frames === 0 || (first && this.opts.dropFirstEncoderOutput)) {
      if (frames === 0) this.skipped++;
      e.dispose();
      return null;
    }
    const [x1, x2] = tf.tidy(() => {
      const x = this.encoder.adapt(e);
      return tf.split(x, 2, 0) as [tf.Tensor3D, tf.Tensor3D];
    });
    let r: ReturnType<VapGPT['step']>;
    try {
      r = this.vap.step(x1, x2, this.cache);
    } catch (err) {
      tf.dispose([e, x1, x2]);
      throw err;
    }
    disposeCache(this.cache);
    this.cache = r.cache;
    const o = r.out;
    const last = (t: tf.Tensor): [number, number] => {
      const d = t.dataSync();
      return [d[d.length - 2], d[d.length - 1]];
    };
    const res: VapResult = {
      step: this.steps++,
      endSample,
      pNow: last(o.pNow),
      pFuture: last(o.pFuture),
      vad: last(o.vad),
      pBinsNow: last(o.pBinsNow),
      pBinsFuture: last(o.pBinsFuture),
    };
    if (this.opts.detail) {
      const d: Record<string, { shape: number[]; data: Float32Array }> = {};
      const put = (name: string, t: tf.Tensor) => (d[name] = { shape: t.shape.slice(1), data: (t.dataSync() as Float32Array).slice() });
      put('x1', x1);
      put('x2', x2);
      if (this.encoder.type === 'mimi') {
        const [e1, e2] = tf.split(e, 2, 0);
        put('enc1', e1);
        put('enc2', e2);
        tf.dispose([e1, e2]);
      }
      for (const [k, name] of VAP_OUTPUT_NAMES) put(name, o[k]);
      res.detail = d;
      res.cacheLength = cacheLength(this.cache);
    }
    disposeOutput(o);
    tf.dispose([e, x1, x2]);
    return res;
  }

  /** Back to the initial state: zero-context buffers, fresh encoder state, empty VAP cache. */
  reset(): void {
    this.stream.dispose();
    disposeCache(this.cache);
    this.fresh();
  }

  exportState(): MaaiState {
    return {
      kind: 'maai-vap',
      encoder: this.encoder.type,
      frameHz: this.vap.config.frameHz,
      inferenceChunkFrames: this.inferenceChunkFrames,
      contextSamples: this.contextSamples,
      buffers: [this.buffers[0].contents(), this.buffers[1].contents()],
      encoderState: this.stream.exportState(),
      vapCache: this.cache ? this.vap.exportCache(this.cache) : null,
      steps: this.steps,
      encoderOutputs: this.encoderOutputs,
      samplesSeen: this.consumed,
    };
  }

  /** Continues from an exported state (checked first; on error nothing changes). */
  importState(s: MaaiState): void {
    if (!s || s.kind !== 'maai-vap') throw new TypeError('Maai.importState: not a Maai VAP state (kind must be "maai-vap")');
    const mine = { encoder: this.encoder.type, frameHz: this.vap.config.frameHz, inferenceChunkFrames: this.inferenceChunkFrames, contextSamples: this.contextSamples };
    for (const [k, v] of Object.entries(mine)) {
      if ((s as unknown as Record<string, unknown>)[k] !== v) throw new RangeError(`Maai.importState: state has ${k} ${JSON.stringify((s as unknown as Record<string, unknown>)[k])}, this pipeline has ${JSON.stringify(v)}`);
    }
    if (!Array.isArray(s.buffers) || s.buffers.length !== 2) throw new RangeError('Maai.importState: buffers must hold the two channels');
    const bufs = s.buffers.map((b, i) => {
      const rb = new RealtimeBuffer(this.window, this.contextSamples);
      if (Object.prototype.toString.call(b) !== '[object Float32Array]') throw new RangeError(`Maai.importState: buffers[${i}] must be a Float32Array`);
      assertFinite(b, `Maai.importState buffers[${i}]`);
      rb.restore(b);
      return rb;
    }) as [RealtimeBuffer, RealtimeBuffer];
    if (bufs[0].length !== bufs[1].length) throw new RangeError('Maai.importState: the two buffers hold different numbers of samples');
    for (const [k, v] of [['steps', s.steps], ['encoderOutputs', s.encoderOutputs], ['samplesSeen', s.samplesSeen]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`Maai.importState: ${k} must be a non-negative integer`);
    }
    const cache = s.vapCache ? this.vap.importCache(s.vapCache) : null;
    const stream = (this.encoder.encoder as AudioEncoder).stream({ batch: 2 });
    try {
      stream.importState(s.encoderState);
    } catch (e) {
      stream.dispose();
      disposeCache(cache);
      throw e;
    }
    this.stream.dispose();
    disposeCache(this.cache);
    this.stream = stream;
    this.cache = cache;
    this.buffers = bufs;
    this.steps = s.steps;
    this.encoderOutputs = s.encoderOutputs;
    this.consumed = s.samplesSeen;
  }

  /** Frames in the VAP cache. */
  get cacheLength(): number {
    return cacheLength(this.cache);
  }

  dispose(): void {
    this.stream.dispose();
    disposeCache(this.cache);
    this.cache = null;
  }
}
