/**
 * buildAudioEncoder(conf): MaAI's factory with its config keys (snake_case) and camelCase aliases.
 * No download ever happens: weights come from local files (safetensors, .pt, or a detweights manifest).
 *
 * Keys: encoder_type ('cpc' | 'mimi', default 'cpc'); frame_hz (Mimi: 10 on the PyTorch path, 12.5 with
 * mimi_use_onnx); freeze_encoder; load_pretrained (CPC: 1 loads the CPC weights from cpc_model);
 * mimi_use_onnx (default 1: the flat-state streaming contract of EncoderMimiOnnx, streaming only, 12.5 Hz,
 * batch 1, fixed 1600-sample windows); mimi_onnx_precision ('fp32' | 'int8'; int8 with a cuda runtime is an
 * error as upstream; tfjs runs float32 either way); mimi_onnx_frames_per_call (N, default 1); runtime_device
 * ('cpu' | 'cuda...'); mimi_model_name ('kyutai/mimi' only); weights / cpc_model / mimi_weights_path (files);
 * name_map; mimi_config (MimiConfig overrides, validated). Any other key is an error naming it, except MaAI's
 * onnxruntime keys (mimi_onnx_*_path, *_meta_path, mimi_onnx_hf_*, mimi_onnx_cpu_*_threads), accepted and ignored.
 */
import * as fs from 'node:fs';
import { EncoderCPC } from '../models/cpc/encoderCpc';
import { EncoderMimi } from '../models/mimi/encoderMimi';
import { MIMI_CONFIG, MimiConfig, mimiConfig } from '../models/mimi/mimiConfig';
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
  /** MaAI's inference_chunk_frames: Mimi frames per encoder call (call at frame_hz / N; see BuiltEncoder.framesPerCall). */
  mimi_onnx_frames_per_call?: number;
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
  mimiModelName?: string;
  mimiOnnxFramesPerCall?: number;
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
  mimiModelName: 'mimi_model_name',
  mimiOnnxFramesPerCall: 'mimi_onnx_frames_per_call',
};

/** The keys this factory reads. */
const KEYS = new Set([
  'encoder_type', 'frame_hz', 'freeze_encoder', 'load_pretrained', 'mimi_use_onnx', 'mimi_onnx_precision', 'runtime_device',
  'weights', 'cpc_model', 'mimi_weights_path', 'name_map', 'mimi_config', 'mimi_model_name', 'mimi_onnx_frames_per_call',
]);

/**
 * MaAI's keys for running its ONNX file with onnxruntime (local paths, HF download, ORT threads): accepted so a
 * MaAI conf can be passed as is, and ignored (this library computes the graph itself and downloads nothing).
 */
const IGNORED_MAAI_KEYS = new Set([
  'mimi_onnx_fp32_path', 'mimi_onnx_fp32_meta_path', 'mimi_onnx_int8_path', 'mimi_onnx_int8_meta_path', 'mimi_onnx_hf_cache_dir',
  'mimi_onnx_hf_force_download', 'mimi_onnx_cpu_intra_threads', 'mimi_onnx_cpu_inter_threads',
]);

/** Merges camelCase aliases into snake_case keys; both forms with different values, or an unknown key, is an error. */
export function normalizeConf(conf: AudioEncoderConf): Record<string, unknown> {
  if (conf === null || typeof conf !== 'object' || Array.isArray(conf)) throw new ConfigError('buildAudioEncoder: conf must be an object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(conf)) {
    const key = ALIASES[k] ?? k;
    if (IGNORED_MAAI_KEYS.has(key)) continue;
    if (!KEYS.has(key)) throw new ConfigError(`buildAudioEncoder: unknown key "${k}" (known: ${[...KEYS].join(', ')})`);
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
  /** Mimi frames per encoder call (mimi_onnx_frames_per_call, default 1): a session calls at frame_hz / N. */
  framesPerCall: number;
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
    return { encoder: EncoderCPC.load(store, { freeze }), type: 'cpc', onnxContract: false, framesPerCall: 1 };
  }
  if (type === 'mimi') {
    const device = conf.runtime_device ?? 'cpu';
    if (typeof device !== 'string' || !(device === 'cpu' || device.startsWith('cuda'))) {
      throw new ConfigError(`buildAudioEncoder: runtime_device must be "cpu" or "cuda[:N]", got ${JSON.stringify(device)}`);
    }
    const model = conf.mimi_model_name ?? 'kyutai/mimi';
    if (model !== 'kyutai/mimi') {
      throw new ConfigError(`buildAudioEncoder: mimi_model_name ${JSON.stringify(model)} is not supported (kyutai/mimi; describe another model with mimi_config and its weights)`);
    }
    const framesPerCall = conf.mimi_onnx_frames_per_call ?? 1;
    if (!Number.isInteger(framesPerCall) || (framesPerCall as number) < 1) {
      throw new ConfigError(`buildAudioEncoder: mimi_onnx_frames_per_call must be a positive integer, got ${JSON.stringify(framesPerCall)}`);
    }
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
    const mc = conf.mimi_config;
    if (mc !== undefined && (mc === null || typeof mc !== 'object' || Array.isArray(mc))) throw new ConfigError('buildAudioEncoder: mimi_config must be an object of MimiConfig fields');
    let config: MimiConfig;
    try {
      config = mimiConfig({ ...MIMI_CONFIG, ...((mc as Partial<MimiConfig>) ?? {}) });
    } catch (e) {
      throw new ConfigError(`buildAudioEncoder: mimi_config: ${(e as Error).message}`);
    }
    const encoder = EncoderMimi.load(store, { frameHz, config });
    return { encoder, type: 'mimi', onnxContract: useOnnx, precision, framesPerCall: framesPerCall as number };
  }
  throw new ConfigError(`buildAudioEncoder: unknown encoder_type "${String(type)}" (expected "cpc" or "mimi")`);
}
