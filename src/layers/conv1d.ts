/**
 * Conv1d with PyTorch semantics (weight [out, in/groups, k], symmetric zero padding, stride, dilation, groups,
 * optional bias) on channels-last activations [B, T, C]. The weight is re-laid out once at load to tfjs' conv2d
 * filter [1, k, in, out]; each call is one fused conv2d with the bias inside the kernel (no separate add pass).
 * Padding is a separate pad op on purpose: the wasm backend keeps one packed copy of the weights per distinct
 * (padding, stride, ...) combination of a filter, so the kernel always runs unpadded ('valid').
 */
import * as tf from '@tensorflow/tfjs-core';
import { WeightStore } from '../weights/store';
import { Module, param } from './param';

export interface Conv1dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

export class Conv1d implements Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
  /** Per group: [1, k, in/groups, out/groups]. */
  readonly weights: tf.Variable[];
  readonly bias: tf.Variable | null;

  constructor(opts: Conv1dOptions, weight: tf.Tensor, bias: tf.Tensor | null, name = 'conv1d') {
    this.inChannels = opts.inChannels;
    this.outChannels = opts.outChannels;
    this.kernelSize = opts.kernelSize;
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.groups = opts.groups ?? 1;
    const g = this.groups;
    if (this.inChannels % g || this.outChannels % g) {
      throw new RangeError(`${name}: channels ${this.inChannels}->${this.outChannels} not divisible by groups ${g}`);
    }
    const ws = tf.tidy(() => {
      const w = tf.expandDims(tf.transpose(weight, [2, 1, 0]), 0); // [1, k, in/g, out]
      const og = this.outChannels / g;
      return g === 1 ? [w] : Array.from({ length: g }, (_, i) => tf.slice(w, [0, 0, 0, i * og], [-1, -1, -1, og]));
    });
    this.weights = ws.map((w, i) => param(w, `${name}.weight${g > 1 ? `[${i}]` : ''}`));
    this.bias = bias ? param(bias.clone(), `${name}.bias`) : null;
    weight.dispose();
    bias?.dispose();
  }

  /** Loads `${prefix}.weight` [out, in/groups, k] (and `${prefix}.bias`); the kernel size may come from the weights. */
  static load(store: WeightStore, prefix: string, opts: Omit<Conv1dOptions, 'kernelSize'> & { kernelSize?: number }): Conv1d {
    const g = opts.groups ?? 1;
    const k = opts.kernelSize ?? store.shapeOf(`${prefix}.weight`)[2];
    const w = store.get(`${prefix}.weight`, [opts.outChannels, opts.inChannels / g, k]);
    const useBias = opts.bias ?? true;
    const b = useBias ? store.get(`${prefix}.bias`, [opts.outChannels]) : null;
    return new Conv1d({ ...opts, kernelSize: k, bias: useBias }, w, b, prefix);
  }

  /** Receptive field of one output frame, in input frames. */
  get span(): number {
    return (this.kernelSize - 1) * this.dilation + 1;
  }

  outputLength(t: number): number {
    return Math.floor((t + 2 * this.padding - this.span) / this.stride) + 1;
  }

  /** x: [B, T, Cin] -> [B, T', Cout]. Zero padding `padding` on both sides, as nn.Conv1d. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return this.forwardPadded(x, this.padding, this.padding);
  }

  /** Convolution without padding ('valid'). */
  forwardValid(x: tf.Tensor3D): tf.Tensor3D {
    return this.forwardPadded(x, 0, 0);
  }

  /** Convolution of x with `left` and `right` zero frames around it (ignoring this.padding). */
  forwardPadded(x: tf.Tensor3D, left: number, right: number): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T, C] = x.shape;
      if (C !== this.inChannels) throw new RangeError(`conv1d: input has ${C} channels, expected ${this.inChannels}`);
      if (T + left + right < this.span) {
        throw new RangeError(`conv1d: input of ${T + left + right} frames (padding included) is shorter than the kernel span ${this.span}`);
      }
      const g = this.groups;
      const ig = this.inChannels / g;
      const xp = left > 0 || right > 0 ? tf.pad(x, [[0, 0], [left, right], [0, 0]]) : x;
      // The batch rows as the image height (kernel height 1, so rows never mix): the same arithmetic as a batch of
      // B images, and faster for B > 1 (TensorFlow's oneDNN conv with a 512 -> 1024 k16 filter: 9.9 ms for 2 rows
      // as height against 25.7 ms as a batch of 2; wasm 3.1 against 3.8 ms).
      const x4 = tf.reshape(xp, [1, B, T + left + right, C]) as tf.Tensor4D;
      const parts = this.weights.map((w, i) =>
        tf.fused.conv2d({
          x: g === 1 ? x4 : (tf.slice(x4, [0, 0, 0, i * ig], [-1, -1, -1, ig]) as tf.Tensor4D),
          filter: w as tf.Tensor4D,
          strides: [1, this.stride],
          pad: 'valid',
          dilations: [1, this.dilation],
          // Grouped: the bias is added after the concat (a per-call bias slice would be a new operator per call).
          bias: g === 1 && this.bias ? this.bias : undefined,
        }),
      );
      let y: tf.Tensor4D = parts[0];
      if (g > 1) {
        y = tf.concat(parts, 3);
        if (this.bias) y = tf.add(y, this.bias);
      }
      return tf.reshape(y, [B, y.shape[2], this.outChannels]) as tf.Tensor3D;
    });
  }

  variables(): tf.Variable[] {
    return this.bias ? [...this.weights, this.bias] : [...this.weights];
  }
}
