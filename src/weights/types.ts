/** Plain (host-memory) tensors as read from weight files, before they become tfjs tensors. */

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_SIZE: Record<DType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/**
 * A tensor in host memory. `data` holds the values in the file's own dtype:
 * F64 -> Float64Array, F32 -> Float32Array, F16/BF16 -> Uint16Array (raw bits), I64 -> BigInt64Array,
 * I32 -> Int32Array, I16 -> Int16Array, I8 -> Int8Array, U8/BOOL -> Uint8Array.
 */
export interface RawTensor {
  dtype: DType;
  shape: number[];
  data: Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
}

/** Error type for every problem with a weights / audio file: bad format, bad header, missing tensor. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** IEEE half -> float32 (exact). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** bfloat16 -> float32 (exact: bf16 is the top half of a float32). */
export function bf16ToF32(h: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, (h & 0xffff) << 16);
  return buf.getFloat32(0);
}

/** Widens any RawTensor to float32 values (F16/BF16 exactly; integers and bools by value). */
export function toFloat32(t: RawTensor): Float32Array {
  const n = t.data.length;
  if (t.data instanceof Float32Array) return t.data;
  const out = new Float32Array(n);
  if (t.dtype === 'F16') for (let i = 0; i < n; i++) out[i] = f16ToF32((t.data as Uint16Array)[i]);
  else if (t.dtype === 'BF16') for (let i = 0; i < n; i++) out[i] = bf16ToF32((t.data as Uint16Array)[i]);
  else if (t.data instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = Number(t.data[i]);
  else for (let i = 0; i < n; i++) out[i] = Number((t.data as ArrayLike<number>)[i]);
  return out;
}
