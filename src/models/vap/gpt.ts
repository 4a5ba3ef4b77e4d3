/**
 * MaAI's GPT (one channel, self-attention layers) and GPTStereo (two towers with self + cross attention, the
 * same weights for both towers, then the Combinator). No positional embeddings (ALiBi) and no final LayerNorm.
 * Each `forward` takes the caches of earlier frames (null = none) and returns them grown by the new frames.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../../util/tidy';
import { Module } from '../../layers/param';
import { WeightStore } from '../../weights/store';
import { KV } from './alibiAttention';
import { Combinator } from './combinator';
import { TransformerLayer } from './transformerLayer';

export interface GptDims {
  dim: number;
  heads: number;
  ffn: number;
}

export class GPT implements Module {
  constructor(readonly layers: TransformerLayer[]) {}

  static load(store: WeightStore, prefix: string, numLayers: number, d: GptDims): GPT {
    return new GPT(Array.from({ length: numLayers }, (_, i) => TransformerLayer.load(store, `${prefix}.layers.${i}`, d.dim, d.heads, d.ffn, false)));
  }

  /** x: [B, T, dim]; past: one KV per layer (or null). */
  forward(x: tf.Tensor3D, past: KV[] | null, contextLimit: number): { y: tf.Tensor3D; cache: KV[] } {
    return tidyTyped(() => {
      let h = x;
      const cache: KV[] = [];
      this.layers.forEach((layer, i) => {
        const r = layer.forward(h, null, { self: past?.[i] ?? null, cross: null }, contextLimit);
        h = r.y;
        cache.push(r.cache.self!);
      });
      return { y: h, cache };
    });
  }

  variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables());
  }
}

/** Stereo caches, one KV per layer each, with the two towers as batch rows [tower 1 rows; tower 2 rows]. */
export interface StereoCache {
  /** Self-attention K/V (upstream cross1 / cross2). */
  self: KV[];
  /** Cross-attention K/V (upstream cross1_c, projected from tower 2's input / cross2_c, from tower 1's). */
  cross: KV[];
}

export interface StereoOutput {
  /** Combinator output [B, T, dim]. */
  x: tf.Tensor3D;
  /** Tower outputs [B, T, dim]. */
  x1: tf.Tensor3D;
  x2: tf.Tensor3D;
  cache: StereoCache;
}

/** [first half; second half] -> [second half; first half] along the batch. */
function swapHalves(x: tf.Tensor3D): tf.Tensor3D {
  const [a, b] = tf.split(x, 2, 0);
  return tf.concat([b, a], 0) as tf.Tensor3D;
}

export class GPTStereo implements Module {
  constructor(readonly layers: TransformerLayer[], readonly combinator: Combinator) {}

  static load(store: WeightStore, prefix: string, numLayers: number, d: GptDims): GPTStereo {
    const layers = Array.from({ length: numLayers }, (_, i) => TransformerLayer.load(store, `${prefix}.layers.${i}`, d.dim, d.heads, d.ffn, true));
    return new GPTStereo(layers, Combinator.load(store, `${prefix}.combinator`, d.dim));
  }

  /**
   * x: [2B, T, dim] = [tower 1 inputs; tower 2 inputs]. The towers share weights, so both run as one batch; each
   * tower's cross-attention reads the other tower's layer input (both towers read this layer's inputs).
   */
  forward(x: tf.Tensor3D, past: StereoCache | null, contextLimit: number): StereoOutput {
    return tidyTyped(() => {
      let a = x;
      const cache: StereoCache = { self: [], cross: [] };
      this.layers.forEach((layer, i) => {
        const r = layer.forward(a, swapHalves(a), past ? { self: past.self[i], cross: past.cross[i] } : null, contextLimit);
        a = r.y;
        cache.self.push(r.cache.self!);
        cache.cross.push(r.cache.cross!);
      });
      const [x1, x2] = tf.split(a, 2, 0) as [tf.Tensor3D, tf.Tensor3D];
      return { x: this.combinator.forward(x1, x2), x1, x2, cache };
    });
  }

  variables(): tf.Variable[] {
    return [...this.layers.flatMap((l) => l.variables()), ...this.combinator.variables()];
  }
}
