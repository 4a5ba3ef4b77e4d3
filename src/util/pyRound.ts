/** Python's round() on a float: nearest integer, halves to even. Frame counts and resampler targets depend on it. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
