/**
 * MimiConv1d with use_causal_conv = True: a Conv1d with no built-in padding that
 *  - offline pads P = (k-1)d + 1 - stride on the left and the "extra" right padding that completes the last
 *    window (ceil(L/S)*S - L), with zeros ('constant') or edge copies ('replicate');
 *  - streaming prepends its padding cache (the last P raw input frames of the stream) and adds no right padding,
 *    so it emits floor((P + L - K)/S) + 1 frames; the new cache is the last P frames of cat(cache, x).
 * Activations are channels-last [B, T, C]; a cache is [B, P, C].
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../util/tidy';
import { Conv1d, Conv1dOptions } from './conv1d';
import { Module } from './param';
import { WeightStore } from '../weights/store';

export type PadMode = 'constant' | 'replicate';

export class CausalConv1d implements Module {
  readonly paddingTotal: number;

  constructor(readonly conv: Conv1d, readonly padMode: PadMode = 'constant') {
    this.paddingTotal = conv.span - conv.stride;
  }

  static load(store: WeightStore, prefix: string, opts: Conv1dOptions & { padMode?: PadMode }): CausalConv1d {
    return new CausalConv1d(Conv1d.load(store, prefix, { ...opts, padding: 0 }), opts.padMode ?? 'constant');
  }

  get inChannels(): number {
    return this.conv.inChannels;
  }

  /** Right padding that completes the last window offline: ceil(L/S)*S - L. */
  extraPadding(length: number): number {
    const S = this.conv.stride;
    const K = this.conv.span;
    const P = this.paddingTotal;
    // Same arithmetic as upstream: n = ceil((L - K + P)/S + 1) - 1; ideal = n*S + K - P.
    const nFrames = Math.ceil(Math.fround((length - K + P) / S) + 1) - 1;
    return nFrames * S + K - P - length;
  }

  /** Edge-copy ('replicate') padding. */
  private pad(x: tf.Tensor3D, left: number, right: number): tf.Tensor3D {
    if (left === 0 && right === 0) return x;
    const T = x.shape[1];
    const parts: tf.Tensor3D[] = [];
    if (left > 0) parts.push(tf.tile(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [1, left, 1]));
    parts.push(x);
    if (right > 0) parts.push(tf.tile(tf.slice(x, [0, T - 1, 0], [-1, 1, -1]), [1, right, 1]));
    return tf.concat(parts, 1);
  }

  /** Offline: x [B, L, Cin] -> [B, ceil(L/S), Cout]. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const left = this.paddingTotal;
    const right = this.extraPadding(x.shape[1]);
    if (this.padMode === 'constant') return this.conv.forwardPadded(x, left, right);
    return tf.tidy(() => this.conv.forwardValid(this.pad(x, left, right)));
  }

  /** The zero cache MaAI seeds before the first streaming call (for every mode, 'replicate' included). */
  zeroCache(batch: number): tf.Tensor3D {
    return tf.zeros([batch, this.paddingTotal, this.inChannels]) as tf.Tensor3D;
  }

  /**
   * Streaming: returns the output and the next cache (new tensors; `cache` is not disposed).
   * A null cache behaves like plain transformers' first call: zeros, or the first frame repeated for 'replicate'.
   */
  step(x: tf.Tensor3D, cache: tf.Tensor3D | null): { y: tf.Tensor3D; cache: tf.Tensor3D } {
    return tidyTyped<{ y: tf.Tensor3D; cache: tf.Tensor3D }>(() => {
      const P = this.paddingTotal;
      const [B, L, C] = x.shape;
      const current = cache ?? (this.padMode === 'replicate' && P > 0 ? tf.tile(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [1, P, 1]) : tf.zeros([B, P, C]));
      const full = P > 0 ? tf.concat([current as tf.Tensor3D, x], 1) : x;
      const y = this.conv.forwardValid(full);
      const next = P > 0 ? tf.slice(full, [0, L, 0], [-1, P, -1]) : tf.zeros<tf.Rank.R3>([B, 0, C]);
      return { y, cache: next };
    });
  }

  variables(): tf.Variable[] {
    return this.conv.variables();
  }
}
