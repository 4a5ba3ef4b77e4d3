/**
 * Weights in browsers: from a URL (streamed with progress, cached), an ArrayBuffer / Uint8Array, or a File / Blob.
 * Formats as in Node's openWeights: safetensors, detweights manifests (.json), PyTorch checkpoints (.pt).
 * The format comes from `format`, else the name's extension, else the first bytes.
 */
import { buildFromManifest, parseManifest } from '../weights/detweights';
import { applyNameMap, NameMap } from '../weights/nameMap';
import { SafetensorsFile } from '../weights/safetensors';
import { WeightError, WeightStore } from '../weights/store';
import { loadTorchStateDict } from '../weights/torchCheckpoint';
import { FormatError, RawTensor } from '../weights/types';
import { FetchBytesOptions, fetchBytes } from './fetchBytes';

export type WeightsFormat = 'safetensors' | 'manifest' | 'pt';

export interface LoadWeightsOptions extends FetchBytesOptions {
  format?: WeightsFormat;
  nameMap?: NameMap;
  /** Label used in error messages (default: the URL or file name). */
  label?: string;
}

export type WeightsSource = string | URL | ArrayBuffer | Uint8Array | Blob;

function formatFromName(name: string): WeightsFormat | null {
  const n = name.toLowerCase().replace(/[?#].*$/, '');
  if (n.endsWith('.safetensors')) return 'safetensors';
  if (n.endsWith('.json')) return 'manifest';
  if (/\.(pt|pth|ckpt|bin)$/.test(n)) return 'pt';
  return null;
}

function formatFromBytes(b: Uint8Array): WeightsFormat {
  if (b[0] === 0x50 && b[1] === 0x4b) return 'pt'; // zip: torch.save's default format
  if (b[0] === 0x80) return 'pt'; // pickle protocol 2+: torch's legacy format
  // A safetensors file starts with a little-endian header length: its high bytes are zeros, never JSON text.
  if (b[0] === 0x7b && b.length > 8 && b[7] !== 0) return 'manifest';
  return 'safetensors';
}

/** A WeightStore from bytes already in memory. */
export function weightsFromBytes(bytes: Uint8Array, opts: { format?: WeightsFormat; nameMap?: NameMap; label?: string } = {}): WeightStore {
  const label = opts.label ?? 'weights';
  const format = opts.format ?? formatFromName(label) ?? formatFromBytes(bytes);
  let tensors: Map<string, RawTensor>;
  try {
    if (format === 'manifest') {
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch (e) {
        throw new FormatError(`not a JSON manifest (${(e as Error).message})`);
      }
      tensors = buildFromManifest(parseManifest(json, label));
    } else if (format === 'pt') {
      tensors = loadTorchStateDict(bytes);
    } else {
      const file = new SafetensorsFile({ size: bytes.length, read: (o, n) => bytes.subarray(o, o + n) }, label);
      if (!opts.nameMap) return WeightStore.fromSafetensors(file, label);
      tensors = file.all();
    }
  } catch (e) {
    if (e instanceof FormatError || e instanceof WeightError) throw new FormatError(`${label}: ${e.message.replace(`${label}: `, '')} (read as ${format})`);
    throw e;
  }
  if (opts.nameMap) tensors = applyNameMap(tensors, opts.nameMap);
  return WeightStore.fromTensors(tensors, label);
}

/** Loads weights from a URL, bytes or a File; resolves with the store and whether the Cache API answered. */
export async function loadWeights(src: WeightsSource, opts: LoadWeightsOptions = {}): Promise<WeightStore & { fromCache?: boolean }> {
  if (typeof src === 'string' || src instanceof URL) {
    const url = String(src);
    const { bytes, fromCache } = await fetchBytes(url, opts);
    const store = weightsFromBytes(bytes, { ...opts, label: opts.label ?? url });
    return Object.assign(store, { fromCache });
  }
  if (src instanceof Blob) {
    const name = (src as File).name ?? 'weights';
    const bytes = new Uint8Array(await src.arrayBuffer());
    opts.onProgress?.({ loaded: bytes.length, total: bytes.length, fromCache: false });
    return weightsFromBytes(bytes, { ...opts, label: opts.label ?? name });
  }
  if (src instanceof ArrayBuffer) return weightsFromBytes(new Uint8Array(src), opts);
  if (src instanceof Uint8Array) return weightsFromBytes(src, opts);
  throw new TypeError('loadWeights: expected a URL, an ArrayBuffer, a Uint8Array or a File');
}
