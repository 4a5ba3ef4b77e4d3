import * as tf from '@tensorflow/tfjs-core';
import { runRealtime } from '../../pipeline/realtimeLoop';
import type { AudioEncoder } from '../../pipeline/types';
import { writeSafetensors } from '../../weights/safetensors';
import { parseArgs } from '../args';
import { ENCODE_FLAGS, channelFlag, encoderFlag, frameHzFlag, loadEncoder, mimiConfigFile, onePositional, progress, readInputAudio, required, useBackend } from './common';
import { assertFiniteFeatures } from '../../models/offline';
import { checkOutput, writeOutput } from '../output';
import type { Command } from './command';

export interface EncodedFeatures {
  data: Float32Array;
  frames: number;
  dim: number;
  frameHz: number;
}

/**
 * Features of a 16 kHz signal: offline (long signals in chunks with carried state, see the encoders' forward), or
 * through MaAI's realtime loop (10 ms chunks, flushed at the end).
 */
export function encodeFeatures(enc: AudioEncoder, wave: Float32Array, stream: boolean, frameHz: number, onProgress: (done: number, total: number) => void): EncodedFeatures {
  if (stream) {
    const r = runRealtime(enc, wave, { callWindow: { callHz: frameHz }, onCall: onProgress });
    return { data: r.data, frames: r.frames, dim: r.dim, frameHz: r.geometry.frameHz };
  }
  const y = enc.forward(wave, { onProgress });
  try {
    // dataSync gives a copy (wasm, tensorflow) or the backend's own array, no longer the backend's once y is disposed (cpu).
    return { data: y.dataSync() as Float32Array, frames: y.shape[1], dim: y.shape[2], frameHz: enc.frameHz };
  } finally {
    y.dispose();
  }
}

export const encode: Command = {
  summary: 'features of a WAV file: encode --encoder cpc|mimi --weights FILE IN.wav -o OUT.safetensors',
  help:
    'Usage: maai-encoder encode --encoder cpc|mimi --weights FILE IN.wav -o OUT.safetensors\n' +
    '         [--stream] [--frame-hz 10|12.5] [--channel N|mix] [--no-resample] [--clip] [--backend B]\n' +
    '         [--mimi-config kyutai/mimi|tiny|CONFIG.json] [--name-map cpc-checkpoint|vap|JSON]\n\n' +
    'Encodes a WAV file (any sample rate and channel count: resampled to 16 kHz, channel N picked or channels\n' +
    'mixed down; default mix) offline, or through MaAI\'s realtime loop with --stream (320 samples of context,\n' +
    'calls every 16000/frame_hz samples). Writes `features` [frames, dim] float32 with metadata (encoder,\n' +
    'frame_rate, frames, dim, streaming, source). Offline, long files are encoded in 5 s chunks with carried\n' +
    'state (bounded memory, same result). Samples outside ±65536 (full scale ±1) are refused unless --clip clips\n' +
    'the input to [-1, 1]; non-finite features are an error, never written.',
  async run(argv) {
    const p = parseArgs(argv, { ...ENCODE_FLAGS, stream: { type: 'boolean' }, 'no-resample': { type: 'boolean' } });
    const input = onePositional(p, 'input WAV file');
    const encoder = encoderFlag(p);
    const weightsFile = required(p, 'weights');
    // Checked before any work: not a folder, not in a missing folder, not one of the inputs.
    const output = checkOutput(required(p, 'output'), [['input', input], ['weights file', weightsFile], ['Mimi config', mimiConfigFile(p)]]);
    const frameHz = frameHzFlag(p, encoder);
    const channel = channelFlag(p);
    await useBackend(p);
    const wave = readInputAudio(p, input, channel, !p.flags['no-resample']);
    const enc = await loadEncoder(p, encoder, weightsFile, frameHz);
    let feats: EncodedFeatures;
    try {
      feats = encodeFeatures(enc, wave, !!p.flags.stream, frameHz, progress('encode'));
    } finally {
      enc.dispose();
    }
    assertFiniteFeatures(feats.data, feats.frames, feats.dim, 'encode');
    const bytes = writeSafetensors([['features', { dtype: 'F32', shape: [feats.frames, feats.dim], data: feats.data }]], {
      encoder,
      frame_rate: String(feats.frameHz),
      frames: String(feats.frames),
      dim: String(feats.dim),
      streaming: String(!!p.flags.stream),
      source: input,
      backend: tf.getBackend(),
    });
    writeOutput(output, bytes);
    process.stderr.write(`${output.given}: ${feats.frames} frames x ${feats.dim} at ${feats.frameHz} Hz\n`);
    return 0;
  },
};
