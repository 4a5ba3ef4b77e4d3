/**
 * Kernel replacements for the native `tensorflow` backend (@tensorflow/tfjs-node). Every tfjs kernel call there
 * costs a fixed ~10-35 us through the addon, and a few of tfjs-node's kernels spend several TensorFlow ops where
 * one does (measured on this project's machine, 2 cores):
 * - BatchMatMul of two matrices: TensorFlow's MatMul instead of BatchMatMulV2 (a 2 x 512 x 2048 product
 *   0.21 ms instead of 0.28; with the weight stored transposed, 0.14);
 * - _FusedMatMul (matMul + bias + activation): tfjs-node runs tf.matMul, tf.add and the activation inside a
 *   tidy; here the product and BiasAdd go straight to TensorFlow;
 * - Mean: tfjs-node casts a float32 input to float32 (one more op) and makes a new int32 tensor of the axes on
 *   every call; here float32 input goes straight to Mean with a cached axes tensor.
 * - a whole LSTM sequence (LSTM_SEQUENCE, used by layers/recurrent when registered): one TensorFlow LSTMBlockCell
 *   op per step, the recurrent product included, instead of ~14 tfjs kernels per step.
 * - LayerNorm (LAYER_NORM, used by layers/layerNorm when registered): TensorFlow's FusedBatchNormV3 in
 *   training mode over a [1, rows, features, 1] NCHW view (each row a "channel": its mean and population
 *   variance), then the affine weight and bias: 5 kernels instead of ~10 (measured 0.76 ms against 3.3 ms for a
 *   2 x 512 input on the loaded 2-core machine).
 * - GatherV2: tfjs-node reads the indices back to the host to check their range before the op; TensorFlow's CPU
 *   kernel checks the range itself (an out-of-range index is its error), so the indices go straight to the op.
 *   That keeps a gather by a host-made index vector inside a traced step (tfFunction.ts); the KV cache uses one.
 * Other backends are untouched. Each replacement is checked against the original kernel (tensorflowBackend.test.ts)
 * and by the golden parity cases on this backend.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-node's NodeJSKernelBackend used here. */
interface NativeBackend {
  binding: { TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_ATTR_STRING: number; TF_ATTR_FLOAT: number; TF_ATTR_INT: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: tf.TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: tf.TensorInfo[], numOutputs: number): tf.Tensor[];
}

/**
 * Kernel name of a whole single-layer LSTM sequence: inputs x [B, T, I] (T >= 1), h, c [B, H], and the weights in
 * TensorFlow's LSTMBlockCell layout from lstmBlockWeights (w [I + H, 4H], b [4H]); outputs y [B, T, H], h, c.
 * Registered for tensorflow only.
 */
export const LSTM_SEQUENCE = 'MaaiLSTMSequence';

/**
 * PyTorch's LSTM parameters (W_ih^T [I, 4H], W_hh^T [H, 4H], b_ih, b_hh; gate blocks i, f, g, o) in the layout of
 * TensorFlow's LSTMBlockCell, which computes [x, h] @ w + b with gate blocks i, ci (= g), f, o: the two matrices
 * stacked, the biases summed, the middle blocks swapped. Made once per weight set by the layer (layers/recurrent).
 */
export function lstmBlockWeights(wIhT: tf.Tensor, wHhT: tf.Tensor, bIh: tf.Tensor, bHh: tf.Tensor): { w: tf.Tensor2D; b: tf.Tensor1D } {
  return tf.tidy(() => {
    const reorder = (t: tf.Tensor, axis: number) => {
      const [i, f, g, o] = tf.split(t, 4, axis);
      return tf.concat([i, g, f, o], axis);
    };
    return { w: reorder(tf.concat([wIhT, wHhT], 0), 1) as tf.Tensor2D, b: reorder(tf.add(bIh, bHh), 0) as tf.Tensor1D };
  });
}

/** Kernel name of LayerNorm over the last axis: inputs x, weight, bias ([features]); attr eps. Tensorflow only. */
export const LAYER_NORM = 'MaaiLayerNorm';

/** Whether the active backend runs LAYER_NORM. */
export function hasLayerNorm(): boolean {
  return tf.getKernel(LAYER_NORM, tf.getBackend()) !== undefined;
}

/** Whether the active backend runs LSTM_SEQUENCE. */
export function hasLstmSequence(): boolean {
  return tf.getKernel(LSTM_SEQUENCE, tf.getBackend()) !== undefined;
}

type KernelFn = (args: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap; backend: unknown }) => tf.TensorInfo | tf.TensorInfo[];

const BACKEND = 'tensorflow';
let installed = false;

function product(be: NativeBackend, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const B = be.binding;
  const T = { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT };
  if (a.shape.length === 2 && b.shape.length === 2) {
    return be.executeSingleOutput('MatMul', [T, { name: 'transpose_a', type: B.TF_ATTR_BOOL, value: transposeA }, { name: 'transpose_b', type: B.TF_ATTR_BOOL, value: transposeB }], [a, b]);
  }
  return be.executeSingleOutput('BatchMatMulV2', [T, { name: 'adj_x', type: B.TF_ATTR_BOOL, value: transposeA }, { name: 'adj_y', type: B.TF_ATTR_BOOL, value: transposeB }], [a, b]);
}

/** int32 axes tensors, one per distinct axes list, kept for the life of the process. */
const constCache = new Map<string, tf.Tensor>();

/** A constant kept for the life of the process (axes, ones / zeros of a given length). */
function constant(key: string, make: () => tf.Tensor): tf.Tensor {
  let t = constCache.get(key);
  if (!t || t.isDisposed) {
    t = tf.keep(make());
    constCache.set(key, t);
  }
  return t;
}

function axesTensor(axes: number[]): tf.Tensor {
  return constant(`axes ${axes.join(',')}`, () => tf.tensor1d(axes, 'int32'));
}

export function installTensorflowKernels(): void {
  if (installed) return;
  const original = (name: string) => tf.getKernel(name, BACKEND)?.kernelFunc as unknown as KernelFn | undefined;
  const matMul0 = original('BatchMatMul');
  const fused0 = original('_FusedMatMul');
  const mean0 = original('Mean');
  const gather0 = original('GatherV2');
  if (!matMul0 || !fused0 || !mean0 || !gather0) return; // not tfjs-node's kernel set: leave it alone
  installed = true;
  const replace = (name: string, kernelFunc: KernelFn) => {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  };

  replace('BatchMatMul', (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return matMul0(args);
    return product(args.backend as NativeBackend, a, b, !!args.attrs.transposeA, !!args.attrs.transposeB);
  });

  replace('_FusedMatMul', (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const { transposeA, transposeB, activation } = args.attrs as { transposeA: boolean; transposeB: boolean; activation?: string };
    const n = b!.shape[transposeB ? b!.shape.length - 2 : b!.shape.length - 1];
    const simple = a!.dtype === 'float32' && b!.dtype === 'float32' && !preluActivationWeights && (activation === undefined || activation === 'linear' || activation === 'relu');
    if (!simple || (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== n))) return fused0(args);
    const be = args.backend as NativeBackend;
    const B = be.binding;
    const T = { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT };
    let y = product(be, a!, b!, transposeA, transposeB);
    if (bias) {
      const z = be.executeSingleOutput('BiasAdd', [T, { name: 'data_format', type: B.TF_ATTR_STRING, value: 'NHWC' }], [y, bias]);
      y.dispose();
      y = z;
    }
    if (activation === 'relu') {
      const z = be.executeSingleOutput('Relu', [T], [y]);
      y.dispose();
      y = z;
    }
    return y;
  });

  tf.registerKernel({
    kernelName: LSTM_SEQUENCE,
    backendName: BACKEND,
    kernelFunc: (({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }) => {
      const { x, h, c, w, b } = inputs as unknown as Record<string, tf.Tensor>;
      const be = backend as NativeBackend;
      const B = be.binding;
      const T = x.shape[1]!;
      const H = h.shape[1]!;
      const peep = constant(`zeros ${H}`, () => tf.zeros([H]));
      const xs = tf.unstack(x, 1);
      const attrs = [
        { name: 'forget_bias', type: B.TF_ATTR_FLOAT, value: 0 },
        { name: 'cell_clip', type: B.TF_ATTR_FLOAT, value: -1 },
        { name: 'use_peephole', type: B.TF_ATTR_BOOL, value: false },
        { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
      ];
      const hs: tf.Tensor[] = [];
      let hPrev: tf.Tensor = h;
      let cPrev: tf.Tensor = c;
      for (let t = 0; t < T; t++) {
        // Outputs: i, cs, f, o, ci, co, h.
        const out = be.executeMultipleOutputs('LSTMBlockCell', attrs, [xs[t], cPrev, hPrev, w, peep, peep, peep, b], 7);
        tf.dispose([out[0], out[2], out[3], out[4], out[5]]);
        if (cPrev !== c) cPrev.dispose();
        cPrev = out[1];
        hPrev = out[6];
        hs.push(hPrev);
      }
      const y = tf.stack(hs, 1);
      tf.dispose([...xs, ...hs.slice(0, -1)]);
      return [y, hPrev, cPrev];
    }) as unknown as tf.KernelFunc,
  });

  tf.registerKernel({
    kernelName: LAYER_NORM,
    backendName: BACKEND,
    kernelFunc: (({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap; backend: unknown }) => {
      const { x, weight, bias } = inputs as unknown as Record<string, tf.Tensor>;
      const be = backend as NativeBackend;
      const B = be.binding;
      const C = x.shape[x.rank - 1];
      const R = x.size / C;
      const x4 = tf.reshape(x, [1, R, C, 1]);
      const outs = be.executeMultipleOutputs(
        'FusedBatchNormV3',
        [
          { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
          { name: 'U', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
          { name: 'epsilon', type: B.TF_ATTR_FLOAT, value: attrs.eps as number },
          { name: 'exponential_avg_factor', type: B.TF_ATTR_FLOAT, value: 1 },
          { name: 'data_format', type: B.TF_ATTR_STRING, value: 'NCHW' },
          { name: 'is_training', type: B.TF_ATTR_BOOL, value: true },
        ],
        [x4, constant(`ones ${R}`, () => tf.ones([R])), constant(`zeros ${R}`, () => tf.zeros([R])), constant('empty', () => tf.tensor1d([])), constant('empty', () => tf.tensor1d([]))],
        6,
      );
      const n = tf.reshape(outs[0], x.shape);
      const scaled = tf.mul(n, weight);
      const y = tf.add(scaled, bias);
      tf.dispose([x4, ...outs, n, scaled]);
      return y;
    }) as unknown as tf.KernelFunc,
  });

  replace('GatherV2', (args) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    if (indices.dtype !== 'int32' || (x.dtype !== 'float32' && x.dtype !== 'int32')) return gather0(args);
    // tfjs' own shape checks (they read shapes only).
    tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, axis, batchDims);
    const be = args.backend as NativeBackend;
    const B = be.binding;
    return be.executeSingleOutput(
      'GatherV2',
      [
        { name: 'batch_dims', type: B.TF_ATTR_INT, value: batchDims },
        { name: 'Tparams', type: B.TF_ATTR_TYPE, value: x.dtype === 'int32' ? B.TF_INT32 : B.TF_FLOAT },
        { name: 'Tindices', type: B.TF_ATTR_TYPE, value: B.TF_INT32 },
        { name: 'Taxis', type: B.TF_ATTR_TYPE, value: B.TF_INT32 },
      ],
      [x, indices, constant(`axis scalar ${axis}`, () => tf.scalar(axis, 'int32'))],
    );
  });

  replace('Mean', (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32') return mean0(args);
    const be = args.backend as NativeBackend;
    const B = be.binding;
    const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape);
    return be.executeSingleOutput(
      'Mean',
      [
        { name: 'keep_dims', type: B.TF_ATTR_BOOL, value: !!args.attrs.keepDims },
        { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
        { name: 'Tidx', type: B.TF_ATTR_TYPE, value: B.TF_INT32 },
      ],
      [x, axesTensor(axes)],
    );
  });
}
