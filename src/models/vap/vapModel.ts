/**
 * MaAI's VapGPT in 'vap' mode, from the VAP inputs x1, x2 [B, T, dim] (the encoder adapters live in vapEncoder.ts):
 *   o1 = GPT(x1), o2 = GPT(x2)  (ar_channel, same weights)  ->  GPTStereo(o1, o2) (ar)  ->
 *   logits = vap_head(combined), vad_c = sigmoid(va_classifier(tower c output))  ->  p_now / p_future (objective).
 * `forward` runs a whole sequence (causal + context-limit mask); `step` continues from a cache and trims it to
 * the newest contextLimit - 1 frames as Maai does after every call.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../../util/tidy';
import { Linear } from '../../layers/linear';
import { Module, disposeAll } from '../../layers/param';
import { WeightStore } from '../../weights/store';
import { GPT, GPTStereo } from './gpt';
import { ObjectiveVAP, VapProbabilities } from './objective';
import { VapConfig } from './vapConfig';
import { VapCache, cacheFromTensors, cacheTensors, disposeCache, importCache, exportCache, trimCache } from './vapCache';
import { TracedSteps } from '../../backend/tfFunction';
import { RawTensor } from '../../weights/types';

/** Every per-frame output of one call, [B, T, ...]. */
export interface VapOutput extends VapProbabilities {
  arChannelOut1: tf.Tensor3D;
  arChannelOut2: tf.Tensor3D;
  stereoOut1: tf.Tensor3D;
  stereoOut2: tf.Tensor3D;
  combined: tf.Tensor3D;
  logits: tf.Tensor3D;
  /** [B, T, 2]: va_classifier on the two tower outputs, and its sigmoid. */
  vadLogit: tf.Tensor3D;
  vad: tf.Tensor3D;
}

/** Upstream's name of each output (the golden-vap tensor names). */
export const VAP_OUTPUT_NAMES: ReadonlyArray<[keyof VapOutput, string]> = [
  ['arChannelOut1', 'ar_channel_out1'],
  ['arChannelOut2', 'ar_channel_out2'],
  ['stereoOut1', 'stereo_out1'],
  ['stereoOut2', 'stereo_out2'],
  ['combined', 'combined'],
  ['logits', 'logits'],
  ['vadLogit', 'vad_logit'],
  ['vad', 'vad'],
  ['pNow', 'p_now'],
  ['pFuture', 'p_future'],
  ['pBins', 'p_bins'],
  ['pBinsNow', 'p_bins_now'],
  ['pBinsFuture', 'p_bins_future'],
];

export function disposeOutput(o: VapOutput): void {
  tf.dispose(Object.values(o) as tf.Tensor[]);
}

export class VapGPT implements Module {
  /** Streaming steps as TensorFlow functions (native backend only; see backend/tfFunction.ts). */
  readonly traced = new TracedSteps();

  constructor(
    readonly config: VapConfig,
    readonly arChannel: GPT,
    readonly ar: GPTStereo,
    readonly vaClassifier: Linear,
    readonly vapHead: Linear,
    readonly objective: ObjectiveVAP,
  ) {
    if (config.binTimes.length !== objective.bins) throw new RangeError('VapGPT: bin_times and objective disagree');
  }

  /** Loads the VAP tensors by their upstream names (ar_channel.*, ar.*, va_classifier.*, vap_head.*, objective.*). */
  static load(store: WeightStore, config: VapConfig): VapGPT {
    const d = { dim: config.dim, heads: config.numHeads, ffn: config.ffnDim };
    const classes = 2 ** (2 * config.binTimes.length);
    return new VapGPT(
      config,
      GPT.load(store, 'ar_channel', config.channelLayers, d),
      GPTStereo.load(store, 'ar', config.crossLayers, d),
      Linear.load(store, 'va_classifier', config.dim, 1, true),
      Linear.load(store, 'vap_head', config.dim, classes, true),
      ObjectiveVAP.load(store, config.binTimes),
    );
  }

  get headDim(): number {
    return this.config.dim / this.config.numHeads;
  }

  private check(x1: tf.Tensor3D, x2: tf.Tensor3D, cache: VapCache | null): void {
    const D = this.config.dim;
    for (const [n, x] of [['x1', x1], ['x2', x2]] as const) {
      if (!(x instanceof tf.Tensor) || x.rank !== 3 || x.shape[2] !== D) throw new RangeError(`VapGPT: ${n} must be [B, T, ${D}], got ${x instanceof tf.Tensor ? `[${x.shape}]` : typeof x}`);
      if (x.shape[1] < 1) throw new RangeError(`VapGPT: ${n} has no frames`);
    }
    if (!tf.util.arraysEqual(x1.shape, x2.shape)) throw new RangeError(`VapGPT: x1 [${x1.shape}] and x2 [${x2.shape}] differ`);
    if (cache && cache.ar[0] && cache.ar[0].k.shape[0] !== 2 * x1.shape[0]) {
      throw new RangeError(`VapGPT: cache has batch ${cache.ar[0].k.shape[0] / 2}, inputs have batch ${x1.shape[0]}`);
    }
  }

  /** One forward over T frames after the frames held in `cache` (null: none). Returns outputs and the grown cache. */
  forward(x1: tf.Tensor3D, x2: tf.Tensor3D, cache: VapCache | null = null): { out: VapOutput; cache: VapCache } {
    this.check(x1, x2, cache);
    const cl = this.config.contextLimit;
    return tidyTyped(() => {
      // The two channels run as one batch: rows [x1; x2] (same weights, separate caches per row).
      const B = x1.shape[0];
      const c = this.arChannel.forward(tf.concat([x1, x2], 0) as tf.Tensor3D, cache?.ar ?? null, cl);
      const s = this.ar.forward(c.y, cache, cl);
      const [o1, o2] = tf.split(c.y, 2, 0) as [tf.Tensor3D, tf.Tensor3D];
      const logits = this.vapHead.forward(s.x);
      const va = this.vaClassifier.forward(tf.concat([s.x1, s.x2], 0) as tf.Tensor3D);
      const vadLogit = tf.concat([tf.slice(va, [0, 0, 0], [B, -1, -1]), tf.slice(va, [B, 0, 0], [B, -1, -1])], 2) as tf.Tensor3D;
      const out: VapOutput = {
        arChannelOut1: o1,
        arChannelOut2: o2,
        stereoOut1: s.x1,
        stereoOut2: s.x2,
        combined: s.x,
        logits,
        vadLogit,
        vad: tf.sigmoid(vadLogit),
        ...this.objective.probabilities(logits),
      };
      return { out, cache: { ar: c.cache, ...s.cache } };
    });
  }

  /**
   * A streaming step: forward from `cache`, then Maai's trim to the newest contextLimit - 1 frames. The given
   * cache is left as it was (the caller disposes it); a failing step changes nothing.
   */
  step(x1: tf.Tensor3D, x2: tf.Tensor3D, cache: VapCache | null): { out: VapOutput; cache: VapCache } {
    const eager = (a: tf.Tensor3D, b: tf.Tensor3D, c: VapCache | null) => {
      const r = this.forward(a, b, c);
      const trimmed = trimCache(r.cache, this.config.contextLimit - 1);
      disposeCache(r.cache);
      return { out: r.out, cache: trimmed };
    };
    if (!cache) return eager(x1, x2, null);
    this.check(x1, x2, cache);
    // On the native TensorFlow backend the step runs as one traced function (backend/tfFunction.ts): inputs x1, x2
    // and the cache's tensors, outputs every VapOutput field (VAP_OUTPUT_NAMES order) and the trimmed cache.
    const outs = this.traced.run('vap step', [x1, x2, ...cacheTensors(cache)], ([a, b, ...kv]) => {
      const r = eager(a as tf.Tensor3D, b as tf.Tensor3D, cacheFromTensors(kv as tf.Tensor4D[], cache));
      return [...VAP_OUTPUT_NAMES.map(([k]) => r.out[k]), ...cacheTensors(r.cache)];
    });
    const out = {} as VapOutput;
    VAP_OUTPUT_NAMES.forEach(([k], i) => ((out as unknown as Record<string, tf.Tensor>)[k] = outs[i]));
    return { out, cache: cacheFromTensors(outs.slice(VAP_OUTPUT_NAMES.length) as tf.Tensor4D[], cache) };
  }

  exportCache(cache: VapCache): Array<[string, RawTensor]> {
    return exportCache(cache);
  }

  importCache(flat: Array<[string, RawTensor]> | Map<string, RawTensor>, batch = 1): VapCache {
    const c = this.config;
    return importCache(flat, { batch, heads: c.numHeads, headDim: this.headDim, channelLayers: c.channelLayers, crossLayers: c.crossLayers });
  }

  variables(): tf.Variable[] {
    return [...this.arChannel.variables(), ...this.ar.variables(), ...this.vaClassifier.variables(), ...this.vapHead.variables()];
  }

  dispose(): void {
    this.traced.clear();
    for (const l of [...this.arChannel.layers, ...this.ar.layers]) for (const a of l.attentions()) a.disposeBias();
    disposeAll(this.variables());
    this.objective.dispose();
  }
}
