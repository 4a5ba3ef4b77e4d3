/** Reading an audio file (WAV) as 16 kHz mono, the input every encoder takes. */
import * as fs from 'node:fs';
import { readWavMono } from './wav';
import { resample } from './resample';
import { MAX_AUDIO_ABS, firstOutOfRange, formatSample } from '../util/finite';

/**
 * An audio file that cannot be used as asked: missing, a folder, at another sample rate with resampling off, or holding
 * samples outside the encoders' range (a float WAV can hold anything: NaN, 3e38).
 */
export class AudioInputError extends Error {
  constructor(message: string, readonly reason: 'not-found' | 'not-a-file' | 'sample-rate' | 'range') {
    super(message);
    this.name = 'AudioInputError';
  }
}

export interface ReadAudioOptions {
  /** Clip samples to [-1, 1] (NaN to 0) instead of refusing samples outside ±MAX_AUDIO_ABS. */
  clip?: boolean;
  /** Called with the number of samples clipped, when there were any. */
  onClip?: (count: number) => void;
}

/**
 * Reads a WAV file as 16 kHz mono: channel `channel` or the mix of all channels, resampled to 16 kHz unless
 * `allowResample` is false (then another rate is an AudioInputError). A malformed file is a FormatError. A sample
 * that is not finite or outside ±MAX_AUDIO_ABS is an AudioInputError naming it, unless `opts.clip`.
 */
export function readAudio16k(file: string, channel: number | 'mix' = 'mix', allowResample = true, opts: ReadAudioOptions = {}): Float32Array {
  if (!fs.existsSync(file)) throw new AudioInputError(`input file not found: ${file}`, 'not-found');
  if (fs.statSync(file).isDirectory()) throw new AudioInputError(`input file ${file} is a folder, not a file`, 'not-a-file');
  const { sampleRate, samples } = readWavMono(new Uint8Array(fs.readFileSync(file)), channel);
  if (opts.clip) {
    const n = clipAudio(samples);
    if (n) opts.onClip?.(n);
  } else {
    const bad = firstOutOfRange(samples);
    if (bad >= 0) {
      throw new AudioInputError(
        `${file}: sample ${bad} (${(bad / sampleRate).toFixed(3)} s) is ${formatSample(samples[bad])}, outside the accepted range ±${MAX_AUDIO_ABS} (full scale is ±1)`,
        'range',
      );
    }
  }
  if (sampleRate === 16000) return samples;
  if (!allowResample) throw new AudioInputError(`${file}: sample rate ${sampleRate} Hz, expected 16000`, 'sample-rate');
  return resample(samples, sampleRate, 16000);
}

/** Clips samples to [-1, 1] in place (NaN becomes 0); returns how many were changed. */
export function clipAudio(samples: Float32Array): number {
  let n = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (!(Math.abs(v) <= 1)) {
      samples[i] = Number.isNaN(v) ? 0 : Math.sign(v);
      n++;
    }
  }
  return n;
}
