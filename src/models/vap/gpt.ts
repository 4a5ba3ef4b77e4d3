/**
 * MaAI's GPT (one channel, self-attention layers) and GPTStereo (two towers with self + cross attention, the
 * same weights for both towers, then the Combinator). No positional embeddings (ALiBi) and no final LayerNorm.
 * Each `forward` takes the caches of earlier frames (null = none) and returns them grown by the new frames.
 */
import * as tf from '@tensorflow/tfjs-core';
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
    return tf.tidy(() => {
      let h = x;
      const cache: KV[] = [];
      this.layers.forEach((layer, i) => {
        const r = layer.forward(h, null, { self: past?.[i] ?? null, cross: null }, contextLimit);
        h = r.y;
        cache.push(r.cache.self!);
      });
      return { y: h, cache } as never;
    }) as unknown as { y: tf.Tensor3D; cache: KV[] };
  }

  variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables());
  }
}

/** The stereo caches, one KV per layer each: self-attention of tower 1 / 2, cross-attention of tower 1 / 2. */
export interface StereoCache {
  cross1: KV[];
  cross2: KV[];
  cross1_c: KV[];
  cross2_c: KV[];
}

export interface StereoOutput {
  /** Combinator output. */
  x: tf.Tensor3D;
  /** Tower outputs. */
  x1: tf.Tensor3D;
  x2: tf.Tensor3D;
  cache: StereoCache;
}

export class GPTStereo implements Module {
  constructor(readonly layers: TransformerLayer[], readonly combinator: Combinator) {}

  static load(store: WeightStore, prefix: string, numLayers: number, d: GptDims): GPTStereo {
    const layers = Array.from({ length: numLayers }, (_, i) => TransformerLayer.load(store, `${prefix}.layers.${i}`, d.dim, d.heads, d.ffn, true));
    return new GPTStereo(layers, Combinator.load(store, `${prefix}.combinator`, d.dim));
  }

  forward(x1: tf.Tensor3D, x2: tf.Tensor3D, past: StereoCache | null, contextLimit: number): StereoOutput {
    return tf.tidy(() => {
      let a1 = x1;
      let a2 = x2;
      const cache: StereoCache = { cross1: [], cross2: [], cross1_c: [], cross2_c: [] };
      this.layers.forEach((layer, i) => {
        // Both towers read this layer's inputs: tower 2 does not see tower 1's new output.
        const r1 = layer.forward(a1, a2, past ? { self: past.cross1[i], cross: past.cross1_c[i] } : null, contextLimit);
        const r2 = layer.forward(a2, a1, past ? { self: past.cross2[i], cross: past.cross2_c[i] } : null, contextLimit);
        a1 = r1.y;
        a2 = r2.y;
        cache.cross1.push(r1.cache.self!);
        cache.cross1_c.push(r1.cache.cross!);
        cache.cross2.push(r2.cache.self!);
        cache.cross2_c.push(r2.cache.cross!);
      });
      return { x: this.combinator.forward(a1, a2), x1: a1, x2: a2, cache } as never;
    }) as unknown as StereoOutput;
  }

  variables(): tf.Variable[] {
    return [...this.layers.flatMap((l) => l.variables()), ...this.combinator.variables()];
  }
}
