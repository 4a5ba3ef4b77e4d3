/**
 * The audio side of MaAI's VapGPT: the encoder of each channel and its adapter to the VAP inputs.
 * - CPC ('normal'): EncoderCPC whose downsample (Conv1d k from the weights, stride 2 -> LayerNorm -> GELU) comes
 *   from the VAP checkpoint's `encoder.downsample.*`; its output (256-d) is the VAP input.
 * - Mimi ('normal-ver2'): EncoderMimi, then x = relu(decrease_dimension(e)) (Linear enc_dim -> dim, with bias).
 * Both channels use the same weights with separate streaming state: here the two channels are the two rows of one
 * batch (every encoder state is per row), which is the same computation as two encoder instances.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EncoderCPC } from '../cpc/encoderCpc';
import { EncoderMimi } from '../mimi/encoderMimi';
import { MimiConfig, mimiConfig, MIMI_CONFIG } from '../mimi/mimiConfig';
import { Linear } from '../../layers/linear';
import { relu } from '../../layers/activations';
import { WeightStore, WeightError } from '../../weights/store';
import { RawTensor } from '../../weights/types';
import { VapEncoderType } from './vapConfig';

/** The tensors of `store` whose names pass `rename` (undefined drops a name), as F32 host tensors. */
function pick(store: WeightStore, rename: (n: string) => string | undefined, into: Map<string, RawTensor>): void {
  for (const n of store.names) {
    const to = rename(n);
    if (to === undefined) continue;
    into.set(to, { dtype: 'F32', shape: store.shapeOf(n), data: store.getArray(n) });
  }
}

export interface VapEncoderOptions {
  /** Mimi: the MimiConfig overrides (e.g. MIMI_TINY_OVERRIDES); default kyutai/mimi. */
  mimiConfig?: Partial<MimiConfig>;
  /** Frames per second of the VAP inputs (CPC: 100 / downsample kernel by default; Mimi: 12.5). */
  frameHz?: number;
}

export class VapEncoder {
  constructor(
    readonly type: VapEncoderType,
    readonly encoder: EncoderCPC | EncoderMimi,
    /** Mimi's decrease_dimension (null for CPC). */
    readonly decreaseDimension: Linear | null,
    readonly frameHz: number,
  ) {}

  /**
   * Builds the encoder of a VAP checkpoint. `vap`: the VAP tensors under their checkpoint names (a manifest or a
   * MaAI state dict). `enc`: the encoder's own weights (CPC checkpoint / EncoderCPC names, or Mimi's); when null the
   * encoder is read from the VAP state dict itself (`encoder.encoder.*` for CPC, `encoder.model.*` for Mimi).
   */
  static load(type: VapEncoderType, vap: WeightStore, enc: WeightStore | null, opts: VapEncoderOptions = {}): VapEncoder {
    const t = new Map<string, RawTensor>();
    if (type === 'cpc') {
      if (!vap.has('encoder.downsample.1.weight')) throw new WeightError(`${vap.label}: missing tensor "encoder.downsample.1.weight" (the VAP checkpoint's CPC downsample)`);
      if (enc) pick(enc, (n) => (n.startsWith('encoder.gEncoder.') || n.startsWith('encoder.gAR.') ? n : undefined), t);
      else pick(vap, (n) => (n.startsWith('encoder.encoder.') ? n.slice('encoder.'.length) : undefined), t);
      // Maai copies the checkpoint's downsample into both encoders, replacing EncoderCPC's own.
      pick(vap, (n) => (n.startsWith('encoder.downsample.') ? n.slice('encoder.'.length) : undefined), t);
      const cpc = EncoderCPC.load(WeightStore.fromTensors(t, enc ? `${enc.label} + ${vap.label}` : vap.label));
      return new VapEncoder('cpc', cpc, null, opts.frameHz ?? 100 / cpc.downsampleConv.kernelSize);
    }
    const frameHz = opts.frameHz ?? 12.5;
    if (enc) pick(enc, (n) => n, t);
    else pick(vap, (n) => (n.startsWith('encoder.model.') ? n.slice('encoder.model.'.length) : undefined), t);
    pick(vap, (n) => (n.startsWith('encoder.frame_rate_conv.') ? n.slice('encoder.'.length) : undefined), t);
    const config = mimiConfig({ ...MIMI_CONFIG, ...(opts.mimiConfig ?? {}) });
    const [outDim, inDim] = vap.shapeOf('decrease_dimension.weight');
    if (inDim !== config.hidden_size) {
      throw new WeightError(`${vap.label}: decrease_dimension.weight reads ${inDim} features but the Mimi config has hidden_size ${config.hidden_size} (pick the matching Mimi config)`);
    }
    const mimi = EncoderMimi.load(WeightStore.fromTensors(t, enc?.label ?? vap.label), { frameHz, config });
    return new VapEncoder('mimi', mimi, Linear.load(vap, 'decrease_dimension', inDim, outDim, true), frameHz);
  }

  /** The VAP input from encoder features [B, N, enc_dim] (CPC: as is; Mimi: relu(decrease_dimension)). */
  adapt(e: tf.Tensor3D): tf.Tensor3D {
    return this.decreaseDimension ? tf.tidy(() => relu(this.decreaseDimension!.forward(e))) : tf.clone(e);
  }

  variables(): tf.Variable[] {
    return [...this.encoder.variables(), ...(this.decreaseDimension ? this.decreaseDimension.variables() : [])];
  }

  dispose(): void {
    this.encoder.dispose();
    this.decreaseDimension?.variables().forEach((v) => v.dispose());
  }
}
