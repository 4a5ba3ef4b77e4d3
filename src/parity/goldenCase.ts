/** Golden cases: a safetensors file whose `meta` metadata is JSON describing how `output` was produced. */
import * as path from 'node:path';
import { SafetensorsFile } from '../weights/safetensors';
import { FormatError, RawTensor, toFloat32 } from '../weights/types';
import { validateCaseMeta } from './caseMeta';

export interface GoldenCase {
  name: string;
  meta: Record<string, unknown> & { kind: string };
  tensors: Map<string, RawTensor>;
}

export function loadCase(file: string): GoldenCase {
  const f = SafetensorsFile.open(file);
  try {
    return caseOf(f, file, path.basename(file).replace(/\.safetensors$/, ''));
  } finally {
    f.close();
  }
}

/** A golden case from the bytes of its file (browsers: fetched from a URL); `name` as the file's base name. */
export function caseFromBytes(bytes: Uint8Array, name: string): GoldenCase {
  return caseOf(SafetensorsFile.fromBytes(bytes), name, name.replace(/\.safetensors$/, ''));
}

function caseOf(f: SafetensorsFile, file: string, name: string): GoldenCase {
  const metaText = f.metadata.meta;
  if (metaText === undefined) throw new FormatError(`${file}: no "meta" metadata: not a golden case file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(metaText);
  } catch (e) {
    throw new FormatError(`${file}: "meta" is not valid JSON (${(e as Error).message})`);
  }
  // Every field a runner reads is checked here (types, ranges, the kind), before anything runs.
  const meta = validateCaseMeta(name, parsed);
  return { name, meta, tensors: f.all() };
}

export function caseTensor(c: GoldenCase, name: string): { shape: number[]; data: Float32Array } {
  const t = c.tensors.get(name);
  if (!t) throw new FormatError(`case ${c.name}: no tensor "${name}" (has ${[...c.tensors.keys()].join(', ')})`);
  return { shape: t.shape, data: toFloat32(t) };
}

export function caseInts(c: GoldenCase, name: string): number[] {
  const t = c.tensors.get(name);
  if (!t) throw new FormatError(`case ${c.name}: no tensor "${name}"`);
  return Array.from(toFloat32(t), (v) => Math.round(v));
}

/** Loads `wave_16k` (or the only tensor) of a signal file. */
export function loadSignal(file: string): { samples: Float32Array; sampleRate: number } {
  const f = SafetensorsFile.open(file);
  try {
    return signalOf(f, file);
  } finally {
    f.close();
  }
}

/** A signal from the bytes of its file (browsers). */
export function signalFromBytes(bytes: Uint8Array, label = 'signal'): { samples: Float32Array; sampleRate: number } {
  return signalOf(SafetensorsFile.fromBytes(bytes), label);
}

function signalOf(f: SafetensorsFile, file: string): { samples: Float32Array; sampleRate: number } {
  const name = f.has('wave_16k') ? 'wave_16k' : f.names[0];
  if (!name) throw new FormatError(`${file}: no tensors`);
  const sr = Number(f.metadata.sample_rate ?? 16000);
  return { samples: toFloat32(f.get(name)), sampleRate: sr };
}
