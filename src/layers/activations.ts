/** Activations with PyTorch's definitions. */
import * as tf from '@tensorflow/tfjs-core';

/** Exact GELU (nn.GELU() default): 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T);
}

/** nn.ELU(alpha = 1). */
export function elu<T extends tf.Tensor>(x: T): T {
  return tf.elu(x) as T;
}

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.relu(x) as T;
}
