/** Input checks shared by the encoders: shape normalisation ([B, T, 1] tensors or host rows) and finiteness. */
import * as tf from '@tensorflow/tfjs-core';
import { assertFinite } from '../util/finite';

/**
 * Accepts Float32Array [T] or a float32 tensor [T], [B, T] or [B, 1, T]; returns [B, T, 1] (channels-last).
 * Non-finite samples are an error. The result may be the input itself only if it already had the right layout.
 */
export function toWaveTensor(wave: Float32Array | tf.Tensor, where: string): tf.Tensor3D {
  if (wave instanceof Float32Array) {
    if (wave.length === 0) throw new RangeError(`${where}: empty input`);
    assertFinite(wave, where);
    return tf.tensor3d(wave, [1, wave.length, 1]);
  }
  if (!(wave instanceof tf.Tensor)) {
    throw new TypeError(`${where}: expected a Float32Array or a tf.Tensor, got ${wave === null ? 'null' : typeof wave}`);
  }
  if (wave.dtype !== 'float32') throw new TypeError(`${where}: expected a float32 tensor, got ${wave.dtype}`);
  if (wave.size === 0) throw new RangeError(`${where}: empty input`);
  const finite = tf.tidy(() => tf.all(tf.isFinite(wave)).dataSync()[0]);
  if (!finite) throw new RangeError(`${where}: input contains non-finite samples`);
  const s = wave.shape;
  if (s.length === 1) return tf.reshape(wave, [1, s[0], 1]);
  if (s.length === 2) return tf.reshape(wave, [s[0], s[1], 1]);
  if (s.length === 3 && s[1] === 1) return tf.reshape(wave, [s[0], s[2], 1]);
  throw new RangeError(`${where}: expected a waveform of shape [T], [B, T] or [B, 1, T], got [${s}]`);
}

/** Accepts Float32Array [T], an array of rows, or a float32 tensor [T], [B, T] or [B, 1, T]; returns host rows of equal length. */
export function toRows(wave: Float32Array | Float32Array[] | tf.Tensor, where: string): Float32Array[] {
  let rows: Float32Array[];
  if (wave instanceof Float32Array) rows = [wave];
  else if (Array.isArray(wave)) rows = wave;
  else if (wave instanceof tf.Tensor) {
    if (wave.dtype !== 'float32') throw new TypeError(`${where}: expected a float32 tensor, got ${wave.dtype}`);
    const s = wave.shape;
    const T = s[s.length - 1];
    if (!(s.length === 1 || s.length === 2 || (s.length === 3 && s[1] === 1))) {
      throw new RangeError(`${where}: expected a waveform of shape [T], [B, T] or [B, 1, T], got [${s}]`);
    }
    const data = wave.dataSync() as Float32Array;
    const B = s.length === 1 ? 1 : s[0];
    rows = Array.from({ length: B }, (_, b) => data.slice(b * T, (b + 1) * T));
  } else {
    throw new TypeError(`${where}: expected a Float32Array, an array of them, or a tf.Tensor`);
  }
  if (rows.length === 0) throw new RangeError(`${where}: empty batch`);
  for (const [i, r] of rows.entries()) {
    if (!(r instanceof Float32Array)) throw new TypeError(`${where}: row ${i} is not a Float32Array`);
    if (r.length !== rows[0].length) throw new RangeError(`${where}: row ${i} has ${r.length} samples, row 0 has ${rows[0].length}`);
    assertFinite(r, `${where} (row ${i})`);
  }
  if (rows[0].length === 0) throw new RangeError(`${where}: empty input`);
  return rows;
}

