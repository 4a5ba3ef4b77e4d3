/**
 * WeightStore: tensors by upstream name, handed to layers as tfjs float32 tensors after a shape check.
 * Loads safetensors (lazily), detweights manifests (JSON) and PyTorch checkpoints (.pt), with an optional name map.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import { SafetensorsFile } from './safetensors';
import { buildFromManifest, readManifest } from './detweights';
import { FormatError, RawTensor, toFloat32 } from './types';

export class WeightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightError';
  }
}

type Source = { names: string[]; get(name: string): RawTensor; shape(name: string): number[]; dtype(name: string): string };

export class WeightStore {
  private readonly used = new Set<string>();

  constructor(private readonly src: Source, readonly label: string) {}

  static fromTensors(tensors: Map<string, RawTensor>, label = 'weights'): WeightStore {
    return new WeightStore(
      {
        names: [...tensors.keys()],
        get: (n) => tensors.get(n)!,
        shape: (n) => tensors.get(n)!.shape,
        dtype: (n) => tensors.get(n)!.dtype,
      },
      label,
    );
  }

  static fromSafetensors(file: SafetensorsFile, label = file.label): WeightStore {
    return new WeightStore(
      { names: file.names, get: (n) => file.get(n), shape: (n) => file.info(n)!.shape, dtype: (n) => file.info(n)!.dtype },
      label,
    );
  }

  get names(): string[] {
    return this.src.names;
  }

  has(name: string): boolean {
    return this.src.names.includes(name);
  }

  shapeOf(name: string): number[] {
    if (!this.has(name)) throw new WeightError(`${this.label}: missing tensor "${name}"`);
    return [...this.src.shape(name)];
  }

  /** Host values (float32) of a tensor, after checking the shape when one is given. */
  getArray(name: string, expectedShape?: readonly number[]): Float32Array {
    if (!this.has(name)) throw new WeightError(`${this.label}: missing tensor "${name}"`);
    const shape = this.src.shape(name);
    if (expectedShape && (shape.length !== expectedShape.length || shape.some((d, i) => d !== expectedShape[i]))) {
      throw new WeightError(`${this.label}: tensor "${name}" has shape [${shape}], expected [${expectedShape}]`);
    }
    const dt = this.src.dtype(name);
    if (!['F32', 'F16', 'BF16', 'F64'].includes(dt)) {
      throw new WeightError(`${this.label}: tensor "${name}" has dtype ${dt}, expected a float type`);
    }
    this.used.add(name);
    return toFloat32(this.src.get(name));
  }

  /** A float32 tfjs tensor of the given (checked) shape. The caller owns it. */
  get(name: string, expectedShape?: readonly number[]): tf.Tensor {
    const data = this.getArray(name, expectedShape);
    return tf.tensor(data, this.src.shape(name), 'float32');
  }

  /** Names never requested through get/getArray. */
  unused(): string[] {
    return this.src.names.filter((n) => !this.used.has(n));
  }
}

/**
 * Opens a weights file by extension: .safetensors, .json (detweights manifest) or .pt/.pth/.bin (PyTorch).
 */
export async function openWeights(path: string, opts: { nameMap?: import('./nameMap').NameMap } = {}): Promise<WeightStore> {
  if (!fs.existsSync(path)) throw new WeightError(`weights file not found: ${path}`);
  if (fs.statSync(path).isDirectory()) throw new WeightError(`weights file ${path} is a folder, not a file`);
  const lower = path.toLowerCase();
  let tensors: Map<string, RawTensor>;
  if (lower.endsWith('.json')) tensors = buildFromManifest(readManifest(path));
  else if (lower.endsWith('.pt') || lower.endsWith('.pth') || lower.endsWith('.ckpt') || lower.endsWith('.bin')) {
    const { loadTorchStateDict } = await import('./torchCheckpoint');
    tensors = loadTorchStateDict(new Uint8Array(fs.readFileSync(path)));
  } else if (!opts.nameMap) {
    return WeightStore.fromSafetensors(SafetensorsFile.open(path), path);
  } else {
    const file = SafetensorsFile.open(path);
    try {
      tensors = file.all();
    } finally {
      file.close();
    }
  }
  if (opts.nameMap) {
    const { applyNameMap } = await import('./nameMap');
    tensors = applyNameMap(tensors, opts.nameMap);
  }
  return WeightStore.fromTensors(tensors, path);
}

export { FormatError };
