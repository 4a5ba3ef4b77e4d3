/** Parameters are tfjs variables so that freeze()/unfreeze() map to `trainable` and tf.grad reaches them. */
import * as tf from '@tensorflow/tfjs-core';

let counter = 0;

export function param(value: tf.Tensor, name: string, trainable = false): tf.Variable {
  // Variable names must be unique per tfjs engine; the upstream name stays readable in front.
  const v = tf.variable(value, trainable, `${name}#${counter++}`);
  value.dispose();
  return v;
}

/** A module that owns variables: freeze/unfreeze toggle their trainability, dispose frees them. */
export interface Module {
  variables(): tf.Variable[];
}

export function setTrainable(vars: tf.Variable[], trainable: boolean): void {
  for (const v of vars) v.trainable = trainable;
}

export function disposeAll(vars: tf.Variable[]): void {
  for (const v of vars) v.dispose();
}
