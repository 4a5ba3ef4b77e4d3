/**
 * Builds MaAI's VAP model and its encoder from local files, as Maai does: the VAP weights (a detweights manifest,
 * safetensors, or MaAI's published state dict .pt, also wrapped as {"state_dict": ...}) and optionally the
 * encoder's own weights (CPC: EncoderCPC names or the CPC training checkpoint; Mimi: its safetensors). Without
 * encoder weights, the encoder is read from the VAP state dict itself (`encoder.encoder.*` / `encoder.model.*`).
 */
import { VapGPT } from '../models/vap/vapModel';
import { VapEncoder } from '../models/vap/vapEncoder';
import { VapCheckpointInfo, VapEncoderType, inspectVapCheckpoint, vapConfigFor } from '../models/vap/vapConfig';
import { MimiConfig } from '../models/mimi/mimiConfig';
import { WeightStore, WeightError, openWeights } from '../weights/store';
import { CPC_CHECKPOINT_NAME_MAP } from '../weights/nameMap';

export interface VapBuildOptions {
  /** VAP weights: a file path or an open store. */
  weights: string | WeightStore;
  /** The encoder's own weights (optional for MaAI state dicts, which carry the encoder). */
  encoderWeights?: string | WeightStore | null;
  /** Checked against the checkpoint's adapter tensors when given. */
  encoder?: VapEncoderType;
  /** Frames per second (default: CPC 100 / downsample kernel, Mimi 12.5). */
  frameHz?: number;
  /** Context length in seconds (Maai's context_len_sec; default 20 as Maai's default call); context_limit = round(sec * frame_hz). */
  contextLenSec?: number;
  /** Mimi: MimiConfig overrides (default kyutai/mimi). */
  mimiConfig?: Partial<MimiConfig>;
}

export interface BuiltVap {
  model: VapGPT;
  encoder: VapEncoder;
  info: VapCheckpointInfo;
}

/** Opens a VAP weights file; a `{"state_dict": ...}` wrapper is unwrapped as Maai does. */
export async function openVapWeights(path: string): Promise<WeightStore> {
  const s = await openWeights(path);
  if (s.names.length > 0 && s.names.every((n) => n.startsWith('state_dict.'))) return openWeights(path, { nameMap: { select: 'state_dict.', strip: ['state_dict.'] } });
  return s;
}

/** Opens encoder weights; MaAI's CPC training checkpoint ({weights: {gEncoder, gAR}}) is mapped to EncoderCPC's names. */
export async function openVapEncoderWeights(path: string): Promise<WeightStore> {
  const s = await openWeights(path);
  if (s.names.some((n) => n.startsWith('weights.gEncoder.'))) return openWeights(path, { nameMap: CPC_CHECKPOINT_NAME_MAP });
  return s;
}

export async function buildVap(o: VapBuildOptions): Promise<BuiltVap> {
  const vap = typeof o.weights === 'string' ? await openVapWeights(o.weights) : o.weights;
  const enc = o.encoderWeights == null ? null : typeof o.encoderWeights === 'string' ? await openVapEncoderWeights(o.encoderWeights) : o.encoderWeights;
  const info = inspectVapCheckpoint(vap);
  if (o.encoder && o.encoder !== info.encoder) throw new WeightError(`${vap.label}: a ${info.encoder} VAP checkpoint, but the encoder asked for is ${o.encoder}`);
  const frameHz = o.frameHz ?? info.frameHz;
  const encoder = VapEncoder.load(info.encoder, vap, enc, { frameHz, mimiConfig: o.mimiConfig });
  try {
    return { model: VapGPT.load(vap, vapConfigFor(info, frameHz, o.contextLenSec ?? 20)), encoder, info };
  } catch (e) {
    encoder.dispose();
    throw e;
  }
}
