import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { readWavMono } from '../../audio/wav';
import { resample } from '../../audio/resample';
import { EncoderCPC } from '../../models/cpc/encoderCpc';
import { cpcRealtimeLoop } from '../../parity/runCase';
import { openWeights } from '../../weights/store';
import { writeSafetensors } from '../../weights/safetensors';
import { UsageError, parseArgs } from '../args';
import { BACKEND_FLAG, NAME_MAP_FLAG, channelFlag, encoderFlag, frameHzFlag, mimiConfigFlag, nameMapFlag, onePositional, progress, required, useBackend } from './common';
import type { NameMap } from '../../weights/nameMap';
import type { Command } from './index';
import { MAX_AUDIO_ABS, firstOutOfRange, formatSample } from '../../util/finite';
import { assertFiniteFeatures } from '../../models/offline';

export interface EncodedFeatures {
  data: Float32Array;
  frames: number;
  dim: number;
  frameHz: number;
}

/**
 * Reads a WAV file as 16 kHz mono (resampling and channel selection as asked). Samples outside the encoders'
 * range (non-finite, or |x| > MAX_AUDIO_ABS: a float WAV can hold anything) are refused with a UsageError naming
 * the first one, or with `clip` set to ±1 (non-finite ones too; NaN becomes 0) with a note on stderr.
 */
export function readAudio16k(file: string, channel: number | 'mix', allowResample: boolean, clip = false): Float32Array {
  if (!fs.existsSync(file)) throw new UsageError(`input file not found: ${file}`);
  const { sampleRate, samples } = readWavMono(new Uint8Array(fs.readFileSync(file)), channel);
  const bad = firstOutOfRange(samples);
  if (bad >= 0 && !clip) {
    throw new UsageError(
      `${file}: sample ${bad} (${(bad / sampleRate).toFixed(3)} s) is ${formatSample(samples[bad])}, outside the accepted range ±${MAX_AUDIO_ABS} ` +
        '(full scale is ±1); --clip clips the input to [-1, 1]',
    );
  }
  if (clip) {
    let n = 0;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i];
      if (!(Math.abs(v) <= 1)) {
        samples[i] = Number.isNaN(v) ? 0 : Math.sign(v);
        n++;
      }
    }
    if (n) process.stderr.write(`${file}: ${n} samples clipped to [-1, 1]\n`);
  }
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
    const y = enc.forward(wave, { onProgress: progress('encode') });
    const r = { data: y.dataSync() as Float32Array, frames: y.shape[1], dim: y.shape[2], frameHz: 50 };
    y.dispose(); // the data stays valid: dataSync gave a copy (wasm) or the backend's own array, now ours (cpu)
    return r;
  } finally {
    enc.dispose();
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
      clip: { type: 'boolean' },
    });
    const input = onePositional(p, 'input WAV file');
    const encoder = encoderFlag(p);
    const weightsFile = required(p, 'weights');
    const output = required(p, 'output');
    const frameHz = frameHzFlag(p, encoder);
    const channel = channelFlag(p);
    await useBackend(p);
    const wave = readAudio16k(input, channel, !p.flags['no-resample'], !!p.flags.clip);
    let feats: EncodedFeatures;
    if (encoder === 'cpc') {
      feats = await encodeCpc(weightsFile, wave, !!p.flags.stream, frameHz, nameMapFlag(p));
    } else {
      const { encodeMimi } = await import('./encodeMimi');
      feats = await encodeMimi(weightsFile, wave, !!p.flags.stream, frameHz, progress('encode'), mimiConfigFlag(p), nameMapFlag(p));
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
    fs.writeFileSync(output, bytes);
    process.stderr.write(`${output}: ${feats.frames} frames x ${feats.dim} at ${feats.frameHz} Hz\n`);
    return 0;
  },
};
