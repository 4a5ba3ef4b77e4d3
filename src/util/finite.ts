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
