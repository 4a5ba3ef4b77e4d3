/**
 * maai-encoder-tfjs for browsers (built to dist/browser/maai-encoder.js): the Node entry's API where it makes
 * sense, with browser backends (wasm, webgl, webgpu, cpu) and weights from a URL, bytes or a File instead of paths.
 * Node-only pieces (openWeights, SafetensorsFile.open, loadCase, the CLI, threaded wasm for Node) are left out.
 */
export { setBackend, currentBackend, webgpuUnavailableReason, BROWSER_BACKENDS } from './backend';
export type { BrowserBackendName, BrowserBackendOptions, BackendReport } from './backend';
export { BackendError } from '../backend/errors';
export { loadWeights, weightsFromBytes } from './loadWeights';
export type { LoadWeightsOptions, WeightsFormat, WeightsSource } from './loadWeights';
export { fetchBytes, FetchError, DEFAULT_CACHE } from './fetchBytes';
export type { FetchProgress, FetchBytesOptions } from './fetchBytes';
export { startMicrophone, MicrophoneError } from './micInput';
export type { MicrophoneInput, MicrophoneOptions } from './micInput';
export { FeatureHeatmap } from './heatmap';

export { WeightStore, WeightError } from '../weights/store';
export * from '../weights/types';
export { SafetensorsFile, readSafetensors, writeSafetensors, parseHeader, memorySource, MAX_HEADER_BYTES } from '../weights/safetensors';
export type { TensorInfo, SafetensorsHeader, ByteSource } from '../weights/safetensors';
export { parseManifest, buildFromManifest, detweightsTensor, fnv1a32 } from '../weights/detweights';
export type { Manifest, ManifestEntry } from '../weights/detweights';
export * from '../weights/torchCheckpoint';
export * from '../weights/nameMap';
export * from '../audio/wav';
export * from '../audio/resample';
export * from '../audio/sincResample';
export * from '../audio/causalResampler';
export * from '../audio/interpolate';
export * from '../models/cpc/encoderCpc';
export * from '../models/mimi/mimiConfig';
export * from '../models/mimi/encoderMimi';
export * from '../models/mimi/mimiStream';
export * from '../models/mimi/mimi';
export * from '../pipeline/types';
export * from '../pipeline/realtimeLoop';
export * from '../pipeline/encoderSession';
export * from '../pipeline/buildAudioEncoder';
export * from '../parity/compare';
export { caseFromBytes, signalFromBytes, caseTensor, caseInts } from '../parity/goldenCase';
export type { GoldenCase } from '../parity/goldenCase';
export { runParity, parityLine, registerParityRunner, metaNumber } from '../parity/runCase';
export type { ParityResult, ParityOptions } from '../parity/runCase';
export { registerMimiParity, caseMimiConfig } from '../parity/mimiRunners';
export { stats } from '../bench/stats';
export type { Stats } from '../bench/stats';
export { TimedSession } from './timedSession';
export type { SessionFigures } from './timedSession';
export { playPaced } from './pacedSource';
export type { PacedSource } from './pacedSource';
/** The bundle's own tfjs-core (tensors returned by the encoders belong to it: use this `tf`, not another copy). */
export * as tf from '@tensorflow/tfjs-core';
