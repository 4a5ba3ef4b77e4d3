import * as tf from '@tensorflow/tfjs-core';
import { readWavMono } from '../../audio/wav';
import { resample } from '../../audio/resample';
import { EncoderCPC } from '../../models/cpc/encoderCpc';
import { cpcRealtimeLoop } from '../../parity/runCase';
import { openWeights } from '../../weights/store';
import { writeSafetensors } from '../../weights/safetensors';
import { UsageError, parseArgs } from '../args';
import { BACKEND_FLAG, NAME_MAP_FLAG, channelFlag, encoderFlag, frameHzFlag, mimiConfigFile, mimiConfigFlag, nameMapFlag, onePositional, progress, required, useBackend } from './common';
import { checkOutput, readInput, writeOutput } from '../output';
import type { NameMap } from '../../weights/nameMap';
import type { Command } from './index';

export interface EncodedFeatures {
  data: Float32Array;
  frames: number;
  dim: number;
  frameHz: number;
}

/** Reads a WAV file as 16 kHz mono (resampling and channel selection as asked). */
export function readAudio16k(file: string, channel: number | 'mix', allowResample: boolean): Float32Array {
  const { sampleRate, samples } = readWavMono(readInput(file, 'input file'), channel);
  if (sampleRate === 16000) return samples;
  if (!allowResample) throw new UsageError(`${file}: sample rate ${sampleRate} Hz, expected 16000 (drop --no-resample to resample)`);
  return resample(samples, sampleRate, 16000);
}

async function encodeCpc(weightsFile: string, wave: Float32Array, stream: boolean, frameHz: number, nameMap?: NameMap): Promise<EncodedFeatures> {
  const enc = EncoderCPC.load(await openWeights(weightsFile, { nameMap }));
  try {
    if (stream) {
      const shift = Math.round(16000 / frameHz);
      const out = cpcRealtimeLoop(enc, wave, { window: 320 + shift, shift, leadingZeros: 320 }, progress('encode'));
      // Each call emits framesFor(window) frames (3 with EncoderCPC's k5 downsample), so the rate is that x frame_hz.
      return { data: out.data, frames: out.shape[0], dim: out.shape[1], frameHz: enc.framesFor(320 + shift) * frameHz };
    }
    const y = enc.forward(wave);
    const data = y.dataSync() as Float32Array;
    const r = { data, frames: y.shape[1], dim: y.shape[2], frameHz: 50 };
    y.dispose();
    return r;
  } finally {
    enc.dispose();
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
    const wave = readAudio16k(input, channel, !p.flags['no-resample']);
    let feats: EncodedFeatures;
    if (encoder === 'cpc') {
      feats = await encodeCpc(weightsFile, wave, !!p.flags.stream, frameHz, nameMapFlag(p));
    } else {
      const { encodeMimi } = await import('./encodeMimi');
      feats = await encodeMimi(weightsFile, wave, !!p.flags.stream, frameHz, progress('encode'), mimiConfigFlag(p), nameMapFlag(p));
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
