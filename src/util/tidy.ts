/** tf.tidy with the result's own type. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` in tf.tidy: every tensor it creates is disposed except those reachable from its result (tidy walks
 * objects and arrays, so interfaces holding tensors work). tf.tidy's own typing accepts only TensorContainer
 * results (no interfaces, no null), which is all this adds.
 */
export function tidyTyped<T>(fn: () => T): T {
  return tf.tidy(fn as () => tf.TensorContainer) as T;
}
