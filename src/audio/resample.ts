/**
 * General offline resampling between any two positive integer sample rates (windowed sinc, torchaudio-compatible).
 * The Mimi offline path uses the same filter for 16 kHz -> 24 kHz.
 */
import { SincResampleOptions, sincResample } from './sincResample';
import { assertFinite } from '../util/finite';

export type { SincResampleOptions };

export function resample(x: Float32Array, fromRate: number, toRate: number, opts: SincResampleOptions = {}): Float32Array {
  if (!(x instanceof Float32Array)) throw new TypeError('resample: expected a Float32Array');
  for (const [v, n] of [[fromRate, 'fromRate'], [toRate, 'toRate']] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`resample: ${n} must be a positive integer sample rate, got ${v}`);
  }
  assertFinite(x, 'resample');
  return sincResample(x, fromRate, toRate, opts);
}
