/** Reading an audio file (WAV) as 16 kHz mono, the input every encoder takes. */
import * as fs from 'node:fs';
import { readWavMono } from './wav';
import { resample } from './resample';

/** An audio file that cannot be used as asked: missing, a folder, or at another sample rate with resampling off. */
export class AudioInputError extends Error {
  constructor(message: string, readonly reason: 'not-found' | 'not-a-file' | 'sample-rate') {
    super(message);
    this.name = 'AudioInputError';
  }
}

/**
 * Reads a WAV file as 16 kHz mono: channel `channel` or the mix of all channels, resampled to 16 kHz unless
 * `allowResample` is false (then another rate is an AudioInputError). A malformed file is a FormatError.
 */
export function readAudio16k(file: string, channel: number | 'mix' = 'mix', allowResample = true): Float32Array {
  if (!fs.existsSync(file)) throw new AudioInputError(`input file not found: ${file}`, 'not-found');
  if (fs.statSync(file).isDirectory()) throw new AudioInputError(`input file ${file} is a folder, not a file`, 'not-a-file');
  const { sampleRate, samples } = readWavMono(new Uint8Array(fs.readFileSync(file)), channel);
  if (sampleRate === 16000) return samples;
  if (!allowResample) throw new AudioInputError(`${file}: sample rate ${sampleRate} Hz, expected 16000`, 'sample-rate');
  return resample(samples, sampleRate, 16000);
}
