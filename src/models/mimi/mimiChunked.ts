/**
 * The offline Mimi core (SEANet -> transformer -> downsample) over a long signal in chunks, equal to
 * MimiModel.forward on the whole signal with memory bounded by the chunk length:
 *  - the causal convs run as streaming steps from zero caches (their offline left padding is zeros), and the last
 *    chunk adds each conv's offline end padding;
 *  - the transformer attends through a sliding-window KV cache as wide as its window, which with the window's
 *    mask sees exactly the keys the offline mask allows;
 *  - the downsample (offline 'replicate' padding) starts from its first input frame repeated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { KVLayerState, StaticSlidingWindowCache } from '../../layers/kvCache';
import type { MimiModel } from './mimi';
import { tidyTyped } from '../../util/tidy';

/** Carried between chunks; every tensor is owned by the pass. */
interface ChunkState {
  caches: tf.Tensor3D[];
  kv: KVLayerState[];
  downsample: tf.Tensor3D | null;
  position: number;
}

function disposeChunkState(s: ChunkState): void {
  tf.dispose([...s.caches, ...s.kv.flatMap((l) => [l.keys, l.values])]);
  s.downsample?.dispose();
}

/**
 * Runs the core over `total` 24 kHz samples in chunks of `chunk` samples (a multiple of the model's frame size).
 * `read(start, end)` gives the input [B, end-start, 1] (the pass disposes it); `onChunk(end)` reports progress.
 * Returns the 12.5 Hz features [B, frames, hidden] row-major on the host.
 */
export function mimiCoreChunked(
  model: MimiModel,
  total: number,
  batch: number,
  chunk: number,
  read: (start: number, end: number) => tf.Tensor3D,
  onChunk: (end: number) => void = () => {},
): { data: Float32Array; frames: number } {
  if (!Number.isInteger(chunk) || chunk <= 0 || chunk % model.frameSize !== 0) {
    throw new RangeError(`Mimi chunked pass: chunk of ${chunk} samples is not a positive multiple of the frame size ${model.frameSize}`);
  }
  const c = model.config;
  const kvCache = new StaticSlidingWindowCache(c.sliding_window);
  const seanetTotal = model.encoder.outputLength(total);
  const frames = model.downsample.outputLength(seanetTotal);
  const C = c.hidden_size;
  const data = new Float32Array(batch * frames * C);
  let state: ChunkState = {
    caches: model.encoder.convs.map((e) => e.conv.zeroCache(batch)),
    kv: model.encoderTransformer.layers.map(() => kvCache.empty(batch, c.num_attention_heads, c.head_dim)),
    downsample: null,
    position: 0,
  };
  let done = 0;
  try {
    for (let start = 0; start < total; start += chunk) {
      const end = Math.min(total, start + chunk);
      const last = end === total;
      const x = read(start, end);
      let r: { y: tf.Tensor3D; state: ChunkState };
      try {
        r = tidyTyped<{ y: tf.Tensor3D; state: ChunkState }>(() => {
          if (!last && state.downsample) {
            // A middle chunk is a streaming step of the core (on tensorflow: its traced functions, one set for all
            // middle chunks); the first chunk (downsample from its first frame) and the last (end padding) are not.
            const m = model.step(x, { padCaches: [...state.caches, state.downsample], kv: state.kv, position: state.position, batch }, kvCache);
            const nEnc = state.caches.length;
            return { y: m.y, state: { caches: m.state.padCaches.slice(0, nEnc), kv: m.state.kv, downsample: m.state.padCaches[nEnc], position: m.state.position } };
          }
          const s = model.encoder.step(x, state.caches, last ? total : undefined);
          const t = model.encoderTransformer.step(s.y, state.position, kvCache, state.kv);
          const d = model.downsample.step(t.y, state.downsample, last ? seanetTotal : undefined);
          const next: ChunkState = { caches: s.caches, kv: t.states, downsample: d.cache, position: state.position + s.y.shape[1] };
          return { y: d.y, state: next };
        });
      } finally {
        x.dispose();
      }
      disposeChunkState(state);
      state = r.state;
      const n = r.y.shape[1];
      const host = r.y.dataSync() as Float32Array;
      r.y.dispose();
      if (done + n > frames) throw new Error(`Mimi chunked pass: ${done + n} frames, expected ${frames}`);
      for (let b = 0; b < batch; b++) data.set(host.subarray(b * n * C, (b + 1) * n * C), (b * frames + done) * C);
      done += n;
      onChunk(end);
    }
  } finally {
    disposeChunkState(state);
  }
  if (done !== frames) throw new Error(`Mimi chunked pass: ${done} frames, expected ${frames}`);
  return { data, frames };
}
