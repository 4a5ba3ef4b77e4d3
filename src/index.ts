/**
 * maai-encoder-tfjs: MaAI's audio encoders on TensorFlow.js. The root export is what a user needs: backend
 * choice, weights and audio I/O, the encoders and their streams, the realtime loop, session and factory, and the
 * parity metric. Building blocks (tensor layers, SEANet, transformer, DSP) are in `maai-encoder-tfjs/layers`;
 * the golden-case harness and the benchmarks in `maai-encoder-tfjs/parity`.
 */
// Backend choice
export * from './backend';
// Weights I/O
export * from './weights/types';
export * from './weights/safetensors';
export * from './weights/detweights';
export * from './weights/store';
export * from './weights/torchCheckpoint';
export * from './weights/nameMap';
// Audio I/O
export * from './audio/wav';
export * from './audio/resample';
export * from './audio/readAudio';
// Encoders and their streams
export * from './models/cpc/cpc';
export * from './models/cpc/encoderCpc';
export * from './models/mimi/mimiConfig';
export * from './models/mimi/mimi';
export * from './models/mimi/encoderMimi';
export * from './models/mimi/mimiStream';
export * from './models/mimi/onnxContract';
// Interfaces, realtime loop, session, factory
export * from './pipeline/types';
export * from './pipeline/realtimeLoop';
export * from './pipeline/encoderSession';
export * from './pipeline/buildAudioEncoder';
// Parity metric
export * from './parity/compare';
