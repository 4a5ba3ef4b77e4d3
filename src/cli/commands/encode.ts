import * as tf from '@tensorflow/tfjs-core';
import { AudioInputError, readAudio16k } from '../../audio/readAudio';
import { runRealtime } from '../../pipeline/realtimeLoop';
import type { AudioEncoder } from '../../pipeline/types';
import { writeSafetensors } from '../../weights/safetensors';
import { UsageError, parseArgs } from '../args';
import { BACKEND_FLAG, NAME_MAP_FLAG, channelFlag, encoderFlag, frameHzFlag, loadEncoder, mimiConfigFile, onePositional, progress, required, useBackend } from './common';
import { checkOutput, writeOutput } from '../output';
import type { Command } from './command';

export interface EncodedFeatures {
  data: Float32Array;
  frames: number;
  dim: number;
  frameHz: number;
}

/** Features of a 16 kHz signal: offline, or through MaAI's realtime loop (10 ms chunks, flushed at the end). */
export function encodeFeatures(enc: AudioEncoder, wave: Float32Array, stream: boolean, frameHz: number, onProgress: (done: number, total: number) => void): EncodedFeatures {
  if (stream) {
    const r = runRealtime(enc, wave, { callWindow: { callHz: frameHz }, onCall: onProgress });
    return { data: r.data, frames: r.frames, dim: r.dim, frameHz: r.geometry.frameHz };
  }
  onProgress(0, 1);
  const y = enc.forward(wave);
  try {
    onProgress(1, 1);
    return { data: (y.dataSync() as Float32Array).slice(), frames: y.shape[1], dim: y.shape[2], frameHz: enc.frameHz };
  } finally {
    y.dispose();
  }
}

export const encode: Command = {
  summary: 'features of a WAV file: encode --encoder cpc|mimi --weights FILE IN.wav -o OUT.safetensors',
  help:
    'Usage: maai-encoder encode --encoder cpc|mimi --weights FILE IN.wav -o OUT.safetensors\n' +
    '         [--stream] [--frame-hz 10|12.5] [--channel N|mix] [--no-resample] [--backend B]\n' +
    '         [--mimi-config kyutai/mimi|tiny|CONFIG.json] [--name-map cpc-checkpoint|vap|JSON]\n\n' +
    'Encodes a WAV file (any sample rate and channel count: resampled to 16 kHz, channel N picked or channels\n' +
    'mixed down; default mix) offline, or through MaAI\'s realtime loop with --stream (320 samples of context,\n' +
    'calls every 16000/frame_hz samples). Writes `features` [frames, dim] float32 with metadata (encoder,\n' +
    'frame_rate, frames, dim, streaming, source).',
  async run(argv) {
    const p = parseArgs(argv, {
      ...BACKEND_FLAG,
      ...NAME_MAP_FLAG,
      encoder: { type: 'string' },
      weights: { type: 'string' },
      output: { type: 'string', short: 'o' },
      stream: { type: 'boolean' },
      'frame-hz': { type: 'string' },
      channel: { type: 'string' },
      'no-resample': { type: 'boolean' },
      'mimi-config': { type: 'string' },
    });
    const input = onePositional(p, 'input WAV file');
    const encoder = encoderFlag(p);
    const weightsFile = required(p, 'weights');
    // Checked before any work: not a folder, not in a missing folder, not one of the inputs.
    const output = checkOutput(required(p, 'output'), [['input', input], ['weights file', weightsFile], ['Mimi config', mimiConfigFile(p)]]);
    const frameHz = frameHzFlag(p, encoder);
    const channel = channelFlag(p);
    await useBackend(p);
    let wave: Float32Array;
    try {
      wave = readAudio16k(input, channel, !p.flags['no-resample']);
    } catch (e) {
      if (e instanceof AudioInputError && e.reason === 'sample-rate') throw new UsageError(`${e.message} (drop --no-resample to resample)`);
      throw e;
    }
    const enc = await loadEncoder(p, encoder, weightsFile, frameHz);
    let feats: EncodedFeatures;
    try {
      feats = encodeFeatures(enc, wave, !!p.flags.stream, frameHz, progress('encode'));
    } finally {
      enc.dispose();
    }
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
