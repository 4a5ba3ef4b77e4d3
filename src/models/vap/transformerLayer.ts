/**
 * MaAI's TransformerLayer (pre-LayerNorm): self-attention on LN(x), optionally cross-attention with the query
 * LN_src(x) and keys/values from the other tower's unnormalised input, then a GELU feed-forward
 * (ffnetwork.0: dim -> ffn, ffnetwork.3: ffn -> dim, no biases). Every sublayer adds to the residual stream.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../../util/tidy';
import { LayerNorm } from '../../layers/layerNorm';
import { Linear } from '../../layers/linear';
import { gelu } from '../../layers/activations';
import { Module } from '../../layers/param';
import { WeightStore } from '../../weights/store';
import { KV, MultiHeadAttentionAlibi } from './alibiAttention';

/** Caches of one layer: self-attention K/V and (stereo layers) cross-attention K/V. */
export interface LayerCache {
  self: KV | null;
  cross: KV | null;
}

export class TransformerLayer implements Module {
  constructor(
    readonly lnSelfAttn: LayerNorm,
    readonly mha: MultiHeadAttentionAlibi,
    readonly lnFfnetwork: LayerNorm,
    readonly ff1: Linear,
    readonly ff2: Linear,
    readonly cross: { lnSrcAttn: LayerNorm; mhaCross: MultiHeadAttentionAlibi } | null,
  ) {}

  static load(store: WeightStore, prefix: string, dim: number, heads: number, ffn: number, withCross: boolean): TransformerLayer {
    return new TransformerLayer(
      LayerNorm.load(store, `${prefix}.ln_self_attn`, dim),
      MultiHeadAttentionAlibi.load(store, `${prefix}.mha`, dim, heads),
      LayerNorm.load(store, `${prefix}.ln_ffnetwork`, dim),
      Linear.load(store, `${prefix}.ffnetwork.0`, dim, ffn),
      Linear.load(store, `${prefix}.ffnetwork.3`, ffn, dim),
      withCross
        ? { lnSrcAttn: LayerNorm.load(store, `${prefix}.ln_src_attn`, dim), mhaCross: MultiHeadAttentionAlibi.load(store, `${prefix}.mha_cross`, dim, heads) }
        : null,
    );
  }

  /** x: [B, T, dim]; src: the other tower's layer input (stereo layers only). Returns y and the grown caches. */
  forward(x: tf.Tensor3D, src: tf.Tensor3D | null, cache: LayerCache | null, contextLimit: number): { y: tf.Tensor3D; cache: LayerCache } {
    if (!!src !== !!this.cross) throw new Error(`TransformerLayer: ${this.cross ? 'a cross-attention layer needs src' : 'no cross-attention in this layer'}`);
    return tidyTyped(() => {
      const h = this.lnSelfAttn.forward(x);
      const sa = this.mha.forward(h, h, cache?.self ?? null, contextLimit);
      let z = tf.add(x, sa.y) as tf.Tensor3D;
      let crossKV: KV | null = null;
      if (this.cross && src) {
        const ca = this.cross.mhaCross.forward(this.cross.lnSrcAttn.forward(z), src, cache?.cross ?? null, contextLimit);
        z = tf.add(z, ca.y) as tf.Tensor3D;
        crossKV = ca.cache;
      }
      const f = this.ff2.forward(gelu(this.ff1.forward(this.lnFfnetwork.forward(z))));
      return { y: tf.add(z, f), cache: { self: sa.cache, cross: crossKV } };
    });
  }

  attentions(): MultiHeadAttentionAlibi[] {
    return this.cross ? [this.mha, this.cross.mhaCross] : [this.mha];
  }

  variables(): tf.Variable[] {
    const c = this.cross ? [...this.cross.lnSrcAttn.variables(), ...this.cross.mhaCross.variables()] : [];
    return [...this.lnSelfAttn.variables(), ...this.mha.variables(), ...this.lnFfnetwork.variables(), ...this.ff1.variables(), ...this.ff2.variables(), ...c];
  }
}
