/** VapConfig ('vap' mode) and what can be read off a VAP checkpoint's tensors. */
import { WeightStore } from '../../weights/store';
import { pyRound } from '../../util/pyRound';
import { DEFAULT_BIN_TIMES } from './objective';

export interface VapConfig {
  dim: number;
  channelLayers: number;
  crossLayers: number;
  numHeads: number;
  ffnDim: number;
  binTimes: number[];
  /** Frames per second of the VAP inputs (MaAI's frame_rate). */
  frameHz: number;
  /** Frames each query may attend (the newest included); 0 or less: unlimited. */
  contextLimit: number;
}

/** Maai's context_limit = int(round(context_len_sec * frame_rate)): Python's round, 62.5 -> 62. */
export function contextLimitFor(contextLenSec: number, frameHz: number): number {
  return pyRound(contextLenSec * frameHz);
}

/** The encoder a VAP checkpoint was trained with, from its adapter tensors. */
export type VapEncoderType = 'cpc' | 'mimi';

export interface VapCheckpointInfo {
  encoder: VapEncoderType;
  dim: number;
  channelLayers: number;
  crossLayers: number;
  numHeads: number;
  ffnDim: number;
  /** CPC: the downsample kernel (training used kernel = 100 / frame_hz). */
  downsampleKernel?: number;
  /**
   * CPC: 100 / kernel (training used kernel = stride = 100 / frame_hz). Mimi: 12.5, the rate of MaAI's Mimi VAP
   * models (their state dicts carry an encoder.frame_rate_conv that only other rates would use).
   */
  frameHz: number;
  /** Mimi: the encoder feature size decrease_dimension reads. */
  encoderDim?: number;
}

function countLayers(names: string[], prefix: string): number {
  let n = 0;
  while (names.some((x) => x.startsWith(`${prefix}.layers.${n}.`))) n++;
  return n;
}

/**
 * Reads the architecture from a VAP state dict's tensor names and shapes (names as in the checkpoint, with the
 * encoder under `encoder.` and, for Mimi, `decrease_dimension.*`). Throws naming the first tensor it misses.
 */
export function inspectVapCheckpoint(store: WeightStore): VapCheckpointInfo {
  const names = store.names;
  const head = store.shapeOf('vap_head.weight');
  const dim = head[1];
  const channelLayers = countLayers(names, 'ar_channel');
  const crossLayers = countLayers(names, 'ar');
  const numHeads = store.shapeOf('ar_channel.layers.0.mha.m')[0];
  const ffnDim = store.shapeOf('ar_channel.layers.0.ffnetwork.0.weight')[0];
  if (store.has('decrease_dimension.weight')) {
    return { encoder: 'mimi', dim, channelLayers, crossLayers, numHeads, ffnDim, encoderDim: store.shapeOf('decrease_dimension.weight')[1], frameHz: 12.5 };
  }
  if (store.has('encoder.downsample.1.weight')) {
    const k = store.shapeOf('encoder.downsample.1.weight')[2];
    return { encoder: 'cpc', dim, channelLayers, crossLayers, numHeads, ffnDim, downsampleKernel: k, frameHz: 100 / k };
  }
  throw new Error(`${store.label}: neither decrease_dimension.weight (Mimi) nor encoder.downsample.1.weight (CPC): not a MaAI VAP checkpoint`);
}

/** The config of a checkpoint for a given frame rate and context length (seconds). */
export function vapConfigFor(info: VapCheckpointInfo, frameHz: number, contextLenSec: number): VapConfig {
  return {
    dim: info.dim,
    channelLayers: info.channelLayers,
    crossLayers: info.crossLayers,
    numHeads: info.numHeads,
    ffnDim: info.ffnDim,
    binTimes: [...DEFAULT_BIN_TIMES],
    frameHz,
    contextLimit: contextLimitFor(contextLenSec, frameHz),
  };
}
