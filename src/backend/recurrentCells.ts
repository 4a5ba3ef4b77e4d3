/**
 * The LSTM and GRU cell nonlinearities of one time step as single kernels, for backends where every small op
 * costs a fixed overhead (wasm: ~3-13 microseconds per op, against well under one for the arithmetic of a 256-unit
 * cell). For an LSTM step one kernel replaces ten (the gate split, three sigmoids, two tanh, three products, a sum);
 * full-size CPC on 10 s offline runs 8,103 kernels instead of 15,087.
 *
 * The math is done on host arrays in float64 and rounded to float32 after every operation that float32 code
 * would round (products, sums, each nonlinearity), so results match the composite tfjs ops to within the
 * nonlinearities' last-bit differences. Registered for the wasm backend only: the cpu backend keeps the composite
 * ops, whose gradients training needs.
 */
import * as tf from '@tensorflow/tfjs-core';

export const LSTM_CELL = 'MaaiLSTMCell';
export const GRU_CELL = 'MaaiGRUCell';

const f32 = Math.fround;
const sigmoid = (x: number) => f32(1 / (1 + Math.exp(-x)));

/**
 * gates [B, 4H] (pre-activation, PyTorch order i, f, g, o), c [B, H] -> h', c' [B, H]:
 * c' = sigmoid(f) c + sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c').
 */
export function lstmCell(gates: Float32Array, c: Float32Array, hOut: Float32Array, cOut: Float32Array, B: number, H: number): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const g = b * G + j;
      const i = sigmoid(gates[g]);
      const f = sigmoid(gates[g + H]);
      const t = f32(Math.tanh(gates[g + 2 * H]));
      const o = sigmoid(gates[g + 3 * H]);
      const cn = f32(f32(f * c[b * H + j]) + f32(i * t));
      cOut[b * H + j] = cn;
      hOut[b * H + j] = o * f32(Math.tanh(cn));
    }
  }
}

/**
 * xt, hp [B, 3H] (input and hidden projections with their biases, order r, z, n), h [B, H] -> h' [B, H]:
 * r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r hn), h' = n + z (h - n).
 */
export function gruCell(xt: Float32Array, hp: Float32Array, h: Float32Array, hOut: Float32Array, B: number, H: number): void {
  const G = 3 * H;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const g = b * G + j;
      const r = sigmoid(f32(xt[g] + hp[g]));
      const z = sigmoid(f32(xt[g + H] + hp[g + H]));
      const n = f32(Math.tanh(f32(xt[g + 2 * H] + f32(r * hp[g + 2 * H]))));
      hOut[b * H + j] = n + f32(z * f32(h[b * H + j] - n));
    }
  }
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** Registers both cells for the wasm backend (whose tensors live in the wasm heap). */
export function registerWasmRecurrentCells(): void {
  if (!tf.getKernel(LSTM_CELL, 'wasm')) {
    tf.registerKernel({
      kernelName: LSTM_CELL,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { gates, c } = inputs as { gates: tf.TensorInfo; c: tf.TensorInfo };
        const be = backend as unknown as HeapBackend;
        const [B, H] = c.shape;
        const hOut = be.makeOutput([B, H], 'float32');
        const cOut = be.makeOutput([B, H], 'float32');
        // Views after every allocation (a heap growth detaches older views).
        lstmCell(be.typedArrayFromHeap(gates), be.typedArrayFromHeap(c), be.typedArrayFromHeap(hOut), be.typedArrayFromHeap(cOut), B, H);
        return [hOut, cOut];
      },
    });
  }
  if (!tf.getKernel(GRU_CELL, 'wasm')) {
    tf.registerKernel({
      kernelName: GRU_CELL,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { xt, hp, h } = inputs as { xt: tf.TensorInfo; hp: tf.TensorInfo; h: tf.TensorInfo };
        const be = backend as unknown as HeapBackend;
        const [B, H] = h.shape;
        const hOut = be.makeOutput([B, H], 'float32');
        gruCell(be.typedArrayFromHeap(xt), be.typedArrayFromHeap(hp), be.typedArrayFromHeap(h), be.typedArrayFromHeap(hOut), B, H);
        return hOut;
      },
    });
  }
}

/** Whether the active backend has the fused cell for `mode`. */
export function hasFusedCell(mode: 'LSTM' | 'GRU'): boolean {
  return tf.getKernel(mode === 'LSTM' ? LSTM_CELL : GRU_CELL, tf.getBackend()) !== undefined;
}
