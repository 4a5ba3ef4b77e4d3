/**
 * Rotary position embedding, transformers' default type with half-split rotation (pairs (i, i + D/2)):
 * q' = q cos + rotate_half(q) sin, rotate_half(x) = [-x2, x1]. Positions are absolute. The tables are built on
 * the host with float32 rounding where upstream computes in float32 (inv_freq, angle, cos/sin).
 */
import * as tf from '@tensorflow/tfjs-core';

export class RotaryEmbedding {
  readonly invFreq: Float32Array;

  constructor(readonly headDim: number, readonly theta = 10000) {
    const half = headDim / 2;
    this.invFreq = new Float32Array(half);
    for (let i = 0; i < half; i++) {
      const exponent = Math.fround((2 * i) / headDim);
      this.invFreq[i] = Math.fround(1 / Math.fround(Math.pow(theta, exponent)));
    }
  }

  /**
   * cos and sin tables [L, D] for absolute positions start .. start + L - 1. The sin table's first half is
   * negated, so that apply() needs no separate negation: rotate_half(x) * sin = [x2, x1] * [-sin, sin].
   */
  tables(start: number, length: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    const D = this.headDim;
    const half = D / 2;
    const cos = new Float32Array(length * D);
    const sin = new Float32Array(length * D);
    for (let t = 0; t < length; t++) {
      const pos = start + t;
      for (let i = 0; i < half; i++) {
        const a = Math.fround(this.invFreq[i] * pos);
        const c = Math.cos(a);
        const s = Math.sin(a);
        cos[t * D + i] = cos[t * D + i + half] = c;
        sin[t * D + i] = -s;
        sin[t * D + i + half] = s;
      }
    }
    return { cos: tf.tensor2d(cos, [length, D]), sin: tf.tensor2d(sin, [length, D]) };
  }

  /** x: [B, H, L, D]; cos/sin: [L, D] from tables(). Sign flips are exact, so this equals x cos + rotate_half(x) sin. */
  apply(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      const half = this.headDim / 2;
      const [x1, x2] = tf.split(x, [half, half], 3);
      return tf.add(tf.mul(x, cos), tf.mul(tf.concat([x2, x1], 3), sin)) as tf.Tensor4D;
    });
  }
}
