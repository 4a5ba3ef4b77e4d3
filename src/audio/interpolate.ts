/**
 * Linear interpolation along time, as torch.nn.functional.interpolate(mode='linear', align_corners=False)
 * computes it in float32: source index (dst + 0.5) * (in / out) - 0.5, clamped at 0.
 */

/** frames: [inT, C] row-major; returns [outT, C]. */
export function interpolateLinear(frames: Float32Array, inT: number, C: number, outT: number): Float32Array {
  if (frames.length !== inT * C) throw new RangeError(`interpolateLinear: expected ${inT}x${C} values, got ${frames.length}`);
  if (!Number.isInteger(outT) || outT < 0) throw new RangeError(`interpolateLinear: bad output length ${outT}`);
  const out = new Float32Array(outT * C);
  if (outT === 0 || inT === 0) return out;
  const f = Math.fround;
  const scale = f(inT / outT);
  for (let d = 0; d < outT; d++) {
    let src = f(f(f(d + 0.5) * scale) - 0.5);
    if (src < 0) src = 0;
    const i0 = Math.floor(src);
    const i1 = i0 + (i0 < inT - 1 ? 1 : 0);
    const l1 = f(src - i0);
    const l0 = f(1 - l1);
    const a = i0 * C;
    const b = i1 * C;
    const o = d * C;
    for (let c = 0; c < C; c++) out[o + c] = f(f(l0 * frames[a + c]) + f(l1 * frames[b + c]));
  }
  return out;
}
