/**
 * Mimi self-attention (MHA, no biases): q/k/v projections, RoPE on q and k, scores scaled by 1/sqrt(head_dim),
 * an additive causal sliding-window mask (built once per call by the transformer, shared by its layers), softmax,
 * output projection. Offline it attends within the sequence; streaming it goes through a StaticSlidingWindowCache.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../util/tidy';
import { Linear } from './linear';
import { RotaryEmbedding } from './rope';
import { KVLayerState, KVSpan, StaticSlidingWindowCache } from './kvCache';
import { Module } from './param';
import { WeightStore } from '../weights/store';

/** Additive mask [Lq, Lk] over keys at absolute `positions` (-1 = hidden): 0 where allowed, -Infinity elsewhere. */
export function slidingWindowMaskAt(qStart: number, qLen: number, positions: ArrayLike<number>, window: number): tf.Tensor2D {
  const kvLen = positions.length;
  const m = new Float32Array(qLen * kvLen);
  for (let i = 0; i < qLen; i++) {
    const q = qStart + i;
    for (let j = 0; j < kvLen; j++) {
      const k = positions[j];
      m[i * kvLen + j] = k >= 0 && k <= q && k > q - window ? 0 : -Infinity;
    }
  }
  return tf.tensor2d(m, [qLen, kvLen]);
}

/** The mask over keys at consecutive positions kvStart .. kvStart+kvLen-1 (softmax turns -Infinity into exact 0). */
export function slidingWindowMask(qStart: number, qLen: number, kvStart: number, kvLen: number, window: number): tf.Tensor2D {
  return slidingWindowMaskAt(qStart, qLen, Int32Array.from({ length: kvLen }, (_, j) => kvStart + j), window);
}

/** What every layer's attention needs for one call: RoPE tables and the additive mask over the attended keys. */
export interface AttentionContext {
  rope: RotaryEmbedding;
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
  mask: tf.Tensor2D;
  /** Streaming: the KV span of this call and its `keep` vector as an int32 tensor (see layers/kvCache). */
  kv?: { span: KVSpan; keep: tf.Tensor1D };
}

export class MimiAttention implements Module {
  readonly scaling: number;

  constructor(
    readonly qProj: Linear,
    readonly kProj: Linear,
    readonly vProj: Linear,
    readonly oProj: Linear,
    readonly heads: number,
    readonly headDim: number,
  ) {
    this.scaling = 1 / Math.sqrt(headDim);
    this.fusedQkv();
  }

  /** The q, k, v weights side by side and the weight tensors it was made from (rebuilt when they change). */
  private fused: { t: tf.Tensor2D; from: object[] } | null = null;

  /**
   * [hidden, 3 * inner]: the q, k, v weights side by side, for one matmul per call (an inference copy). Made at
   * load; made again if a projection's weights were replaced since (assign() gives a variable new data), so a
   * model trained and frozen again never runs on a stale copy.
   */
  private fusedQkv(): tf.Tensor2D {
    const from = [this.qProj.weightT.dataId, this.kProj.weightT.dataId, this.vProj.weightT.dataId];
    if (!this.fused || this.fused.from.some((d, i) => d !== from[i])) {
      this.fused?.t.dispose();
      this.fused = { t: tf.keep(tf.concat([this.qProj.weightT, this.kProj.weightT, this.vProj.weightT], 1)) as tf.Tensor2D, from };
    }
    return this.fused.t;
  }

  static load(store: WeightStore, prefix: string, hidden: number, heads: number, headDim: number): MimiAttention {
    const inner = heads * headDim;
    return new MimiAttention(
      Linear.load(store, `${prefix}.q_proj`, hidden, inner),
      Linear.load(store, `${prefix}.k_proj`, hidden, inner),
      Linear.load(store, `${prefix}.v_proj`, hidden, inner),
      Linear.load(store, `${prefix}.o_proj`, inner, hidden),
      heads,
      headDim,
    );
  }

  private attend(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D): tf.Tensor3D {
    const [B, , L] = q.shape;
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), this.scaling), mask);
    const probs = tf.softmax(scores, -1);
    const out = tf.matMul(probs, v); // [B, H, L, D]
    return this.oProj.forward(tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B, L, this.heads * this.headDim]) as tf.Tensor3D);
  }

  /**
   * x: [B, L, hidden] (its positions are in `ctx`'s RoPE tables and mask); `ctx` holds the RoPE tables and the additive mask
   * of this call, shared by all layers. Without a cache the sequence attends to itself; with one, keys/values go
   * through it and the next cache state is returned.
   */
  forward(x: tf.Tensor3D, ctx: AttentionContext, cache?: { kv: StaticSlidingWindowCache; state: KVLayerState }): { y: tf.Tensor3D; next?: KVLayerState } {
    return tidyTyped<{ y: tf.Tensor3D; next?: KVLayerState }>(() => {
      const [B, L, C] = x.shape;
      const H = this.heads;
      let qkv: tf.Tensor;
      if (this.qProj.weightT.trainable || this.kProj.weightT.trainable || this.vProj.weightT.trainable) {
        // Training: through the variables, so gradients reach them.
        qkv = tf.concat([this.qProj.forward(x), this.kProj.forward(x), this.vProj.forward(x)], 2);
      } else {
        // Inference: q, k and v in one matmul against the projections' weights concatenated at load.
        qkv = tf.matMul(tf.reshape(x, [-1, C]), this.fusedQkv());
      }
      // [B, L, 3H, D] -> [B, 3H, L, D]: q, k and v heads in one transpose; RoPE on q and k heads together.
      const heads = tf.transpose(tf.reshape(qkv, [B, L, 3 * H, this.headDim]), [0, 2, 1, 3]) as tf.Tensor4D;
      const [qk, v] = tf.split(heads, [2 * H, H], 1) as [tf.Tensor4D, tf.Tensor4D];
      const [q, k] = tf.split(ctx.rope.apply(qk, ctx.cos, ctx.sin), 2, 1) as [tf.Tensor4D, tf.Tensor4D];
      if (!cache) return { y: this.attend(q, k, v, ctx.mask) };
      if (!ctx.kv) throw new Error('MimiAttention: a cached call needs ctx.kv (MimiTransformer.stepContext)');
      const u = cache.kv.update(cache.state, k, v, ctx.kv.span, ctx.kv.keep);
      return { y: this.attend(q, u.keys, u.values, ctx.mask), next: u.next };
    });
  }

  /**
   * Whether forward() projects through the variables (training) or the fused copy (inference), and the fused copy
   * made current: a traced step (backend/tfFunction.ts) captures the copy, so the model calls this before each step.
   */
  usesFusedQkv(): boolean {
    if (this.qProj.weightT.trainable || this.kProj.weightT.trainable || this.vProj.weightT.trainable) return false;
    this.fusedQkv();
    return true;
  }

  /** Frees the fused q/k/v copy (not a variable); the variables are freed by their owner. */
  disposeFused(): void {
    this.fused?.t.dispose();
    this.fused = null;
  }

  variables(): tf.Variable[] {
    return [...this.qProj.variables(), ...this.kProj.variables(), ...this.vProj.variables(), ...this.oProj.variables()];
  }
}
