/**
 * MaAI's ObjectiveVAP in 'vap' mode (no trained parameters): the 256 classes are 8 activity bits, least significant
 * first (bits 0-3: speaker 1's four future bins, bits 4-7: speaker 2's). From softmax(logits):
 *   p_bins[s][k] = sum_c probs[c] * bit(c, s, k)
 *   p_now[s] = (p_bins[s][0] + p_bins[s][1]) / (sum over both speakers + 1e-5), p_future likewise with bins 2, 3
 *   p_bins_now[s] = (p_bins[s][0] + p_bins[s][1]) / 2, p_bins_future with bins 2, 3.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../../util/tidy';
import { WeightStore } from '../../weights/store';

export const DEFAULT_BIN_TIMES = [0.2, 0.4, 0.6, 0.8];

/** The codebook as upstream builds it: row c, column b = (c >> b) & 1. */
export function codebookBits(bins = 4, speakers = 2): Float32Array {
  const bits = bins * speakers;
  const out = new Float32Array(2 ** bits * bits);
  for (let c = 0; c < 2 ** bits; c++) for (let b = 0; b < bits; b++) out[c * bits + b] = (c >> b) & 1;
  return out;
}

/** Bin lengths in frames: floor(t * frame_hz + 0.5) in float32, at least 1 (they only matter for training labels). */
export function binFrames(binTimes: readonly number[], frameHz: number): number[] {
  return binTimes.map((t) => Math.max(1, Math.floor(Math.fround(Math.fround(Math.fround(t) * Math.fround(frameHz)) + 0.5))));
}

export interface VapProbabilities {
  /** [B, T, 2] each. */
  pNow: tf.Tensor3D;
  pFuture: tf.Tensor3D;
  /** [B, T, 2, bins]. */
  pBins: tf.Tensor4D;
  pBinsNow: tf.Tensor3D;
  pBinsFuture: tf.Tensor3D;
}

export class ObjectiveVAP {
  readonly bins: number;
  /** [classes, 2 * bins]. */
  readonly codebook: tf.Tensor2D;

  constructor(codebook: Float32Array, readonly binTimes: readonly number[] = DEFAULT_BIN_TIMES) {
    this.bins = binTimes.length;
    const bits = 2 * this.bins;
    if (codebook.length !== 2 ** bits * bits) throw new RangeError(`ObjectiveVAP: codebook of ${codebook.length} values, expected ${2 ** bits} x ${bits}`);
    this.codebook = tf.keep(tf.tensor2d(codebook, [2 ** bits, bits]));
  }

  /** Reads `objective.codebook.emb.weight` [256, 8] (a frozen table saved in checkpoints; it must hold the bits). */
  static load(store: WeightStore, binTimes: readonly number[] = DEFAULT_BIN_TIMES): ObjectiveVAP {
    const bits = 2 * binTimes.length;
    const name = 'objective.codebook.emb.weight';
    if (!store.has(name)) return new ObjectiveVAP(codebookBits(binTimes.length), binTimes);
    const cb = store.getArray(name, [2 ** bits, bits]);
    const want = codebookBits(binTimes.length);
    const bad = want.findIndex((v, i) => v !== cb[i]);
    if (bad >= 0) throw new RangeError(`${store.label}: "${name}" row ${Math.floor(bad / bits)} is not the bits of its index (LSB first)`);
    return new ObjectiveVAP(cb, binTimes);
  }

  get numClasses(): number {
    return this.codebook.shape[0];
  }

  /** logits [B, T, classes] -> the probabilities above. */
  probabilities(logits: tf.Tensor3D): VapProbabilities {
    return tidyTyped(() => {
      const [B, T, C] = logits.shape;
      const probs = tf.softmax(logits, -1);
      const pBins = tf.reshape(tf.matMul(tf.reshape(probs, [B * T, C]), this.codebook), [B, T, 2, this.bins]) as tf.Tensor4D;
      const half = this.bins / 2;
      const now = tf.sum(tf.slice(pBins, [0, 0, 0, 0], [-1, -1, -1, half]), -1) as tf.Tensor3D;
      const future = tf.sum(tf.slice(pBins, [0, 0, 0, half], [-1, -1, -1, this.bins - half]), -1) as tf.Tensor3D;
      const norm = (a: tf.Tensor3D) => tf.div(a, tf.add(tf.sum(a, -1, true), 1e-5)) as tf.Tensor3D;
      return {
        pNow: norm(now),
        pFuture: norm(future),
        pBins,
        pBinsNow: tf.div(now, half) as tf.Tensor3D,
        pBinsFuture: tf.div(future, this.bins - half) as tf.Tensor3D,
      };
    });
  }

  dispose(): void {
    this.codebook.dispose();
  }
}
