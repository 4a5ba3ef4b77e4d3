/** The parity metric: rel = max|y - ref| / rms(ref) over the whole output, plus exact shapes. */
export interface Comparison {
  shape_ok: boolean;
  max_abs: number;
  rel: number;
  /** Number of non-finite values in y. */
  non_finite: number;
}

export function compareArrays(y: ArrayLike<number>, yShape: readonly number[], ref: ArrayLike<number>, refShape: readonly number[]): Comparison {
  const shape_ok = yShape.length === refShape.length && yShape.every((d, i) => d === refShape[i]);
  const n = Math.min(y.length, ref.length);
  let maxAbs = 0;
  let sq = 0;
  let nonFinite = 0;
  for (let i = 0; i < ref.length; i++) sq += ref[i] * ref[i];
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(y[i])) {
      nonFinite++;
      continue;
    }
    const d = Math.abs(y[i] - ref[i]);
    if (d > maxAbs) maxAbs = d;
  }
  const rms = Math.sqrt(sq / Math.max(1, ref.length));
  let rel = rms > 0 ? maxAbs / rms : maxAbs === 0 ? 0 : Infinity;
  if (!shape_ok || nonFinite > 0 || y.length !== ref.length) rel = nonFinite > 0 ? Infinity : rel;
  return { shape_ok: shape_ok && y.length === ref.length, max_abs: nonFinite > 0 ? Infinity : maxAbs, rel, non_finite: nonFinite };
}

export const DEFAULT_TOLERANCE = 1e-4;
