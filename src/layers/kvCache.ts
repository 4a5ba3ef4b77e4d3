/**
 * Static sliding-window KV cache with the contents of transformers' StaticSlidingWindowLayer: a fixed buffer of
 * `capacity` slots per layer ([B, H, capacity, D], post-RoPE keys and values) and a count of the frames seen.
 *
 * For n new frames with c seen before, upstream:
 *  - still fits (c + n <= capacity): writes them at slots c .. c+n-1; attention sees slots 0 .. c+n-1;
 *  - becoming full: attention sees cat(slots 0 .. c-1, new); the buffer keeps the last `capacity` of that;
 *  - already full (c >= capacity): attention sees cat(slots 1 .., new) (capacity - 1 + n frames, the oldest
 *    dropped first), and the buffer keeps the last `capacity` of that.
 * Here every call does the same two operations, whatever c: attention sees cat(all slots, new) with the slots
 * upstream does not attend (unwritten ones, or slot 0 once full) hidden by the mask (their softmax weight is
 * exactly 0, so the result is upstream's), and the next buffer is a gather of that concatenation by an index
 * vector made on the host (`KVSpan.keep`). Fixed shapes and ops for every call let a traced step
 * (backend/tfFunction.ts) serve the whole stream, and no copy of the buffer is made beyond the one gather.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../util/tidy';

export interface KVLayerState {
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
}

export interface KVUpdate {
  /** Keys / values to attend over: [B, H, capacity + n, D] (the mask hides the slots not attended). */
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
  /** The buffer after the update. */
  next: KVLayerState;
}

/** Which keys a call of n new frames attends, after `seen` frames: the same for every layer. */
export interface KVSpan {
  /** Absolute position of each attended slot (capacity + n: the buffer, then the new frames); -1 = hidden. */
  positions: Int32Array;
  /** For each slot of the next buffer, the attended slot it takes. */
  keep: Int32Array;
  /** `keep` as [start, length] runs of consecutive slots (for backends that slice instead of gathering). */
  keepRuns: Array<[number, number]>;
}

export class StaticSlidingWindowCache {
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`KV cache capacity must be a positive integer, got ${capacity}`);
  }

  span(seen: number, n: number): KVSpan {
    const W = this.capacity;
    const positions = new Int32Array(W + n);
    const keep = new Int32Array(W);
    for (let i = 0; i < n; i++) positions[W + i] = seen + i;
    if (seen >= W) {
      // Full: slot j holds position seen - W + j; upstream drops slot 0; the buffer keeps the last W.
      positions[0] = -1;
      for (let j = 1; j < W; j++) positions[j] = seen - W + j;
      for (let j = 0; j < W; j++) keep[j] = n + j;
      return { positions, keep, keepRuns: contiguousRuns(keep) };
    }
    // Slots 0 .. seen-1 written (position = slot), the rest hidden.
    for (let j = 0; j < W; j++) positions[j] = j < seen ? j : -1;
    if (seen + n <= W) {
      // Still fits: the new frames go to slots seen .. seen+n-1, the rest of the buffer unchanged.
      for (let j = 0; j < W; j++) keep[j] = j >= seen && j < seen + n ? W + (j - seen) : j;
    } else {
      // Becoming full: the last W of cat(slots 0 .. seen-1, new).
      for (let j = 0; j < W; j++) {
        const e = seen + n - W + j;
        keep[j] = e < seen ? e : W + (e - seen);
      }
    }
    return { positions, keep, keepRuns: contiguousRuns(keep) };
  }

  empty(batch: number, heads: number, headDim: number): KVLayerState {
    return {
      keys: tf.zeros([batch, heads, this.capacity, headDim]) as tf.Tensor4D,
      values: tf.zeros([batch, heads, this.capacity, headDim]) as tf.Tensor4D,
    };
  }

  /**
   * `span`: this call's span(seen, n), with `keepTensor` its `keep` as an int32 tensor (both made once per call and
   * shared by the layers). On the native TensorFlow backends the next buffer is one GatherV2 by that tensor (the
   * same op every call, so a traced step covers the whole stream); elsewhere it is a concat of slices over
   * `keepRuns` (tfjs-wasm's GatherV2 is a scalar loop: ~4 ms per call here, against copy-free slices). Returns new
   * tensors only.
   */
  update(state: KVLayerState, kNew: tf.Tensor4D, vNew: tf.Tensor4D, span: KVSpan, keepTensor: tf.Tensor1D): KVUpdate {
    return tidyTyped<KVUpdate>(() => {
      const native = tf.getBackend() === 'tensorflow' || tf.getBackend() === 'cuda';
      const one = (buf: tf.Tensor4D, x: tf.Tensor4D) => {
        const att = tf.concat([buf, x], 2) as tf.Tensor4D;
        if (native) return { att, next: tf.gather(att, keepTensor, 2) as tf.Tensor4D };
        const parts = span.keepRuns.map(([start, len]) => tf.slice(att, [0, 0, start, 0], [-1, -1, len, -1]) as tf.Tensor4D);
        return { att, next: parts.length === 1 ? parts[0] : (tf.concat(parts, 2) as tf.Tensor4D) };
      };
      const k = one(state.keys, kNew);
      const v = one(state.values, vNew);
      return { keys: k.att, values: v.att, next: { keys: k.next, values: v.next } };
    });
  }
}

/** [start, length] of each run of consecutive values in `idx`. */
function contiguousRuns(idx: Int32Array): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let j = 0; j < idx.length; j++) {
    const last = runs[runs.length - 1];
    if (last && idx[j] === last[0] + last[1]) last[1]++;
    else runs.push([idx[j], 1]);
  }
  return runs;
}
