/** Index of the first value that is NaN or infinite, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** Audio must be finite: a RangeError naming `where` and the first bad sample otherwise. */
export function assertFinite(data: ArrayLike<number>, where: string): void {
  const i = firstNonFinite(data);
  if (i >= 0) throw new RangeError(`${where}: sample ${i} is ${data[i]}; audio must be finite`);
}

/**
 * The range the encoders accept for input samples: |x| <= 65536. Full scale is ±1; the bound leaves room for
 * unscaled 16-bit values and refuses what makes float32 arithmetic overflow in the first layers (a burst of 3e38
 * in a float WAV turns every offline Mimi frame into NaN, frames before the burst included).
 */
export const MAX_AUDIO_ABS = 65536;

/** Index of the first sample that is not finite or outside ±MAX_AUDIO_ABS, or -1. */
export function firstOutOfRange(data: ArrayLike<number>, limit = MAX_AUDIO_ABS): number {
  for (let i = 0; i < data.length; i++) if (!(Math.abs(data[i]) <= limit)) return i;
  return -1;
}

/** A float32 sample for a message: 7 significant digits (3e+38, not 3.0000000054977558e+38). */
export function formatSample(v: number): string {
  return Number.isFinite(v) ? String(+v.toPrecision(7)) : String(v);
}

/** Encoder input must be finite and within ±MAX_AUDIO_ABS: a RangeError naming `where` and the first bad sample. */
export function assertAudio(data: ArrayLike<number>, where: string): void {
  const i = firstOutOfRange(data);
  if (i < 0) return;
  if (!Number.isFinite(data[i])) throw new RangeError(`${where}: sample ${i} is ${data[i]}; audio must be finite`);
  throw new RangeError(`${where}: sample ${i} is ${formatSample(data[i])}, outside the accepted range ±${MAX_AUDIO_ABS} (full scale is ±1)`);
}
