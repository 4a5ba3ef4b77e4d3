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
import { firstNonFinite } from '../../util/finite';

/** MaAI's static KV cache length for a frame rate: mimi_sliding_cache_len + 1 = max(1, round(20 * fps) - 1) + 1. */
export function mimiSlidingCacheLen(frameHz: number): number {
  return Math.max(1, pyRound(20 * frameHz) - 1);
}

export function mimiEncoderStaticCacheMaxLen(frameHz: number): number {
  return mimiSlidingCacheLen(frameHz) + 1;
}

export { pyRound };

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
   * Returns [B, N, hidden] and the next state; the given state is not modified or disposed.
   */
  step(chunk: tf.Tensor3D, state: MimiState): { y: tf.Tensor3D; state: MimiState } {
    if (chunk.shape[0] !== state.batch) throw new RangeError(`Mimi step: chunk batch ${chunk.shape[0]} != state batch ${state.batch}`);
    return tidyTyped<{ y: tf.Tensor3D; state: MimiState }>(() => {
      const nEnc = this.encoder.convs.length;
      const s = this.encoder.step(chunk, state.padCaches.slice(0, nEnc));
      const n = s.y.shape[1];
      const t = this.encoderTransformer.step(s.y, state.position, this.kvCache, state.kv);
      const d = this.downsample.step(t.y, state.padCaches[nEnc]);
      const next: MimiState = { padCaches: [...s.caches, d.cache], kv: t.states, position: state.position + n, batch: state.batch };
      return { y: d.y, state: next };
    });
  }

  /** Flat state in MaAI's ONNX contract order: pad_cache_i [B, C_in, P], past_{2l}/past_{2l+1} = K/V, cache_position. */
  exportState(state: MimiState): Array<[string, RawTensor]> {
    const out: Array<[string, RawTensor]> = [];
    state.padCaches.forEach((c, i) => {
      const t = tf.tidy(() => tf.transpose(c, [0, 2, 1]));
      out.push([`pad_cache_${i}`, { dtype: 'F32', shape: t.shape, data: t.dataSync() as Float32Array }]);
      t.dispose();
    });
    state.kv.forEach((l, i) => {
      out.push([`past_${2 * i}`, { dtype: 'F32', shape: l.keys.shape, data: l.keys.dataSync() as Float32Array }]);
      out.push([`past_${2 * i + 1}`, { dtype: 'F32', shape: l.values.shape, data: l.values.dataSync() as Float32Array }]);
    });
    out.push(['cache_position', { dtype: 'I64', shape: [], data: BigInt64Array.from([BigInt(state.position)]) }]);
    return out;
  }

  /** Inverse of exportState; checks every name and shape against this model. */
  importState(flat: Array<[string, RawTensor]> | Map<string, RawTensor>): MimiState {
    if (!(flat instanceof Map) && !Array.isArray(flat)) {
      const tag = (flat as { encoder?: unknown } | null)?.encoder;
      throw new TypeError(`Mimi state: expected the flat core state (an array of [name, tensor] pairs or a Map)${tag !== undefined ? `, got a ${JSON.stringify(tag)} stream state` : `, got ${flat === null ? 'null' : typeof flat}`}`);
    }
    const m = flat instanceof Map ? flat : new Map(flat);
    const convs = this.cachedConvs;
    const L = this.encoderTransformer.layers.length;
    const need = [...convs.map((_, i) => `pad_cache_${i}`), ...Array.from({ length: 2 * L }, (_, j) => `past_${j}`), 'cache_position'];
    for (const n of need) if (!m.has(n)) throw new RangeError(`Mimi state: missing "${n}" (a Mimi state has ${need.length} entries)`);
    const extra = [...m.keys()].filter((k) => !need.includes(k));
    if (extra.length) throw new RangeError(`Mimi state: unexpected entries ${extra.join(', ')} (a state of another encoder or config?)`);
    const batch = m.get('pad_cache_0')!.shape[0];
    const c = this.config;
    const check = (name: string, want: number[]) => {
      const t = m.get(name)!;
      if (t.dtype !== 'F32' || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new RangeError(`Mimi state: "${name}" is ${t.dtype} [${t.shape}], expected F32 [${want}]`);
      }
      const bad = firstNonFinite(t.data as Float32Array);
      if (bad >= 0) throw new RangeError(`Mimi state: "${name}" value ${bad} is ${t.data[bad]}; a state must be finite`);
      return t.data as Float32Array;
    };
    const created: tf.Tensor[] = [];
    try {
      const padCaches = convs.map((conv, i) => {
        const d = check(`pad_cache_${i}`, [batch, conv.inChannels, conv.paddingTotal]);
        const t = tf.tidy(() => tf.transpose(tf.tensor3d(d, [batch, conv.inChannels, conv.paddingTotal]), [0, 2, 1]) as tf.Tensor3D);
        created.push(t);
        return t;
      });
      const kvShape = [batch, c.num_attention_heads, this.kvCache.capacity, c.head_dim] as [number, number, number, number];
      const kv = Array.from({ length: L }, (_, i) => {
        const keys = tf.tensor4d(check(`past_${2 * i}`, kvShape), kvShape);
        created.push(keys); // before the values are checked: a bad past_{2i+1} must not leak the keys
        const values = tf.tensor4d(check(`past_${2 * i + 1}`, kvShape), kvShape);
        created.push(values);
        return { keys, values };
      });
      const pos = m.get('cache_position')!;
      if (pos.data.length !== 1) throw new RangeError('Mimi state: "cache_position" must hold one value');
      const position = Number(pos.data[0]);
      if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`Mimi state: cache_position ${position} is not a non-negative integer`);
      return { padCaches, kv, position, batch };
    } catch (e) {
      for (const t of created) t.dispose();
      throw e;
    }
  }

  variables(): tf.Variable[] {
    return [...this.encoder.variables(), ...this.encoderTransformer.variables(), ...this.downsample.variables()];
  }

  dispose(): void {
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
