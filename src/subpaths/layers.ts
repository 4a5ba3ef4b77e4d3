/**
 * `maai-encoder-tfjs/layers`: the building blocks the encoders are made of, for readers and for new models:
 * generic tensor layers (conv, norms, activations, recurrent cells, attention, RoPE, KV cache), the Mimi SEANet
 * and transformer, and the DSP of the audio path (sinc and causal resamplers, linear interpolation).
 */
export * from '../layers/conv1d';
export * from '../layers/causalConv1d';
export * from '../layers/channelNorm';
export * from '../layers/layerNorm';
export * from '../layers/linear';
export * from '../layers/activations';
export * from '../layers/param';
export * from '../layers/recurrent';
export * from '../layers/rope';
export * from '../layers/kvCache';
export * from '../layers/attention';
export * from '../models/mimi/seanet';
export * from '../models/mimi/seanetBlock';
export * from '../models/mimi/transformer';
export * from '../audio/sincResample';
export * from '../audio/causalResampler';
export * from '../audio/interpolate';
export { tidyTyped } from '../util/tidy';
