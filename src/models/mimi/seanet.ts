/**
 * Mimi's SEANet encoder (encoder.layers.N): conv -> [resblock, ELU, strided conv] x 4 (strides reversed
 * upsampling_ratios = 4, 5, 6, 8) -> ELU -> final conv. 24 kHz [B, T, 1] -> 25 Hz [B, T/960, hidden].
 * Streaming keeps one padding cache per conv, in upstream's _mimiconv1d_layer_names order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../../util/tidy';
import { CausalConv1d } from '../../layers/causalConv1d';
import { SeanetResnetBlock } from './seanetBlock';
import { elu } from '../../layers/activations';
import { Module } from '../../layers/param';
import { WeightStore } from '../../weights/store';
import { MimiConfig } from './mimiConfig';

type Op = { kind: 'conv'; conv: CausalConv1d } | { kind: 'res'; block: SeanetResnetBlock } | { kind: 'elu' };

export class SeanetEncoder implements Module {
  /** Every conv in cache order, with its upstream layer name (e.g. "layers.1.block.1"). */
  readonly convs: Array<{ name: string; conv: CausalConv1d }> = [];

  constructor(private readonly ops: Op[]) {
    for (const [i, op] of ops.entries()) {
      if (op.kind === 'conv') this.convs.push({ name: `layers.${i}`, conv: op.conv });
      else if (op.kind === 'res') {
        this.convs.push({ name: `layers.${i}.block.1`, conv: op.block.conv1 }, { name: `layers.${i}.block.3`, conv: op.block.conv2 });
      }
    }
  }

  static load(store: WeightStore, c: MimiConfig, prefix = 'encoder'): SeanetEncoder {
    const ops: Op[] = [];
    const conv = (inC: number, outC: number, k: number, stride = 1, dilation = 1) =>
      CausalConv1d.load(store, `${prefix}.layers.${ops.length}.conv`, { inChannels: inC, outChannels: outC, kernelSize: k, stride, dilation });
    ops.push({ kind: 'conv', conv: conv(1, c.num_filters, c.kernel_size) });
    let mult = 1;
    for (const ratio of [...c.upsampling_ratios].reverse()) {
      const dim = mult * c.num_filters;
      for (let j = 0; j < c.num_residual_layers; j++) {
        const base = `${prefix}.layers.${ops.length}.block`;
        const hidden = Math.floor(dim / c.compress);
        const d = c.dilation_growth_rate ** j;
        const c1 = CausalConv1d.load(store, `${base}.1.conv`, { inChannels: dim, outChannels: hidden, kernelSize: c.residual_kernel_size, dilation: d });
        const c2 = CausalConv1d.load(store, `${base}.3.conv`, { inChannels: hidden, outChannels: dim, kernelSize: 1 });
        ops.push({ kind: 'res', block: new SeanetResnetBlock(c1, c2) });
      }
      ops.push({ kind: 'elu' });
      ops.push({ kind: 'conv', conv: conv(dim, dim * 2, ratio * 2, ratio) });
      mult *= 2;
    }
    ops.push({ kind: 'elu' });
    ops.push({ kind: 'conv', conv: conv(mult * c.num_filters, c.hidden_size, c.last_kernel_size) });
    return new SeanetEncoder(ops);
  }

  /** Offline: [B, T, 1] -> [B, ceil(T/960), hidden]. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let h = x;
      for (const op of this.ops) {
        if (op.kind === 'conv') h = op.conv.forward(h);
        else if (op.kind === 'res') h = op.block.forward(h);
        else h = elu(h);
      }
      return h;
    });
  }

  /** Streaming: one cache per conv (this.convs order) in, next caches out. */
  step(x: tf.Tensor3D, caches: Array<tf.Tensor3D | null>): { y: tf.Tensor3D; caches: tf.Tensor3D[] } {
    if (caches.length !== this.convs.length) throw new RangeError(`SEANet step: ${caches.length} caches for ${this.convs.length} convs`);
    return tidyTyped<{ y: tf.Tensor3D; caches: tf.Tensor3D[] }>(() => {
      const next: tf.Tensor3D[] = [];
      let h = x;
      let ci = 0;
      for (const op of this.ops) {
        if (op.kind === 'conv') {
          const r = op.conv.step(h, caches[ci++]);
          h = r.y;
          next.push(r.cache);
        } else if (op.kind === 'res') {
          const r = op.block.step(h, [caches[ci], caches[ci + 1]]);
          ci += 2;
          h = r.y;
          next.push(...r.caches);
        } else h = elu(h);
      }
      return { y: h, caches: next };
    });
  }

  variables(): tf.Variable[] {
    return this.convs.flatMap((c) => c.conv.variables());
  }
}
