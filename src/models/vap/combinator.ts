/** MaAI's Combinator: joins the two towers, GELU(LN(h0_a x1)) + GELU(LN(h0_b x2)) with one shared LayerNorm. */
import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm } from '../../layers/layerNorm';
import { Linear } from '../../layers/linear';
import { gelu } from '../../layers/activations';
import { Module } from '../../layers/param';
import { WeightStore } from '../../weights/store';

export class Combinator implements Module {
  constructor(readonly h0a: Linear, readonly h0b: Linear, readonly ln: LayerNorm) {}

  static load(store: WeightStore, prefix: string, dim: number): Combinator {
    return new Combinator(Linear.load(store, `${prefix}.h0_a`, dim, dim), Linear.load(store, `${prefix}.h0_b`, dim, dim), LayerNorm.load(store, `${prefix}.ln`, dim));
  }

  forward(x1: tf.Tensor3D, x2: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => tf.add(gelu(this.ln.forward(this.h0a.forward(x1))), gelu(this.ln.forward(this.h0b.forward(x2)))));
  }

  variables(): tf.Variable[] {
    return [...this.h0a.variables(), ...this.h0b.variables(), ...this.ln.variables()];
  }
}
