/**
 * Static sliding-window KV cache with the contents of transformers' StaticSlidingWindowLayer: a fixed buffer of
 * `capacity` slots per layer ([B, H, capacity, D], post-RoPE keys and values) and a count of the frames seen.
 *
 * For n new frames with c seen before:
 *  - still fits (c + n <= capacity): they are written at slots c .. c+n-1; attention sees slots 0 .. c+n-1;
 *  - becoming full: attention sees cat(slots 0 .. c-1, new); the buffer keeps the last `capacity` of that;
 *  - already full (c >= capacity): attention sees cat(slots 1 .., new) (capacity - 1 + n frames, the oldest
 *    dropped first), and the buffer keeps the last `capacity` of that.
 * The absolute position of attended key j is kvOffset + j. When full, the attended keys are cat(all slots, new)
 * with slot 0 (the one upstream drops) flagged by maskedPrefix = 1, so that no copy of the buffer is needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../util/tidy';

export interface KVLayerState {
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
}

export interface KVUpdate {
  /** Keys / values to attend over: [B, H, span.length, D]. */
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
  /** The buffer after the update. */
  next: KVLayerState;
}

/** Which keys a call of n new frames attends, after `seen` frames: the same for every layer. */
export interface KVSpan {
  /** Absolute position of attended slot 0. */
  kvOffset: number;
  /** Number of attended slots. */
  length: number;
  /** Attended slots 0 .. maskedPrefix-1 are not attended (the mask must hide them). */
  maskedPrefix: number;
}

export class StaticSlidingWindowCache {
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`KV cache capacity must be a positive integer, got ${capacity}`);
  }

  span(seen: number, n: number): KVSpan {
    const W = this.capacity;
    if (seen >= W) return { kvOffset: seen - W, length: W + n, maskedPrefix: 1 };
    return { kvOffset: 0, length: seen + n, maskedPrefix: 0 };
  }

  empty(batch: number, heads: number, headDim: number): KVLayerState {
    return {
      keys: tf.zeros([batch, heads, this.capacity, headDim]) as tf.Tensor4D,
      values: tf.zeros([batch, heads, this.capacity, headDim]) as tf.Tensor4D,
    };
  }

  /** `seen` = frames seen before this call (upstream cumulative_length_int). Returns new tensors only. */
  update(state: KVLayerState, kNew: tf.Tensor4D, vNew: tf.Tensor4D, seen: number): KVUpdate {
    return tidyTyped<KVUpdate>(() => {
      const W = this.capacity;
      const n = kNew.shape[2];
      const one = (buf: tf.Tensor4D, x: tf.Tensor4D): { att: tf.Tensor4D; next: tf.Tensor4D } => {
        if (seen >= W) {
          // Upstream attends cat(slots 1.., new). Attending cat(all slots, new) with slot 0 masked out gives the
          // same result (its softmax weight is exactly 0) and saves a copy of the buffer per step.
          const att = tf.concat([buf, x], 2);
          return { att, next: tf.slice(att, [0, 0, att.shape[2] - W, 0], [-1, -1, W, -1]) };
        }
        const att = seen === 0 ? tf.clone(x) : tf.concat([tf.slice(buf, [0, 0, 0, 0], [-1, -1, seen, -1]), x], 2);
        if (seen + n > W) return { att, next: tf.slice(att, [0, 0, att.shape[2] - W, 0], [-1, -1, W, -1]) };
        // Still fits: index_copy at slots seen .. seen+n-1, the rest of the buffer unchanged.
        const rest = W - seen - n;
        const next = rest > 0 ? tf.concat([att, tf.slice(buf, [0, 0, seen + n, 0], [-1, -1, rest, -1])], 2) : att;
        return { att, next: next === att ? tf.clone(att) : next };
      };
      const k = one(state.keys, kNew);
      const v = one(state.values, vNew);
      return { keys: k.att, values: v.att, next: { keys: k.next, values: v.next } };
    });
  }
}
