/**
 * CPC's ChannelNorm: per time step, normalise over channels with the *unbiased* variance (divides by C-1),
 * eps 1e-5, then an affine [1, C, 1] (here [C], channels-last).
 */
import * as tf from '@tensorflow/tfjs-core';
import { WeightStore } from '../weights/store';
import { Module, param } from './param';

export class ChannelNorm implements Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly channels: number, weight: tf.Tensor, bias: tf.Tensor, readonly eps = 1e-5, name = 'channelNorm') {
    this.weight = param(tf.reshape(weight, [channels]), `${name}.weight`);
    this.bias = param(tf.reshape(bias, [channels]), `${name}.bias`);
    weight.dispose();
    bias.dispose();
  }

  static load(store: WeightStore, prefix: string, channels: number): ChannelNorm {
    return new ChannelNorm(channels, store.get(`${prefix}.weight`, [1, channels, 1]), store.get(`${prefix}.bias`, [1, channels, 1]), 1e-5, prefix);
  }

  /** x: [B, T, C]. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const c = this.channels;
      const { mean, variance } = tf.moments(x, 2, true);
      const unbiased = tf.mul(variance, c / (c - 1));
      const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(unbiased, this.eps)));
      return tf.add(tf.mul(y, this.weight), this.bias) as tf.Tensor3D;
    });
  }

  variables(): tf.Variable[] {
    return [this.weight, this.bias];
  }
}
