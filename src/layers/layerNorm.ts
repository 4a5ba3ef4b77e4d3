/** nn.LayerNorm over the last axis (population variance), affine. */
import * as tf from '@tensorflow/tfjs-core';
import { WeightStore } from '../weights/store';
import { Module, param } from './param';
import { LAYER_NORM, hasLayerNorm } from '../backend/tensorflowKernels';

export class LayerNorm implements Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly dim: number, weight: tf.Tensor, bias: tf.Tensor, readonly eps = 1e-5, name = 'layerNorm') {
    this.weight = param(weight, `${name}.weight`);
    this.bias = param(bias, `${name}.bias`);
  }

  static load(store: WeightStore, prefix: string, dim: number, eps = 1e-5): LayerNorm {
    return new LayerNorm(dim, store.get(`${prefix}.weight`, [dim]), store.get(`${prefix}.bias`, [dim]), eps, prefix);
  }

  forward<T extends tf.Tensor>(x: T): T {
    // One fused kernel where the backend has it (tensorflow, see backend/tensorflowKernels).
    if (x.size > 0 && hasLayerNorm()) return tf.engine().runKernel(LAYER_NORM, { x, weight: this.weight, bias: this.bias }, { eps: this.eps }) as T;
    return tf.tidy(() => {
      const axis = x.rank - 1;
      const { mean, variance } = tf.moments(x, axis, true);
      const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(y, this.weight), this.bias) as T;
    });
  }

  variables(): tf.Variable[] {
    return [this.weight, this.bias];
  }
}
