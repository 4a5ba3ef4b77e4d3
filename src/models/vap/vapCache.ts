/**
 * The VAP streaming cache. Upstream keeps six groups of per-layer (K, V) pairs [B, heads, P, headDim]: ar1/ar2
 * (channel GPT self-attention of x1/x2), cross1/cross2 (stereo self-attention of tower 1/2), cross1_c/cross2_c
 * (stereo cross-attention of tower 1, projected from tower 2's input / of tower 2). Here the two channels (towers)
 * run as one batch, so each pair of groups is one tensor [2B, ...] (channel 1's rows first); export and import use
 * upstream's six groups as plain data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { RawTensor } from '../../weights/types';
import { firstNonFinite } from '../../util/finite';
import { KV } from './alibiAttention';

export const CACHE_KEYS = ['ar1', 'ar2', 'cross1', 'cross2', 'cross1_c', 'cross2_c'] as const;
export type CacheKey = (typeof CACHE_KEYS)[number];

/** Per group, one KV per layer with rows [channel 1; channel 2]. */
export interface VapCache {
  /** ar1 + ar2. */
  ar: KV[];
  /** cross1 + cross2. */
  self: KV[];
  /** cross1_c + cross2_c. */
  cross: KV[];
}

const GROUPS: ReadonlyArray<[keyof VapCache, CacheKey, CacheKey]> = [
  ['ar', 'ar1', 'ar2'],
  ['self', 'cross1', 'cross2'],
  ['cross', 'cross1_c', 'cross2_c'],
];

/** Every tensor of a cache, in a fixed order (group, layer, k then v). */
export function cacheTensors(c: VapCache): tf.Tensor4D[] {
  return GROUPS.flatMap(([g]) => c[g].flatMap((kv) => [kv.k, kv.v]));
}

/** The inverse of cacheTensors for a cache with the layer counts of `like`. */
export function cacheFromTensors(ts: tf.Tensor4D[], like: VapCache): VapCache {
  const out = {} as VapCache;
  let i = 0;
  for (const [g] of GROUPS) out[g] = like[g].map(() => ({ k: ts[i++], v: ts[i++] }));
  if (i !== ts.length) throw new RangeError(`VAP cache: ${ts.length} tensors for a cache of ${i}`);
  return out;
}

export function disposeCache(c: VapCache | null): void {
  if (c) tf.dispose(cacheTensors(c));
}

/** Frames held (the same in every tensor). */
export function cacheLength(c: VapCache | null): number {
  return c ? c.ar[0]?.k.shape[2] ?? 0 : 0;
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
  for (const [g] of GROUPS) out[g] = c[g].map((kv) => ({ k: cut(kv.k), v: cut(kv.v) }));
  return out;
}

/** Plain data in upstream's layout: `${key}.${layer}.${k|v}` -> F32 [B, heads, P, headDim]. */
export function exportCache(c: VapCache): Array<[string, RawTensor]> {
  const out: Array<[string, RawTensor]> = [];
  for (const [g, key1, key2] of GROUPS) {
    for (const [half, key] of [[0, key1], [1, key2]] as const) {
      c[g].forEach((kv, i) => {
        for (const [n, t] of [['k', kv.k], ['v', kv.v]] as const) {
          const [B2, H, P, D] = t.shape;
          const B = B2 / 2;
          const all = t.dataSync() as Float32Array;
          const data = all.slice(half * B * H * P * D, (half + 1) * B * H * P * D);
          out.push([`${key}.${i}.${n}`, { dtype: 'F32', shape: [B, H, P, D], data }]);
        }
      });
    }
  }
  return out;
}

/**
 * Builds a cache from plain data, checking every tensor: names for `channelLayers` (ar*) / `crossLayers` (cross*)
 * layers, [batch, heads, P, headDim] with one P for all, F32, finite. Throws naming the first bad entry.
 */
export function importCache(
  flat: Array<[string, RawTensor]> | Map<string, RawTensor>,
  dims: { batch: number; heads: number; headDim: number; channelLayers: number; crossLayers: number },
): VapCache {
  const m = flat instanceof Map ? flat : new Map(flat);
  const where = 'VAP cache import';
  const layersOf = (key: CacheKey) => (key.startsWith('ar') ? dims.channelLayers : dims.crossLayers);
  const want = new Set<string>();
  for (const key of CACHE_KEYS) for (let i = 0; i < layersOf(key); i++) for (const s of ['k', 'v']) want.add(`${key}.${i}.${s}`);
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
    if (t.dtype !== 'F32' || Object.prototype.toString.call(t.data) !== '[object Float32Array]') throw new RangeError(`${where}: "${name}" must be F32`);
    const data = t.data as Float32Array;
    const bad = firstNonFinite(data);
    if (bad >= 0) throw new RangeError(`${where}: "${name}"[${bad}] is ${data[bad]}; a state must be finite`);
  }
  const out = {} as VapCache;
  for (const [g, key1, key2] of GROUPS) {
    out[g] = Array.from({ length: layersOf(key1) }, (_, i) => {
      const both = (s: string) => {
        const a = m.get(`${key1}.${i}.${s}`)!;
        const b = m.get(`${key2}.${i}.${s}`)!;
        const data = new Float32Array(a.data.length * 2);
        data.set(a.data as Float32Array);
        data.set(b.data as Float32Array, a.data.length);
        return tf.tensor4d(data, [2 * a.shape[0], a.shape[1], a.shape[2], a.shape[3]]);
      };
      return { k: both('k'), v: both('v') };
    });
  }
  return out;
}
