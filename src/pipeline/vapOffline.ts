/**
 * VAP over two whole channels: the encoder features of both channels, then one VapGPT forward over all frames
 * (causal + context-limit mask, which reproduces the streamed steps).
 * - Mimi: EncoderMimi's offline path (sinc resampling, no caches) on both channels, then relu(decrease_dimension).
 * - CPC: MaAI has no whole-waveform 10 Hz CPC path, so the features come from its realtime windows
 *   (contextSamples + round(16000 / frame_hz) samples, the LSTM state kept), as the golden offline cases do.
 */
import * as tf from '@tensorflow/tfjs-core';
import { VapEncoder } from '../models/vap/vapEncoder';
import { VapGPT, VapOutput } from '../models/vap/vapModel';
import { disposeCache } from '../models/vap/vapCache';
import { assertFinite } from '../util/finite';
import { concatRows } from '../util/concat';
import { runRealtime } from './realtimeLoop';

export interface VapOfflineResult {
  /** Raw encoder features [2, T, enc_dim] (channel 1, channel 2) and VAP inputs x1, x2 [1, T, dim]. */
  enc: tf.Tensor3D;
  x1: tf.Tensor3D;
  x2: tf.Tensor3D;
  out: VapOutput;
}

/** Encoder features of both channels, [2, T, enc_dim]. */
export function encodeChannels(encoder: VapEncoder, wave1: Float32Array, wave2: Float32Array, contextSamples = 320): tf.Tensor3D {
  if (wave1.length !== wave2.length) throw new RangeError(`VAP offline: channels have ${wave1.length} and ${wave2.length} samples; they must be equally long`);
  assertFinite(wave1, 'VAP offline channel 1');
  assertFinite(wave2, 'VAP offline channel 2');
  const enc = encoder.encoder;
  if (encoder.type === 'mimi') {
    const x = tf.tensor2d(concatRows([wave1, wave2]), [2, wave1.length]);
    try {
      return enc.forward(x);
    } finally {
      x.dispose();
    }
  }
  // CPC: each channel through the realtime driver (one stream per channel, as Maai's encoder1 / encoder2).
  const runs = [wave1, wave2].map((w) => runRealtime(enc, w, { callWindow: { callHz: encoder.frameHz, context: contextSamples }, finalize: false }));
  if (runs[0].frames === 0) throw new RangeError(`VAP offline: ${wave1.length} samples are shorter than one CPC call (${runs[0].geometry.shift} new samples)`);
  return tf.tensor3d(concatRows(runs.map((r) => r.data)), [2, runs[0].frames, runs[0].dim]);
}

/** Both channels through the encoders, then one forward. The caller disposes the tensors. */
export function runVapOffline(model: VapGPT, encoder: VapEncoder, wave1: Float32Array, wave2: Float32Array): VapOfflineResult {
  const enc = encodeChannels(encoder, wave1, wave2);
  if (enc.shape[1] === 0) {
    enc.dispose();
    throw new RangeError(`VAP offline: ${wave1.length} samples give no encoder frame`);
  }
  const [x1, x2] = tf.tidy(() => tf.split(encoder.adapt(enc), 2, 0) as [tf.Tensor3D, tf.Tensor3D]);
  try {
    const { out, cache } = model.forward(x1, x2);
    disposeCache(cache);
    return { enc, x1, x2, out };
  } catch (e) {
    tf.dispose([enc, x1, x2]);
    throw e;
  }
}
