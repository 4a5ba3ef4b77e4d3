/**
 * `maai-encoder-tfjs/layers`: the building blocks the encoders are made of, for readers and for new models:
 * generic tensor layers (conv, norms, activations, recurrent cells, attention, RoPE, KV cache), the Mimi SEANet
 * and transformer, and the DSP of the audio path (sinc and causal resamplers, linear interpolation).
 */
export * from './conv1d';
export * from './causalConv1d';
export * from './channelNorm';
export * from './layerNorm';
export * from './linear';
export * from './activations';
export * from './param';
export * from './recurrent';
export * from './rope';
export * from './kvCache';
export * from './attention';
export * from '../models/mimi/seanet';
export * from '../models/mimi/seanetBlock';
export * from '../models/mimi/transformer';
export * from '../audio/sincResample';
export * from '../audio/causalResampler';
export * from '../audio/interpolate';
export { tidyTyped } from '../util/tidy';
