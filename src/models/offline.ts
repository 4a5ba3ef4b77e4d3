/**
 * Options of the encoders' offline `forward` for long signals. A signal longer than one chunk is encoded in chunks
 * with the state carried between them (exactly equal to the one-shot pass), so memory is bounded by the chunk
 * length, not the signal's; a signal of at most one chunk runs in one piece.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { firstNonFinite } from '../util/finite';

/** 5 s at 16 kHz: the default chunk of the offline pass. */
export const DEFAULT_OFFLINE_CHUNK_SAMPLES = 80000;

export interface OfflineOptions {
  /**
   * 16 kHz samples per chunk of the offline pass (default 80000 = 5 s), rounded down to a multiple of the
   * encoder's hop (Mimi 1280, CPC 320; at least one hop). Smaller chunks use less memory and run a little slower.
   */
  chunkSamples?: number;
  /** Called as the pass advances with (16 kHz samples done, total samples); the last call has done === total. */
  onProgress?: (done: number, total: number) => void;
}

/** The chunk length in 16 kHz samples: a positive multiple of `hop`. */
export function offlineChunkSamples(opts: OfflineOptions, hop: number, where: string): number {
  const c = opts.chunkSamples ?? DEFAULT_OFFLINE_CHUNK_SAMPLES;
  if (typeof c !== 'number' || !Number.isFinite(c) || c < hop) {
    throw new RangeError(`${where}: chunkSamples must be a number of 16 kHz samples >= ${hop}, got ${c}`);
  }
  return Math.floor(c / hop) * hop;
}

/** `onProgress` as the passes call it: (done) with the total fixed, each value of `done` reported once, in order. */
export function progressReporter(onProgress: OfflineOptions['onProgress'], total: number): (done: number) => void {
  let last = -1;
  return (done) => {
    if (!onProgress || done <= last) return;
    last = done;
    onProgress(done, total);
  };
}

/** Non-finite features ([B, frames, dim] row-major) are an error: a RangeError naming `where`, the row, frame and channel. */
export function assertFiniteFeatures(data: ArrayLike<number>, frames: number, dim: number, where: string): void {
  const i = firstNonFinite(data);
  if (i < 0) return;
  const b = Math.floor(i / (frames * dim));
  const f = Math.floor(i / dim) % frames;
  throw new RangeError(
    `${where}: the output is non-finite (row ${b}, frame ${f}, channel ${i % dim}: ${data[i]}); ` +
      'the weights or the config make the model overflow',
  );
}

/** `y` ([B, frames, dim]) if its features are all finite; otherwise it is disposed and assertFiniteFeatures' error thrown. */
export function checkedFeatures(y: tf.Tensor3D, where: string): tf.Tensor3D {
  try {
    assertFiniteFeatures(y.dataSync(), y.shape[1], y.shape[2], where);
  } catch (e) {
    y.dispose();
    throw e;
  }
  return y;
}
