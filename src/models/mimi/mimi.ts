/**
 * The Mimi encoder path as MaAI uses it: SEANet (24 kHz -> 25 Hz) -> encoder transformer -> downsample
 * (Conv1d k4 s2, 'replicate' padding offline) -> 12.5 Hz. Offline `forward` on a whole signal; streaming
 * `step(chunk, state)` with explicit state: one padding cache per conv (15), per-layer keys and values in a
 * static sliding-window buffer, and the absolute position (frames the transformer has seen).
 */
import { pyRound } from '../../util/pyRound';
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../../util/tidy';
import { CausalConv1d } from '../../layers/causalConv1d';
import { MimiTransformer } from './transformer';
import { KVLayerState, StaticSlidingWindowCache } from '../../layers/kvCache';
import { disposeAll } from '../../layers/param';
import { WeightStore } from '../../weights/store';
import { RawTensor } from '../../weights/types';
import { MimiConfig, downsampleKernel, downsampleStride, mimiFrameSize } from './mimiConfig';
import { SeanetEncoder } from './seanet';
import { TracedSteps } from '../../backend/tfFunction';
import { firstNonFinite } from '../../util/finite';
import { FlatState, contractPositions, flatStateEntries, flatStatePosition, onnxPadCacheName, onnxPastName, rotateSlots } from './onnxContract';

/** MaAI's static KV cache length for a frame rate: mimi_sliding_cache_len + 1 = max(1, round(20 * fps) - 1) + 1. */
export function mimiSlidingCacheLen(frameHz: number): number {
  return Math.max(1, pyRound(20 * frameHz) - 1);
}

export function mimiEncoderStaticCacheMaxLen(frameHz: number): number {
  return mimiSlidingCacheLen(frameHz) + 1;
}

export { pyRound };

/** The largest transformer position a state may hold: 2^31 - 1 frames, 2.7 years at 25 Hz (beyond, a tampered state). */
export const MAX_CACHE_POSITION = 2 ** 31 - 1;

export interface MimiState {
  /** Padding caches [B, P, C] in upstream order: 14 SEANet convs, then the downsample. */
  padCaches: tf.Tensor3D[];
  /** Per transformer layer: [B, H, capacity, D]. */
  kv: KVLayerState[];
  /** Absolute position of the next transformer frame (upstream cumulative_length_int / pos_next). */
  position: number;
  batch: number;
}

export interface MimiCoreOutputs {
  seanet: tf.Tensor3D;
  transformer: tf.Tensor3D;
  downsample: tf.Tensor3D;
}

export class MimiModel {
  readonly kvCache: StaticSlidingWindowCache;
  /** The streaming step's parts as TensorFlow functions (native backend only; see backend/tfFunction.ts). */
  readonly traced = new TracedSteps();

  constructor(
    readonly config: MimiConfig,
    readonly encoder: SeanetEncoder,
    readonly encoderTransformer: MimiTransformer,
    readonly downsample: CausalConv1d,
    /** Static KV cache length (MaAI: 250); the buffer holds min(sliding_window, this) frames. */
    readonly maxCacheLen = mimiEncoderStaticCacheMaxLen(12.5),
  ) {
    this.kvCache = new StaticSlidingWindowCache(Math.min(config.sliding_window, maxCacheLen));
  }

  static load(store: WeightStore, config: MimiConfig, opts: { maxCacheLen?: number } = {}): MimiModel {
    const H = config.hidden_size;
    return new MimiModel(
      config,
      SeanetEncoder.load(store, config, 'encoder'),
      MimiTransformer.load(store, config, 'encoder_transformer'),
      CausalConv1d.load(store, 'downsample.conv', {
        inChannels: H,
        outChannels: H,
        kernelSize: downsampleKernel(config),
        stride: downsampleStride(config),
        bias: false,
        padMode: 'replicate',
      }),
      opts.maxCacheLen,
    );
  }

  /** Samples per 12.5 Hz frame (1920). */
  get frameSize(): number {
    return mimiFrameSize(this.config);
  }

  /** All convs with a padding cache, in upstream order (the downsample last). */
  get cachedConvs(): CausalConv1d[] {
    return [...this.encoder.convs.map((c) => c.conv), this.downsample];
  }

  /** Offline: wave [B, T, 1] at 24 kHz -> every stage ([B, T', C] channels-last). */
  forwardAll(wave: tf.Tensor3D): MimiCoreOutputs {
    return tf.tidy(() => {
      const seanet = this.encoder.forward(wave);
      const transformer = this.encoderTransformer.forward(seanet);
      const downsample = this.downsample.forward(transformer);
      return { seanet, transformer, downsample };
    });
  }

  /** Offline: wave [B, T, 1] at 24 kHz -> [B, ceil(T/1920), hidden] at 12.5 Hz. */
  forward(wave: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.downsample.forward(this.encoderTransformer.forward(this.encoder.forward(wave))));
  }

  /** The state MaAI starts a stream with: every padding cache zeros (downsample included), empty KV buffers. */
  initialState(batch = 1): MimiState {
    const c = this.config;
    return {
      padCaches: this.cachedConvs.map((conv) => conv.zeroCache(batch)),
      kv: this.encoderTransformer.layers.map(() => this.kvCache.empty(batch, c.num_attention_heads, c.head_dim)),
      position: 0,
      batch,
    };
  }

  /**
   * One streaming call: chunk [B, T, 1] at 24 kHz (MaAI: 1920 per 12.5 Hz frame; other lengths are processed
   * as upstream does, the strided convs emitting floor() frames and the caches carrying the rest).
   * Returns [B, N, hidden] and the next state; the given state is not modified or disposed. `kvCache`: the KV
   * buffer geometry (default MaAI's static cache; the chunked offline pass gives one as wide as the window).
   */
  step(chunk: tf.Tensor3D, state: MimiState, kvCache: StaticSlidingWindowCache = this.kvCache): { y: tf.Tensor3D; state: MimiState } {
    if (chunk.shape[0] !== state.batch) throw new RangeError(`Mimi step: chunk batch ${chunk.shape[0]} != state batch ${state.batch}`);
    return tidyTyped<{ y: tf.Tensor3D; state: MimiState }>(() => {
      const nEnc = this.encoder.convs.length;
      // On the native TensorFlow backend each part runs as one traced function (backend/tfFunction.ts); the
      // attention's fused q/k/v copies are made current first, and the key says which projection path runs.
      const fused = this.encoderTransformer.layers.map((l) => (l.selfAttn.usesFusedQkv() ? 1 : 0)).join('');
      const [seanet, ...encCaches] = this.traced.run('seanet', [chunk, ...state.padCaches.slice(0, nEnc)], ([x, ...caches]) => {
        const s = this.encoder.step(x as tf.Tensor3D, caches as tf.Tensor3D[]);
        return [s.y, ...s.caches];
      });
      const n = (seanet as tf.Tensor3D).shape[1];
      const ctx = this.encoderTransformer.stepContext(state.position, n, kvCache);
      const L = state.kv.length;
      // Inputs: SEANet frames, the host-made context of this call (RoPE tables, mask, KV gather indices), the KV
      // buffers and the downsample's cache. Every call runs the same ops (see layers/kvCache.ts).
      const ins = [seanet, ctx.cos, ctx.sin, ctx.mask, ctx.kv!.keep, ...state.kv.flatMap((s) => [s.keys, s.values]), state.padCaches[nEnc]];
      const [y, dCache, ...kvFlat] = this.traced.run(`transformer+downsample ${fused}`, ins, ([x, cos, sin, mask, kvKeep, ...rest]) => {
        const kv = Array.from({ length: L }, (_, i) => ({ keys: rest[2 * i] as tf.Tensor4D, values: rest[2 * i + 1] as tf.Tensor4D }));
        const c = { ...ctx, cos: cos as tf.Tensor2D, sin: sin as tf.Tensor2D, mask: mask as tf.Tensor2D, kv: { span: ctx.kv!.span, keep: kvKeep as tf.Tensor1D } };
        const t = this.encoderTransformer.step(x as tf.Tensor3D, state.position, kvCache, kv, c);
        const d = this.downsample.step(t.y, rest[2 * L] as tf.Tensor3D);
        return [d.y, d.cache, ...t.states.flatMap((s) => [s.keys, s.values])];
      });
      const kv = Array.from({ length: L }, (_, i) => ({ keys: kvFlat[2 * i] as tf.Tensor4D, values: kvFlat[2 * i + 1] as tf.Tensor4D }));
      const next: MimiState = { padCaches: [...(encCaches as tf.Tensor3D[]), dCache as tf.Tensor3D], kv, position: state.position + n, batch: state.batch };
      return { y: y as tf.Tensor3D, state: next };
    });
  }

  /** Transformer tokens per call of N Mimi frames: the contract's cache_position_len (2 N). */
  tokensPerCall(framesPerCall = 1): number {
    return downsampleStride(this.config) * framesPerCall;
  }

  /**
   * The state in MaAI's ONNX contract form (onnxContract.ts), in input order: cache_position, position_ids
   * (I64 [2 N]), pad_cache_i F32 [B, C_in, P], past_j F32 [B, H, max_past_len, D] in ring order.
   */
  exportState(state: MimiState, opts: { framesPerCall?: number } = {}): Array<[string, RawTensor]> {
    const W = this.kvCache.capacity;
    const len = this.tokensPerCall(opts.framesPerCall ?? 1);
    const { cachePosition, positionIds } = contractPositions(state.position, len, W);
    const out: Array<[string, RawTensor]> = [
      ['cache_position', { dtype: 'I64', shape: [len], data: cachePosition }],
      ['position_ids', { dtype: 'I64', shape: [len], data: positionIds }],
    ];
    state.padCaches.forEach((c, i) => {
      const t = tf.tidy(() => tf.transpose(c, [0, 2, 1]));
      out.push([onnxPadCacheName(i), { dtype: 'F32', shape: t.shape, data: t.dataSync() as Float32Array }]);
      t.dispose();
    });
    // Sliding-window order -> ring order (slot p % W holds position p) once the buffer has wrapped.
    const by = state.position >= W ? state.position % W : 0;
    state.kv.forEach((l, i) => {
      for (const [j, t] of [[2 * i, l.keys], [2 * i + 1, l.values]] as const) {
        const [B, H, , D] = t.shape;
        out.push([onnxPastName(j), { dtype: 'F32', shape: t.shape, data: rotateSlots(t.dataSync() as Float32Array, B * H, W, D, by) }]);
      }
    });
    return out;
  }

  /**
   * Inverse of exportState; also takes what an ONNX Runtime session returns (pad_cache_out_i, past_out_j,
   * cache_position_out; then `position`, MaAI's position_ids counter, must be given). Checks every name, dtype
   * and shape against this model; nothing is created on error.
   */
  importState(flat: FlatState, opts: { position?: number } = {}): MimiState {
    const where = 'Mimi state';
    const entries = flatStateEntries(flat, where);
    const m = entries.m;
    const convs = this.cachedConvs;
    const L = this.encoderTransformer.layers.length;
    const W = this.kvCache.capacity;
    const need = [...convs.map((_, i) => onnxPadCacheName(i)), ...Array.from({ length: 2 * L }, (_, j) => onnxPastName(j))];
    for (const n of need) if (!m.has(n)) throw new RangeError(`${where}: missing "${n}" (a Mimi state has ${need.length} tensors besides the positions)`);
    const known = new Set([...need, 'cache_position', 'position_ids']);
    const extra = [...m.keys()].filter((k) => !known.has(k));
    if (extra.length) throw new RangeError(`${where}: unexpected entries ${extra.join(', ')} (a state of another encoder or config?)`);
    const position = flatStatePosition(entries, W, opts.position, where);
    if (position > MAX_CACHE_POSITION) throw new RangeError(`${where}: position ${position} is past ${MAX_CACHE_POSITION} (2^31 - 1 frames, 2.7 years at 25 Hz)`);
    const batch = m.get(onnxPadCacheName(0))!.shape[0];
    const c = this.config;
    const check = (name: string, want: number[]) => {
      const t = m.get(name)!;
      if (t.dtype !== 'F32' || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new RangeError(`${where}: "${name}" is ${t.dtype} [${t.shape}], expected F32 [${want}]`);
      }
      const bad = firstNonFinite(t.data as Float32Array);
      if (bad >= 0) throw new RangeError(`${where}: "${name}" value ${bad} is ${t.data[bad]}; a state must be finite`);
      return t.data as Float32Array;
    };
    // Every check before any tensor is made.
    const kvShape = [batch, c.num_attention_heads, W, c.head_dim] as [number, number, number, number];
    /** Before `position` frames fill the buffer, the slots not yet written hold zeros (as the cache starts). */
    const checkUnwritten = (name: string, d: Float32Array): Float32Array => {
      if (position >= W) return d;
      const [B, H, , D] = kvShape;
      for (let r = 0; r < B * H; r++) {
        for (let i = (r * W + position) * D; i < (r + 1) * W * D; i++) {
          if (d[i] !== 0) {
            throw new RangeError(`${where}: "${name}" holds data in slot ${Math.floor(i / D) % W}, past position ${position}: the position does not match the cache`);
          }
        }
      }
      return d;
    };
    const pads = convs.map((conv, i) => check(onnxPadCacheName(i), [batch, conv.inChannels, conv.paddingTotal]));
    const by = position >= W ? W - (position % W) : 0;
    const pasts = Array.from({ length: 2 * L }, (_, j) => rotateSlots(checkUnwritten(onnxPastName(j), check(onnxPastName(j), kvShape)), batch * c.num_attention_heads, W, c.head_dim, by));
    const padCaches = convs.map((conv, i) => tidyTyped(() => tf.transpose(tf.tensor3d(pads[i], [batch, conv.inChannels, conv.paddingTotal]), [0, 2, 1])));
    const kv = Array.from({ length: L }, (_, i) => ({ keys: tf.tensor4d(pasts[2 * i], kvShape), values: tf.tensor4d(pasts[2 * i + 1], kvShape) }));
    return { padCaches, kv, position, batch };
  }

  variables(): tf.Variable[] {
    return [...this.encoder.variables(), ...this.encoderTransformer.variables(), ...this.downsample.variables()];
  }

  dispose(): void {
    this.traced.clear();
    disposeAll(this.variables());
    for (const l of this.encoderTransformer.layers) l.selfAttn.disposeFused();
  }
}

export function disposeMimiState(s: MimiState | null | undefined): void {
  if (!s) return;
  for (const t of s.padCaches) t.dispose();
  for (const l of s.kv) {
    l.keys.dispose();
    l.values.dispose();
  }
}
