/**
 * detweights v1: every parameter generated deterministically from its name, so golden data needs no download.
 * value[i] = offset + u(name, i) * scale in float32, with u a 12-bit uniform in [-1, 1) derived from the
 * FNV-1a hash of the name and a murmur3-style finaliser (fmix32) of seed + i * golden ratio.
 *
 * Two kinds of entries are constants instead (golden-vap): `{"fixed": "alibi_slopes", "values": [...]}` (the listed
 * values, one per element) and `{"fixed": "codebook_bits"}` for a [n, bits] table whose row c, column b is (c >> b) & 1.
 */
import * as fs from 'node:fs';
import { FormatError, RawTensor, numel } from './types';

export type FixedKind = 'alibi_slopes' | 'codebook_bits';
export const FIXED_KINDS: readonly FixedKind[] = ['alibi_slopes', 'codebook_bits'];

export interface ManifestEntry {
  shape: number[];
  /** detweights parameters (0 for a fixed entry). */
  scale: number;
  offset: number;
  /** A constant entry instead of detweights. */
  fixed?: FixedKind;
  /** The values of an `alibi_slopes` entry. */
  values?: number[];
}
export type Manifest = Record<string, ManifestEntry>;

export function fnv1a32(name: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(name)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The i-th uniform of a name's stream, in [-1, 1) with 12 bits. */
export function detUniform(seed: number, i: number): number {
  const x = fmix32((seed + Math.imul(i, 0x9e3779b9)) >>> 0);
  return ((x >>> 20) - 2048) / 2048;
}

export function detweightsTensor(name: string, shape: readonly number[], scale: number, offset: number): Float32Array {
  const seed = fnv1a32(name);
  const n = numel(shape);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + detUniform(seed, i) * scale;
  return out;
}

export function parseManifest(json: unknown, label = 'manifest'): Manifest {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new FormatError(`${label}: must be a JSON object {name: {shape, scale, offset}}`);
  }
  const out: Manifest = {};
  for (const [name, e] of Object.entries(json as Record<string, unknown>)) {
    const v = e as Record<string, unknown>;
    if (v === null || typeof v !== 'object') throw new FormatError(`${label}: entry "${name}" is not an object`);
    if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FormatError(`${label}: entry "${name}": shape must be a list of non-negative integers`);
    }
    if (v.fixed !== undefined) {
      out[name] = parseFixed(name, v, label);
      continue;
    }
    if (typeof v.scale !== 'number' || !Number.isFinite(v.scale)) throw new FormatError(`${label}: entry "${name}": scale must be a finite number`);
    if (typeof v.offset !== 'number' || !Number.isFinite(v.offset)) throw new FormatError(`${label}: entry "${name}": offset must be a finite number`);
    out[name] = { shape: v.shape as number[], scale: v.scale, offset: v.offset };
  }
  return out;
}

function parseFixed(name: string, v: Record<string, unknown>, label: string): ManifestEntry {
  const shape = v.shape as number[];
  const where = `${label}: entry "${name}"`;
  if (!FIXED_KINDS.includes(v.fixed as FixedKind)) {
    throw new FormatError(`${where}: unknown fixed kind ${JSON.stringify(v.fixed)} (known: ${FIXED_KINDS.join(', ')})`);
  }
  if (v.fixed === 'alibi_slopes') {
    const vals = v.values;
    if (!Array.isArray(vals) || !vals.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new FormatError(`${where}: alibi_slopes needs "values", a list of finite numbers`);
    }
    if (vals.length !== numel(shape)) throw new FormatError(`${where}: ${vals.length} values for shape [${shape}]`);
    return { shape: [...shape], scale: 0, offset: 0, fixed: 'alibi_slopes', values: [...(vals as number[])] };
  }
  if (shape.length !== 2 || shape[0] > 2 ** shape[1]) {
    throw new FormatError(`${where}: codebook_bits needs a shape [n, bits] with n <= 2^bits, got [${shape}]`);
  }
  return { shape: [...shape], scale: 0, offset: 0, fixed: 'codebook_bits' };
}

/** The values of one manifest entry (detweights or a fixed constant), float32. */
export function manifestTensor(name: string, e: ManifestEntry): Float32Array {
  if (e.fixed === 'alibi_slopes') return Float32Array.from(e.values!);
  if (e.fixed === 'codebook_bits') {
    const [n, bits] = e.shape;
    const out = new Float32Array(n * bits);
    for (let c = 0; c < n; c++) for (let b = 0; b < bits; b++) out[c * bits + b] = (c >> b) & 1;
    return out;
  }
  return detweightsTensor(name, e.shape, e.scale, e.offset);
}

export function readManifest(path: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FormatError(`${path}: not a valid JSON manifest (${(e as Error).message})`);
  }
  return parseManifest(json, path);
}

/** Builds every tensor of a manifest (F32), in manifest order. */
export function buildFromManifest(manifest: Manifest): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [name, e] of Object.entries(manifest)) {
    out.set(name, { dtype: 'F32', shape: [...e.shape], data: manifestTensor(name, e) });
  }
  return out;
}
