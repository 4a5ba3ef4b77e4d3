/**
 * The CPC model as MaAI's load_CPC builds it: gEncoder (5 Conv1d + ChannelNorm + ReLU, 16 kHz -> 100 Hz) and
 * gAR (one LSTM or GRU layer). Weight names: gEncoder.conv{i}.*, gEncoder.batchNorm{i}.*, gAR.baseNet.*.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv1d } from '../../layers/conv1d';
import { ChannelNorm } from '../../layers/channelNorm';
import { relu } from '../../layers/activations';
import { Recurrent, RecurrentMode } from '../../layers/recurrent';
import { Module } from '../../layers/param';
import { WeightStore } from '../../weights/store';

/** kernel, stride, padding of conv0..conv4 (upstream CPCEncoder). */
export const CPC_CONV_SPECS: ReadonlyArray<readonly [number, number, number]> = [
  [10, 5, 3],
  [8, 4, 2],
  [4, 2, 1],
  [4, 2, 1],
  [4, 2, 1],
];

export class CPCEncoder implements Module {
  constructor(readonly convs: Conv1d[], readonly norms: ChannelNorm[]) {}

  static load(store: WeightStore, prefix: string, hidden = 256): CPCEncoder {
    const convs: Conv1d[] = [];
    const norms: ChannelNorm[] = [];
    CPC_CONV_SPECS.forEach(([k, s, p], i) => {
      convs.push(Conv1d.load(store, `${prefix}.conv${i}`, { inChannels: i === 0 ? 1 : hidden, outChannels: hidden, kernelSize: k, stride: s, padding: p }));
      norms.push(ChannelNorm.load(store, `${prefix}.batchNorm${i}`, hidden));
    });
    return new CPCEncoder(convs, norms);
  }

  /** Number of 100 Hz frames for `samples` input samples (0 when the input is too short). */
  static outputLength(samples: number): number {
    let t = samples;
    for (const [k, s, p] of CPC_CONV_SPECS) {
      t = Math.floor((t + 2 * p - k) / s) + 1;
      if (t <= 0) return 0;
    }
    return t;
  }

  /**
   * The input samples that output frames t0 .. t1 (inclusive) read, padding included: [lo, hi] (lo may be
   * negative, hi past the end). A slice of the signal that holds them, starting at a multiple of `hop`, gives
   * those frames exactly as the whole signal does.
   */
  static inputRange(t0: number, t1: number): [number, number] {
    let lo = t0;
    let hi = t1;
    for (let i = CPC_CONV_SPECS.length - 1; i >= 0; i--) {
      const [k, s, p] = CPC_CONV_SPECS[i];
      lo = lo * s - p;
      hi = hi * s - p + k - 1;
    }
    return [lo, hi];
  }

  /** Input samples per output frame (the product of the strides, 160). */
  static get hop(): number {
    return CPC_CONV_SPECS.reduce((h, [, s]) => h * s, 1);
  }

  /** wave [B, T, 1] -> [B, N, hidden]. */
  forward(wave: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let x = wave;
      for (let i = 0; i < this.convs.length; i++) x = relu(this.norms[i].forward(this.convs[i].forward(x)));
      return x;
    });
  }

  variables(): tf.Variable[] {
    return [...this.convs.flatMap((c) => c.variables()), ...this.norms.flatMap((n) => n.variables())];
  }
}

/** CPCAR: the autoregressive net over gEncoder frames. */
export class CPCAR implements Module {
  constructor(readonly baseNet: Recurrent) {}

  static load(store: WeightStore, prefix: string, hidden = 256, mode?: RecurrentMode): CPCAR {
    return new CPCAR(Recurrent.load(store, `${prefix}.baseNet`, hidden, hidden, mode));
  }

  get mode(): RecurrentMode {
    return this.baseNet.mode;
  }

  variables(): tf.Variable[] {
    return this.baseNet.variables();
  }
}
