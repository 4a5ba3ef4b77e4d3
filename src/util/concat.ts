/** Concatenates Float32Arrays into a new one. */
export function concatRows(rows: Float32Array[]): Float32Array {
  return join(rows, new Float32Array(total(rows)));
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return join(parts, new Uint8Array(total(parts)));
}

function total(parts: ArrayLike<unknown>[]): number {
  return parts.reduce((n, p) => n + p.length, 0);
}

function join<T extends Float32Array | Uint8Array>(parts: T[], out: T): T {
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
