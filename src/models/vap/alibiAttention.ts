/**
 * MaAI's MultiHeadAttentionAlibi: q/k/v/proj Linear layers without bias, scores scaled by 1/sqrt(dim) (the whole
 * model dim, not the head size), plus an ALiBi bias m_h * j over the key index j of the current window, a causal
 * mask and a context-limit mask. Keys and values of earlier frames come in as `past` and the grown tensors go out.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../../util/tidy';
import { Linear } from '../../layers/linear';
import { Module, param } from '../../layers/param';
import { WeightStore } from '../../weights/store';

/** Keys and values of one attention, [B, H, L, headDim]. */
export interface KV {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/**
 * Additive bias + mask [H, T, L] for T queries after P cached frames (L = P + T): m_h * j, -Infinity where j > i
 * or (contextLimit > 0 and j < i - contextLimit + 1), with i = P + t.
 */
export function alibiBias(slopes: Float32Array, past: number, T: number, contextLimit: number): tf.Tensor3D {
  const H = slopes.length;
  const L = past + T;
  const out = new Float32Array(H * T * L);
  for (let h = 0; h < H; h++) {
    for (let t = 0; t < T; t++) {
      const i = past + t;
      const row = (h * T + t) * L;
      for (let j = 0; j < L; j++) {
        const masked = j > i || (contextLimit > 0 && j < i - contextLimit + 1);
        out[row + j] = masked ? -Infinity : Math.fround(slopes[h] * j);
      }
    }
  }
  return tf.tensor3d(out, [H, T, L]);
}

export class MultiHeadAttentionAlibi implements Module {
  readonly headDim: number;
  readonly scale: number;
  /** Host copy of the slopes (for building the bias). */
  readonly slopes: Float32Array;
  readonly m: tf.Variable;

  constructor(
    readonly dim: number,
    readonly heads: number,
    readonly key: Linear,
    readonly query: Linear,
    readonly value: Linear,
    readonly proj: Linear,
    slopes: Float32Array,
    name = 'mha',
  ) {
    if (dim % heads) throw new RangeError(`${name}: dim ${dim} is not divisible by ${heads} heads`);
    this.headDim = dim / heads;
    this.scale = 1 / Math.sqrt(dim);
    this.slopes = Float32Array.from(slopes);
    this.m = param(tf.tensor1d(this.slopes), `${name}.m`);
  }

  /** The bias + mask of the last (past, T, contextLimit) seen: a stream reuses it every step once the cache is full. */
  private bias: { key: string; t: tf.Tensor3D } | null = null;

  private biasFor(past: number, T: number, contextLimit: number): tf.Tensor3D {
    const key = `${past},${T},${contextLimit}`;
    if (this.bias?.key !== key) {
      this.bias?.t.dispose();
      this.bias = { key, t: tf.keep(alibiBias(this.slopes, past, T, contextLimit)) };
    }
    return this.bias.t;
  }

  /** Frees the cached bias and fused weights (not variables). */
  disposeBias(): void {
    this.bias?.t.dispose();
    this.bias = null;
    this.disposeFused();
  }

  /** Loads `${prefix}.{key,query,value,proj}.weight` and the slopes `${prefix}.m` [heads]. */
  static load(store: WeightStore, prefix: string, dim: number, heads: number): MultiHeadAttentionAlibi {
    const lin = (n: string) => Linear.load(store, `${prefix}.${n}`, dim, dim);
    const slopes = store.getArray(`${prefix}.m`, [heads]);
    return new MultiHeadAttentionAlibi(dim, heads, lin('key'), lin('query'), lin('value'), lin('proj'), slopes, prefix);
  }

  /** Inference copies: [Wq * scale | Wk | Wv] and [Wk | Wv] ([dim, 3 dim], [dim, 2 dim]), rebuilt when a weight changes. */
  private fused: { qkv: tf.Tensor2D; kv: tf.Tensor2D; from: object[] } | null = null;

  private fusedWeights(): { qkv: tf.Tensor2D; kv: tf.Tensor2D } {
    const from = [this.query.weightT.dataId, this.key.weightT.dataId, this.value.weightT.dataId];
    if (!this.fused || this.fused.from.some((d, i) => d !== from[i])) {
      this.disposeFused();
      // The scale is a power of two for every dim that is a power of four (1/16 at 256): folding it into Wq
      // scales every product exactly, so q.k * scale is unchanged; other dims round differently in the last bit.
      const { qkv, kv } = tf.tidy(() => ({
        qkv: tf.concat([tf.mul(this.query.weightT, this.scale), this.key.weightT, this.value.weightT], 1) as tf.Tensor2D,
        kv: tf.concat([this.key.weightT, this.value.weightT], 1) as tf.Tensor2D,
      }));
      this.fused = { qkv: tf.keep(qkv), kv: tf.keep(kv), from };
    }
    return this.fused;
  }

  /** Frees the fused copies and the cached bias (not variables). */
  disposeFused(): void {
    if (this.fused) tf.dispose([this.fused.qkv, this.fused.kv]);
    this.fused = null;
  }

  /** [B, T, n * dim] -> n tensors [B, H, T, headDim]. */
  private splitHeads(x: tf.Tensor, B: number, T: number, n: number): tf.Tensor4D[] {
    const h = tf.transpose(tf.reshape(x, [B, T, n * this.heads, this.headDim]), [0, 2, 1, 3]);
    return n === 1 ? [h as tf.Tensor4D] : (tf.split(h, n, 1) as tf.Tensor4D[]);
  }

  /**
   * q: [B, T, dim] query input, kv: [B, T, dim] key/value input (the same frames; the same tensor for
   * self-attention), past: cached K/V of earlier frames (or null). Returns y [B, T, dim] and the K/V over past +
   * new frames (new tensors; `past` is untouched).
   */
  forward(q: tf.Tensor3D, kv: tf.Tensor3D, past: KV | null, contextLimit: number): { y: tf.Tensor3D; cache: KV } {
    return tidyTyped(() => {
      const [B, T, C] = q.shape;
      const w = this.fusedWeights();
      let Q: tf.Tensor4D;
      let kNew: tf.Tensor4D;
      let vNew: tf.Tensor4D;
      if (q === kv) {
        [Q, kNew, vNew] = this.splitHeads(tf.matMul(tf.reshape(q, [B * T, C]), w.qkv), B, T, 3);
      } else {
        [Q] = this.splitHeads(tf.mul(this.query.forward(q), this.scale), B, T, 1);
        [kNew, vNew] = this.splitHeads(tf.matMul(tf.reshape(kv, [B * T, C]), w.kv), B, T, 2);
      }
      const K = past ? (tf.concat([past.k, kNew], 2) as tf.Tensor4D) : kNew;
      const V = past ? (tf.concat([past.v, vNew], 2) as tf.Tensor4D) : vNew;
      const P = past ? past.k.shape[2] : 0;
      // Upstream's order: (q . k) * scale (the scale is folded into q above), then + (m_h * j + mask).
      const att = tf.add(tf.matMul(Q, K, false, true), this.biasFor(P, T, contextLimit));
      const y = tf.matMul(tf.softmax(att, -1), V);
      const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, this.dim]) as tf.Tensor3D;
      return { y: this.proj.forward(merged), cache: { k: K, v: V } };
    });
  }

  variables(): tf.Variable[] {
    return [...this.key.variables(), ...this.query.variables(), ...this.value.variables(), ...this.proj.variables(), this.m];
  }
}
