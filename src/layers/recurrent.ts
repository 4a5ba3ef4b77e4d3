/**
 * Single-layer LSTM and GRU with PyTorch's parameterisation (batch_first): gate order i,f,g,o (LSTM) and
 * r,z,n (GRU), both bias vectors. `forward(x, state)` runs a sequence from an explicit state and returns the new
 * state, so a stream can carry it between calls (upstream's keepHidden), reset it, save and restore it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tidyTyped } from '../util/tidy';
import { WeightStore } from '../weights/store';
import { Module, param } from './param';
import { GRU_CELL, LSTM_CELL, hasFusedCell } from '../backend/recurrentCells';
import { firstNonFinite } from '../util/finite';
import { isFloat32Array } from '../util/isFloat32Array';
import { LSTM_SEQUENCE, hasLstmSequence, lstmBlockWeights } from '../backend/tensorflowKernels';

export type RecurrentMode = 'LSTM' | 'GRU';

/** h (and c for LSTM), each [B, H]. */
export interface RecurrentState {
  h: tf.Tensor2D;
  c?: tf.Tensor2D;
}

/** Host-memory form of a recurrent state, for saving and moving between processes. */
export interface RecurrentStateData {
  mode: RecurrentMode;
  batch: number;
  hidden: number;
  h: Float32Array;
  c?: Float32Array;
}

export class Recurrent implements Module {
  readonly gates: number;
  /** W_ih^T [I, G*H], W_hh^T [H, G*H]. */
  readonly wIhT: tf.Variable;
  readonly wHhT: tf.Variable;
  readonly bIh: tf.Variable;
  readonly bHh: tf.Variable;

  constructor(
    readonly mode: RecurrentMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    w: { weightIh: tf.Tensor; weightHh: tf.Tensor; biasIh: tf.Tensor; biasHh: tf.Tensor },
    name = 'rnn',
  ) {
    this.gates = mode === 'LSTM' ? 4 : 3;
    this.wIhT = param(tf.transpose(w.weightIh), `${name}.weight_ih_l0`);
    this.wHhT = param(tf.transpose(w.weightHh), `${name}.weight_hh_l0`);
    this.bIh = param(w.biasIh, `${name}.bias_ih_l0`);
    this.bHh = param(w.biasHh, `${name}.bias_hh_l0`);
    w.weightIh.dispose();
    w.weightHh.dispose();
  }

  /**
   * Loads `${prefix}.weight_ih_l0` etc. The mode is read from the weight shapes (4H rows = LSTM, 3H = GRU) and,
   * when `mode` is given, checked against it.
   */
  static load(store: WeightStore, prefix: string, inputSize: number, hiddenSize: number, mode?: RecurrentMode): Recurrent {
    const rows = store.shapeOf(`${prefix}.weight_ih_l0`)[0];
    const detected: RecurrentMode | null = rows === 4 * hiddenSize ? 'LSTM' : rows === 3 * hiddenSize ? 'GRU' : null;
    if (!detected) {
      throw new RangeError(`${prefix}.weight_ih_l0 has ${rows} rows: expected ${4 * hiddenSize} (LSTM) or ${3 * hiddenSize} (GRU) for hidden size ${hiddenSize}`);
    }
    if (mode && mode !== detected) {
      throw new RangeError(`config asks for ${mode} but ${prefix}.weight_ih_l0 has ${rows} rows, which is a ${detected} of hidden size ${hiddenSize}`);
    }
    const G = (detected === 'LSTM' ? 4 : 3) * hiddenSize;
    return new Recurrent(detected, inputSize, hiddenSize, {
      weightIh: store.get(`${prefix}.weight_ih_l0`, [G, inputSize]),
      weightHh: store.get(`${prefix}.weight_hh_l0`, [G, hiddenSize]),
      biasIh: store.get(`${prefix}.bias_ih_l0`, [G]),
      biasHh: store.get(`${prefix}.bias_hh_l0`, [G]),
    }, prefix);
  }

  /** The weights in the layout of the backend's LSTM_SEQUENCE kernel, and the variables they were made from. */
  private block: { w: tf.Tensor2D; b: tf.Tensor1D; from: object[] } | null = null;

  /**
   * The LSTM weights as TensorFlow's LSTMBlockCell wants them (an inference copy, made on first use; made again if
   * a variable was given new data since, so a retrained layer never runs on a stale copy).
   */
  private blockWeights(): { w: tf.Tensor2D; b: tf.Tensor1D } {
    const from = [this.wIhT.dataId, this.wHhT.dataId, this.bIh.dataId, this.bHh.dataId];
    if (!this.block || this.block.from.some((d, i) => d !== from[i])) {
      this.disposePrepared();
      const p = lstmBlockWeights(this.wIhT, this.wHhT, this.bIh, this.bHh);
      this.block = { w: tf.keep(p.w), b: tf.keep(p.b), from };
    }
    return this.block;
  }

  /** Frees the prepared copy (not a variable); the variables are freed by their owner. */
  disposePrepared(): void {
    if (this.block) tf.dispose([this.block.w, this.block.b]);
    this.block = null;
  }

  zeroState(batch: number): RecurrentState {
    const h = tf.zeros([batch, this.hiddenSize]) as tf.Tensor2D;
    return this.mode === 'LSTM' ? { h, c: tf.zeros([batch, this.hiddenSize]) as tf.Tensor2D } : { h };
  }

  /**
   * x: [B, T, I]; state: null means zeros. Returns the outputs [B, T, H] and the final state (new tensors; the
   * input state is not disposed).
   */
  forward(x: tf.Tensor3D, state: RecurrentState | null): { y: tf.Tensor3D; state: RecurrentState } {
    const [B, T, I] = x.shape;
    if (I !== this.inputSize) throw new RangeError(`${this.mode}: input has ${I} features, expected ${this.inputSize}`);
    const H = this.hiddenSize;
    return tidyTyped<{ y: tf.Tensor3D; state: RecurrentState }>(() => {
      let h: tf.Tensor2D = state ? state.h : (tf.zeros([B, H]) as tf.Tensor2D);
      let c: tf.Tensor2D | undefined = this.mode === 'LSTM' ? (state?.c ?? (tf.zeros([B, H]) as tf.Tensor2D)) : undefined;
      if (this.mode === 'LSTM' && T > 0 && hasLstmSequence()) {
        // The whole sequence as one kernel where the backend has it (tensorflow: one TensorFlow op per step).
        const { w, b } = this.blockWeights();
        const inputs = { x, h, c: c!, w, b };
        const [y, hT, cT] = tf.engine().runKernel(LSTM_SEQUENCE, inputs, {}) as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D];
        return { y, state: { h: hT, c: cT } };
      }
      // Input projections of all steps at once: [B, T, G*H].
      const G = this.gates * H;
      // Time-major [T, B, G], one contiguous slice per step (not tf.unstack: the wasm backend's Unpack copies the
      // whole tensor per step; our wasm Slice reads a view, see backend/wasmKernels).
      const xp = tf.transpose(tf.reshape(tf.fused.matMul({ a: tf.reshape(x, [B * T, I]), b: this.wIhT, bias: this.bIh }), [B, T, G]), [1, 0, 2]);
      // One kernel for the cell's nonlinearities where the backend has it (see recurrentCells).
      const fused = hasFusedCell(this.mode);
      const ys: tf.Tensor2D[] = [];
      for (let t = 0; t < T; t++) {
        const xt = tf.reshape(tf.slice(xp, [t, 0, 0], [1, B, G]), [B, G]) as tf.Tensor2D;
        const hp = tf.fused.matMul({ a: h, b: this.wHhT, bias: this.bHh }) as tf.Tensor2D;
        if (this.mode === 'LSTM') {
          const g = tf.add(xt, hp);
          if (fused) {
            [h, c] = tf.engine().runKernel(LSTM_CELL, { gates: g, c: c! }, {}) as [tf.Tensor2D, tf.Tensor2D];
          } else {
            const [i, f, gg, o] = tf.split(g, 4, 1);
            c = tf.add(tf.mul(tf.sigmoid(f), c!), tf.mul(tf.sigmoid(i), tf.tanh(gg))) as tf.Tensor2D;
            h = tf.mul(tf.sigmoid(o), tf.tanh(c)) as tf.Tensor2D;
          }
        } else if (fused) {
          h = tf.engine().runKernel(GRU_CELL, { xt, hp, h }, {}) as tf.Tensor2D;
        } else {
          const [xr, xz, xn] = tf.split(xt, 3, 1);
          const [hr, hz, hn] = tf.split(hp, 3, 1);
          const r = tf.sigmoid(tf.add(xr, hr));
          const z = tf.sigmoid(tf.add(xz, hz));
          const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
          // h' = (1 - z) * n + z * h = n + z * (h - n)
          h = tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D;
        }
        ys.push(h);
      }
      const y = (T > 0 ? tf.stack(ys, 1) : tf.zeros([B, 0, H])) as tf.Tensor3D;
      if (T === 0) {
        // Never hand back the caller's own state tensors: the caller disposes the old state.
        h = h.clone();
        c = c?.clone();
      }
      const out: RecurrentState = c ? { h, c } : { h };
      return { y, state: out };
    });
  }

  exportState(s: RecurrentState): RecurrentStateData {
    return { mode: this.mode, batch: s.h.shape[0], hidden: this.hiddenSize, h: s.h.dataSync() as Float32Array, c: s.c ? (s.c.dataSync() as Float32Array) : undefined };
  }

  /** Inverse of exportState, after validateRecurrentState. */
  importState(d: RecurrentStateData): RecurrentState {
    validateRecurrentState(d, this.mode, this.hiddenSize);
    const h = tf.tensor2d(d.h, [d.batch, d.hidden]);
    return this.mode === 'LSTM' ? { h, c: tf.tensor2d(d.c!, [d.batch, d.hidden]) } : { h };
  }

  variables(): tf.Variable[] {
    return [this.wIhT, this.wHhT, this.bIh, this.bHh];
  }
}

export function disposeState(s: RecurrentState | null | undefined): void {
  if (!s) return;
  s.h.dispose();
  s.c?.dispose();
}

/**
 * A recurrent state must fit this layer (mode, hidden size, a positive batch, arrays of batch x hidden values) and be
 * reachable: finite, and |h| <= 1 (an LSTM's h is o * tanh(c); a GRU's h mixes tanh outputs and the zero start).
 * The LSTM cell c has no bound but finiteness. Throws a RangeError naming the field (after `where`) otherwise.
 */
export function validateRecurrentState(d: RecurrentStateData, mode: RecurrentMode, hidden: number, where = 'recurrent state: '): void {
  if (d.mode !== mode || d.hidden !== hidden) {
    throw new RangeError(`recurrent state is ${d.mode} with hidden ${d.hidden}; this layer is ${mode} with hidden ${hidden}`);
  }
  const n = d.batch * d.hidden;
  if (!Number.isSafeInteger(d.batch) || d.batch < 1 || !isFloat32Array(d.h) || d.h.length !== n || (mode === 'LSTM' && (!isFloat32Array(d.c) || d.c.length !== n))) {
    throw new RangeError(`recurrent state arrays do not hold batch ${d.batch} x hidden ${d.hidden} values`);
  }
  for (const [k, a] of [['h', d.h], ['c', d.c]] as const) {
    const bad = a ? firstNonFinite(a) : -1;
    if (bad >= 0) throw new RangeError(`${where}${k}[${bad}] is ${a![bad]}; a state must be finite`);
  }
  const big = d.h.findIndex((v) => Math.abs(v) > 1);
  if (big >= 0) throw new RangeError(`${where}h[${big}] is ${d.h[big]}; a ${mode} output lies in [-1, 1]`);
}
