/** maai-encoder-tfjs: MaAI's audio encoders on TensorFlow.js. */
export * from './backend';
export * from './weights/types';
export * from './weights/safetensors';
export * from './weights/detweights';
export * from './weights/store';
export * from './layers/conv1d';
export * from './layers/channelNorm';
export * from './layers/layerNorm';
export * from './layers/activations';
export * from './layers/recurrent';
export * from './models/cpc';
export * from './models/encoderCpc';
export * from './parity/compare';
export * from './parity/goldenCase';
export * from './parity/runCase';
