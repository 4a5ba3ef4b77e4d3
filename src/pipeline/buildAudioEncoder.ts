/**
 * buildAudioEncoder(conf): MaAI's factory with its config keys (snake_case) and camelCase aliases.
 * No download ever happens: weights come from local files (safetensors, .pt, or a detweights manifest).
 *
 * Keys: encoder_type ('cpc' | 'mimi', default 'cpc'); frame_hz (Mimi: 10 on the PyTorch path, 12.5 with
 * mimi_use_onnx); freeze_encoder; load_pretrained (CPC: 1 loads the CPC weights from cpc_model);
 * mimi_use_onnx (default 1: the flat-state streaming contract of EncoderMimiOnnx, streaming only, 12.5 Hz,
 * batch 1, fixed 1600-sample windows); mimi_onnx_precision ('fp32' | 'int8'; int8 with a cuda runtime is an
 * error as upstream; tfjs runs float32 either way); runtime_device ('cpu' | 'cuda...'); weights /
 * cpc_model / mimi_weights_path (files); mimi_config (MimiConfig overrides).
 */
import * as fs from 'node:fs';
import { EncoderCPC } from '../models/cpc/encoderCpc';
import { EncoderMimi } from '../models/mimi/encoderMimi';
import { MimiConfig } from '../models/mimi/mimiConfig';
import { WeightStore, openWeights } from '../weights/store';
import type { NameMap } from '../weights/nameMap';

export interface AudioEncoderConf {
  encoder_type?: 'cpc' | 'mimi' | string;
  frame_hz?: number;
  freeze_encoder?: boolean | number;
  load_pretrained?: boolean | number;
  mimi_use_onnx?: boolean | number | string;
  mimi_onnx_precision?: string;
  runtime_device?: string;
  /** Weights of the encoder (all of EncoderCPC's or EncoderMimi's tensors). */
  weights?: string | WeightStore;
  /** CPC checkpoint (MaAI's cpc_model argument); used when `weights` is not given. */
  cpc_model?: string;
  mimi_weights_path?: string;
  /** Name map applied when reading the weights file (e.g. VAP_ENCODER_NAME_MAP = { select: 'encoder.', strip: ['encoder.'] } for a MaAI VAP state dict). */
  name_map?: NameMap;
  mimi_config?: Partial<MimiConfig>;
  mimi_model_name?: string;
  // camelCase aliases
  encoderType?: string;
  frameHz?: number;
  freezeEncoder?: boolean | number;
  loadPretrained?: boolean | number;
  mimiUseOnnx?: boolean | number | string;
  mimiOnnxPrecision?: string;
  runtimeDevice?: string;
  cpcModel?: string;
  mimiWeightsPath?: string;
  nameMap?: NameMap;
  mimiConfig?: Partial<MimiConfig>;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ALIASES: Record<string, string> = {
  encoderType: 'encoder_type',
  frameHz: 'frame_hz',
  freezeEncoder: 'freeze_encoder',
  loadPretrained: 'load_pretrained',
  mimiUseOnnx: 'mimi_use_onnx',
  mimiOnnxPrecision: 'mimi_onnx_precision',
  runtimeDevice: 'runtime_device',
  cpcModel: 'cpc_model',
  mimiWeightsPath: 'mimi_weights_path',
  nameMap: 'name_map',
  mimiConfig: 'mimi_config',
};

/** Merges camelCase aliases into snake_case keys; both forms with different values is an error. */
export function normalizeConf(conf: AudioEncoderConf): Record<string, unknown> {
  if (conf === null || typeof conf !== 'object') throw new ConfigError('buildAudioEncoder: conf must be an object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(conf)) {
    const key = ALIASES[k] ?? k;
    if (key in out && out[key] !== v) throw new ConfigError(`buildAudioEncoder: "${k}" and "${key}" are both set, to different values`);
    out[key] = v;
  }
  return out;
}

function truthyInt(v: unknown, key: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n)) throw new ConfigError(`buildAudioEncoder: ${key} must be 0/1 or a boolean, got ${JSON.stringify(v)}`);
  return n !== 0;
}

export interface BuiltEncoder {
  encoder: EncoderCPC | EncoderMimi;
  type: 'cpc' | 'mimi';
  /** Mimi with mimi_use_onnx: EncoderMimiOnnx's contract (streaming only, batch 1, 12.5 Hz, flat state). */
  onnxContract: boolean;
  precision?: 'fp32' | 'int8';
}

async function loadStore(conf: Record<string, unknown>, keys: string[]): Promise<WeightStore> {
  for (const key of keys) {
    const v = conf[key];
    if (v === undefined || v === null || v === '') continue;
    if (v instanceof WeightStore) return v;
    if (typeof v !== 'string') throw new ConfigError(`buildAudioEncoder: ${key} must be a file path`);
    if (!fs.existsSync(v)) throw new ConfigError(`buildAudioEncoder: ${key} file not found: ${v}`);
    return openWeights(v, { nameMap: conf.name_map as NameMap | undefined });
  }
  throw new ConfigError(`buildAudioEncoder: no weights: set ${keys.join(' or ')} to a weights file (nothing is downloaded)`);
}

export async function buildAudioEncoder(confIn: AudioEncoderConf): Promise<BuiltEncoder> {
  const conf = normalizeConf(confIn);
  const type = conf.encoder_type ?? 'cpc';
  if (type === 'cpc') {
    const freeze = truthyInt(conf.freeze_encoder, 'freeze_encoder', true);
    const pretrained = truthyInt(conf.load_pretrained, 'load_pretrained', true);
    if (!pretrained) {
      throw new ConfigError('buildAudioEncoder: load_pretrained = 0 would build an untrained CPC (random weights), which this library does not do; give the weights');
    }
    const store = await loadStore(conf, ['weights', 'cpc_model']);
    return { encoder: EncoderCPC.load(store, { freeze }), type: 'cpc', onnxContract: false };
  }
  if (type === 'mimi') {
    const device = String(conf.runtime_device ?? 'cpu');
    const useOnnx = truthyInt(conf.mimi_use_onnx, 'mimi_use_onnx', true);
    const precision = String(conf.mimi_onnx_precision ?? 'fp32').trim().toLowerCase();
    if (precision !== 'fp32' && precision !== 'int8') throw new ConfigError(`Unsupported mimi_onnx_precision: ${precision}`);
    if (device.startsWith('cuda') && precision === 'int8') {
      throw new ConfigError("mimi_onnx_precision='int8' is not supported with CUDA. Use 'fp32' on CUDA.");
    }
    const frameHz = conf.frame_hz === undefined ? (useOnnx ? 12.5 : 10) : Number(conf.frame_hz);
    if (!(frameHz > 0)) throw new ConfigError(`buildAudioEncoder: frame_hz must be a positive number, got ${JSON.stringify(conf.frame_hz)}`);
    if (useOnnx && Math.abs(frameHz - 12.5) > 1e-9) {
      // EncoderMimiOnnx requires the meta's frame_rate (12.5) to equal frame_hz.
      throw new ConfigError(`buildAudioEncoder: mimi_use_onnx requires frame_hz 12.5 (the ONNX contract's frame_rate), got ${frameHz}`);
    }
    const store = await loadStore(conf, ['weights', 'mimi_weights_path']);
    const encoder = EncoderMimi.load(store, { frameHz, config: conf.mimi_config as Partial<MimiConfig> | undefined });
    return { encoder, type: 'mimi', onnxContract: useOnnx, precision };
  }
  throw new ConfigError(`buildAudioEncoder: unknown encoder_type "${String(type)}" (expected "cpc" or "mimi")`);
}
