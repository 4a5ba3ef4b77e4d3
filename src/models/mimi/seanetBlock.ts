/**
 * SEANet residual block (MimiResnetBlock): y = x + conv2(elu(conv1(elu(x)))), identity shortcut
 * (use_conv_shortcut = False). The ELU comes before each conv; the skip takes the raw input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../../util/tidy';
import { CausalConv1d } from '../../layers/causalConv1d';
import { elu } from '../../layers/activations';
import { Module } from '../../layers/param';

export class SeanetResnetBlock implements Module {
  constructor(readonly conv1: CausalConv1d, readonly conv2: CausalConv1d) {}

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => tf.add(x, this.conv2.forward(elu(this.conv1.forward(elu(x))))));
  }

  /** Streaming: caches [c1, c2] in, next caches out. */
  step(x: tf.Tensor3D, caches: [tf.Tensor3D | null, tf.Tensor3D | null]): { y: tf.Tensor3D; caches: [tf.Tensor3D, tf.Tensor3D] } {
    return tidyTyped<{ y: tf.Tensor3D; caches: [tf.Tensor3D, tf.Tensor3D] }>(() => {
      const a = this.conv1.step(elu(x), caches[0]);
      const b = this.conv2.step(elu(a.y), caches[1]);
      return { y: tf.add(x, b.y), caches: [a.cache, b.cache] };
    });
  }

  variables(): tf.Variable[] {
    return [...this.conv1.variables(), ...this.conv2.variables()];
  }
}
