/**
 * Mimi transformer layer (pre-norm): x + ls1 * attn(LN1(x)), then x + ls2 * fc2(gelu(fc1(LN2(x)))), with
 * per-channel layer scales and bias-free MLP projections.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../../util/tidy';
import { LayerNorm } from '../../layers/layerNorm';
import { Linear } from '../../layers/linear';
import { AttentionContext, MimiAttention, slidingWindowMask, slidingWindowMaskAt } from '../../layers/attention';
import { RotaryEmbedding } from '../../layers/rope';
import { KVLayerState, StaticSlidingWindowCache } from '../../layers/kvCache';
import { gelu } from '../../layers/activations';
import { Module, param } from '../../layers/param';
import { WeightStore } from '../../weights/store';
import { MimiConfig } from './mimiConfig';

export class MimiTransformerLayer implements Module {
  constructor(
    readonly inputLayernorm: LayerNorm,
    readonly selfAttn: MimiAttention,
    readonly selfAttnLayerScale: tf.Variable,
    readonly postAttentionLayernorm: LayerNorm,
    readonly fc1: Linear,
    readonly fc2: Linear,
    readonly mlpLayerScale: tf.Variable,
  ) {}

  static load(store: WeightStore, prefix: string, c: MimiConfig): MimiTransformerLayer {
    const H = c.hidden_size;
    return new MimiTransformerLayer(
      LayerNorm.load(store, `${prefix}.input_layernorm`, H, c.norm_eps),
      MimiAttention.load(store, `${prefix}.self_attn`, H, c.num_attention_heads, c.head_dim),
      param(store.get(`${prefix}.self_attn_layer_scale.scale`, [H]), `${prefix}.self_attn_layer_scale.scale`),
      LayerNorm.load(store, `${prefix}.post_attention_layernorm`, H, c.norm_eps),
      Linear.load(store, `${prefix}.mlp.fc1`, H, c.intermediate_size),
      Linear.load(store, `${prefix}.mlp.fc2`, c.intermediate_size, H),
      param(store.get(`${prefix}.mlp_layer_scale.scale`, [H]), `${prefix}.mlp_layer_scale.scale`),
    );
  }

  forward(
    x: tf.Tensor3D,
    ctx: AttentionContext,
    cache?: { kv: StaticSlidingWindowCache; state: KVLayerState },
  ): { y: tf.Tensor3D; next?: KVLayerState } {
    return tidyTyped<{ y: tf.Tensor3D; next?: KVLayerState }>(() => {
      const a = this.selfAttn.forward(this.inputLayernorm.forward(x), ctx, cache);
      const h = tf.add(x, tf.mul(a.y, this.selfAttnLayerScale)) as tf.Tensor3D;
      const m = this.fc2.forward(gelu(this.fc1.forward(this.postAttentionLayernorm.forward(h))));
      return { y: tf.add(h, tf.mul(m, this.mlpLayerScale)), next: a.next };
    });
  }

  variables(): tf.Variable[] {
    return [
      ...this.inputLayernorm.variables(),
      ...this.selfAttn.variables(),
      this.selfAttnLayerScale,
      ...this.postAttentionLayernorm.variables(),
      ...this.fc1.variables(),
      ...this.fc2.variables(),
      this.mlpLayerScale,
    ];
  }
}

/** The encoder transformer: a stack of layers, RoPE at absolute positions, no final norm. */
export class MimiTransformer implements Module {
  readonly rope: RotaryEmbedding;

  constructor(readonly layers: MimiTransformerLayer[], readonly config: MimiConfig) {
    this.rope = new RotaryEmbedding(config.head_dim, config.rope_theta);
  }

  static load(store: WeightStore, c: MimiConfig, prefix = 'encoder_transformer'): MimiTransformer {
    const layers = Array.from({ length: c.num_hidden_layers }, (_, i) => MimiTransformerLayer.load(store, `${prefix}.layers.${i}`, c));
    return new MimiTransformer(layers, c);
  }

  /** Offline (no cache): x [B, L, hidden], positions 0 .. L-1. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const L = x.shape[1];
      const { cos, sin } = this.rope.tables(0, L);
      const ctx = { rope: this.rope, cos, sin, mask: slidingWindowMask(0, L, 0, L, this.config.sliding_window) };
      let h = x;
      for (const layer of this.layers) h = layer.forward(h, ctx).y;
      return h;
    });
  }

  /** What a streaming call of L frames at absolute positions start .. start+L-1 attends with (host-made tensors). */
  stepContext(start: number, L: number, kv: StaticSlidingWindowCache): AttentionContext {
    const { cos, sin } = this.rope.tables(start, L);
    const span = kv.span(start, L);
    const mask = slidingWindowMaskAt(start, L, span.positions, this.config.sliding_window);
    return { rope: this.rope, cos, sin, mask, kv: { span, keep: tf.tensor1d(span.keep, 'int32') } };
  }

  /** Streaming: x at absolute positions start .. start+L-1 through the per-layer caches. */
  step(x: tf.Tensor3D, start: number, kv: StaticSlidingWindowCache, states: KVLayerState[], ctx?: AttentionContext): { y: tf.Tensor3D; states: KVLayerState[] } {
    return tidyTyped<{ y: tf.Tensor3D; states: KVLayerState[] }>(() => {
      const c = ctx ?? this.stepContext(start, x.shape[1], kv);
      let h = x;
      const next: KVLayerState[] = [];
      this.layers.forEach((layer, i) => {
        const r = layer.forward(h, c, { kv, state: states[i] });
        h = r.y;
        next.push(r.next!);
      });
      return { y: h, states: next };
    });
  }

  variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables());
  }
}
