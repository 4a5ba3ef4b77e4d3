/**
 * The VAP streaming cache: six groups of per-layer (K, V) pairs [B, heads, P, headDim] (ar1/ar2: channel GPT
 * self-attention of x1/x2; cross1/cross2: stereo self-attention of tower 1/2; cross1_c/cross2_c: stereo
 * cross-attention of tower 1 (from x2's tower) / tower 2). Plain-data export/import for state transfer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { RawTensor } from '../../weights/types';
import { firstNonFinite } from '../../util/finite';
import { KV } from './alibiAttention';
import { StereoCache } from './gpt';

export const CACHE_KEYS = ['ar1', 'ar2', 'cross1', 'cross2', 'cross1_c', 'cross2_c'] as const;
export type CacheKey = (typeof CACHE_KEYS)[number];

export interface VapCache extends StereoCache {
  ar1: KV[];
  ar2: KV[];
}

export function disposeCache(c: VapCache | null): void {
  if (!c) return;
  for (const key of CACHE_KEYS) for (const kv of c[key]) tf.dispose([kv.k, kv.v]);
}

/** Frames held (the same in every tensor). */
export function cacheLength(c: VapCache | null): number {
  return c ? c.ar1[0]?.k.shape[2] ?? 0 : 0;
}

/**
 * Maai's trim after every step: each tensor keeps its newest `keep` frames. With keep = 0 upstream's
 * `t[..., -0:, :]` keeps everything; that is reproduced. Returns a new cache (the input is untouched).
 */
export function trimCache(c: VapCache, keep: number): VapCache {
  const cut = (t: tf.Tensor4D): tf.Tensor4D => {
    const L = t.shape[2];
    return keep <= 0 || L <= keep ? tf.clone(t) : (tf.slice(t, [0, 0, L - keep, 0], [-1, -1, keep, -1]) as tf.Tensor4D);
  };
  const out = {} as VapCache;
  for (const key of CACHE_KEYS) out[key] = c[key].map((kv) => ({ k: cut(kv.k), v: cut(kv.v) }));
  return out;
}

/** Plain data: `${key}.${layer}.${k|v}` -> F32 [B, heads, P, headDim]. */
export function exportCache(c: VapCache): Array<[string, RawTensor]> {
  const out: Array<[string, RawTensor]> = [];
  for (const key of CACHE_KEYS) {
    c[key].forEach((kv, i) => {
      for (const [n, t] of [['k', kv.k], ['v', kv.v]] as const) {
        out.push([`${key}.${i}.${n}`, { dtype: 'F32', shape: [...t.shape], data: (t.dataSync() as Float32Array).slice() }]);
      }
    });
  }
  return out;
}

/**
 * Builds a cache from plain data, checking every tensor: names for `layers[key]` layers per group, rank 4,
 * [batch, heads, P, headDim] with one P for all, finite values. Throws naming the first bad entry.
 */
export function importCache(
  flat: Array<[string, RawTensor]> | Map<string, RawTensor>,
  dims: { batch: number; heads: number; headDim: number; channelLayers: number; crossLayers: number },
): VapCache {
  const m = flat instanceof Map ? flat : new Map(flat);
  const where = 'VAP cache import';
  const want = new Set<string>();
  for (const key of CACHE_KEYS) {
    const n = key.startsWith('ar') ? dims.channelLayers : dims.crossLayers;
    for (let i = 0; i < n; i++) for (const s of ['k', 'v']) want.add(`${key}.${i}.${s}`);
  }
  for (const name of m.keys()) if (!want.has(name)) throw new RangeError(`${where}: unexpected tensor "${name}"`);
  let P = -1;
  for (const name of want) {
    const t = m.get(name);
    if (!t) throw new RangeError(`${where}: missing tensor "${name}"`);
    const s = t.shape;
    if (P < 0) P = s[2];
    if (s.length !== 4 || s[0] !== dims.batch || s[1] !== dims.heads || s[2] !== P || s[3] !== dims.headDim) {
      throw new RangeError(`${where}: "${name}" has shape [${s}], expected [${dims.batch}, ${dims.heads}, ${P}, ${dims.headDim}]`);
    }
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) throw new RangeError(`${where}: "${name}" must be F32`);
    const bad = firstNonFinite(t.data);
    if (bad >= 0) throw new RangeError(`${where}: "${name}"[${bad}] is ${t.data[bad]}; a state must be finite`);
  }
  const out = {} as VapCache;
  for (const key of CACHE_KEYS) {
    const n = key.startsWith('ar') ? dims.channelLayers : dims.crossLayers;
    out[key] = Array.from({ length: n }, (_, i) => {
      const g = (s: string) => {
        const t = m.get(`${key}.${i}.${s}`)!;
        return tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]);
      };
      return { k: g('k'), v: g('v') };
    });
  }
  return out;
}
