/**
 * EncoderCPC's offline pass over a long signal in chunks, equal to the one-shot pass with memory bounded by the
 * chunk: the gEncoder's frames of a chunk come from a slice of the signal that holds their whole receptive field
 * (its conv stack is not causal: the slice overlaps the neighbours), the gAR carries its recurrent state from chunk
 * to chunk, and the unpadded strided downsample carries the frames its next window still needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gelu } from '../../layers/activations';
import { RecurrentState, disposeState } from '../../layers/recurrent';
import { CPCAR, CPCEncoder } from './cpc';
import type { Conv1d } from '../../layers/conv1d';
import type { LayerNorm } from '../../layers/layerNorm';
import { tidyTyped } from '../../util/tidy';

/** What the pass reads of EncoderCPC. */
export interface CpcChunkSource {
  readonly gEncoder: CPCEncoder;
  readonly gAR: CPCAR;
  readonly downsampleConv: Conv1d;
  readonly downsampleNorm: LayerNorm;
  readonly outputDim: number;
  /** Output frames of the whole pass for `samples` input samples. */
  framesFor(samples: number): number;
}

/**
 * `read(start, end)` gives samples start .. end-1 as [B, end-start, 1] (the pass disposes it); `chunk` is the
 * number of 100 Hz frames per chunk; `onChunk(samples)` reports progress. Returns [B, frames, dim] on the host.
 */
export function cpcForwardChunked(
  enc: CpcChunkSource,
  total: number,
  batch: number,
  chunk: number,
  read: (start: number, end: number) => tf.Tensor3D,
  onChunk: (samples: number) => void = () => {},
): { data: Float32Array; frames: number } {
  const hop = CPCEncoder.hop;
  const N = CPCEncoder.outputLength(total);
  const frames = enc.framesFor(total);
  const D = enc.outputDim;
  const data = new Float32Array(batch * frames * D);
  const k = enc.downsampleConv.kernelSize;
  const S = enc.downsampleConv.stride;
  let ar: RecurrentState | null = null;
  let carry: tf.Tensor3D | null = null; // gAR outputs not yet consumed by the downsample
  let done = 0;
  try {
    // Upstream drops the first and last gEncoder frame: the gAR runs over frames 1 .. N-2.
    for (let t0 = 1; t0 < N - 1; t0 += chunk) {
      const t1 = Math.min(N - 1, t0 + chunk); // frames t0 .. t1-1
      const [lo, hi] = CPCEncoder.inputRange(t0, t1 - 1);
      const a = Math.max(0, Math.floor(lo / hop) * hop);
      const b = Math.min(total, hi + 1);
      const x = read(a, b);
      const prev: RecurrentState | null = ar;
      const prevCarry: tf.Tensor3D | null = carry;
      let r: { y: tf.Tensor3D; ar: RecurrentState; carry: tf.Tensor3D };
      try {
        r = tidyTyped<{ y: tf.Tensor3D; ar: RecurrentState; carry: tf.Tensor3D }>(() => {
          const z = enc.gEncoder.forward(x);
          const zt = tf.slice(z, [0, t0 - a / hop, 0], [-1, t1 - t0, -1]);
          const h = enc.gAR.baseNet.forward(zt, prev);
          const full = prevCarry ? tf.concat([prevCarry, h.y], 1) : h.y;
          const L = full.shape[1];
          const n = L < k ? 0 : Math.floor((L - k) / S) + 1;
          const y: tf.Tensor3D = n === 0 ? tf.zeros<tf.Rank.R3>([batch, 0, D]) : gelu(enc.downsampleNorm.forward(enc.downsampleConv.forward(tf.slice(full, [0, 0, 0], [-1, (n - 1) * S + k, -1]))));
          return { y, ar: h.state, carry: tf.slice(full, [0, n * S, 0], [-1, L - n * S, -1]) };
        });
      } finally {
        x.dispose();
      }
      disposeState(prev);
      prevCarry?.dispose();
      ar = r.ar;
      carry = r.carry;
      const n = r.y.shape[1];
      const host = r.y.dataSync() as Float32Array;
      r.y.dispose();
      if (done + n > frames) throw new Error(`CPC chunked pass: ${done + n} frames, expected ${frames}`);
      for (let bi = 0; bi < batch; bi++) data.set(host.subarray(bi * n * D, (bi + 1) * n * D), (bi * frames + done) * D);
      done += n;
      onChunk(Math.min(total, t1 * hop));
    }
  } finally {
    disposeState(ar);
    carry?.dispose();
  }
  if (done !== frames) throw new Error(`CPC chunked pass: ${done} frames, expected ${frames}`);
  return { data, frames };
}
