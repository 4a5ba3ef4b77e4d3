/** nn.Linear on the last axis; the weight [out, in] is stored transposed ([in, out]) once at load. */
import * as tf from '@tensorflow/tfjs-core';
import { WeightStore } from '../weights/store';
import { Module, param } from './param';

export class Linear implements Module {
  readonly weightT: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, weight: tf.Tensor, bias: tf.Tensor | null, name = 'linear') {
    this.weightT = param(tf.transpose(weight), `${name}.weight`);
    weight.dispose();
    this.bias = bias ? param(bias, `${name}.bias`) : null;
  }

  static load(store: WeightStore, prefix: string, inF: number, outF: number, bias = false): Linear {
    return new Linear(inF, outF, store.get(`${prefix}.weight`, [outF, inF]), bias ? store.get(`${prefix}.bias`, [outF]) : null, prefix);
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const shape = x.shape;
      const y2 = tf.matMul(tf.reshape(x, [-1, this.inFeatures]), this.weightT);
      const y = this.bias ? tf.add(y2, this.bias) : y2;
      return tf.reshape(y, [...shape.slice(0, -1), this.outFeatures]) as T;
    });
  }

  variables(): tf.Variable[] {
    return this.bias ? [this.weightT, this.bias] : [this.weightT];
  }
}
