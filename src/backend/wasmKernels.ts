/**
 * Replacements for kernels of @tensorflow/tfjs-backend-wasm.
 *  - Slice (and SplitV, built on it) first copies the whole source tensor out of the wasm heap into a fresh JS
 *    array (readSync) and then copies the slice: slicing a few rows of a large tensor costs a copy of all of it
 *    (a KV cache per layer per step, an LSTM's per-step input). These read the source through a view of the heap
 *    instead. Results are the same bytes.
 *  - BatchMatMul uses XNNPACK only for one un-transposed [1, M, K] x [1, K, N] product; anything batched or
 *    transposed (attention's q k^T and probs v over heads) falls to a naive triple loop, 8 to 60 times slower.
 *    Large such products are run here as one XNNPACK product per batch entry, on transposed copies where needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmRecurrentCells } from './recurrentCells';

type TypedArray = Float32Array | Int32Array | Uint8Array;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): TypedArray;
  disposeData(dataId: object): boolean;
}

function strides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Copies x[begin : begin + size] (any rank) into a new output; the innermost axis is copied in runs. */
export function sliceFromHeap(backend: WasmBackendLike, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  // Allocate first: a heap growth would detach views taken before it.
  const out = backend.makeOutput(size, x.dtype);
  const n = size.reduce((a, b) => a * b, 1);
  if (n === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const xs = strides(x.shape);
  // Merge trailing axes that are taken whole into one contiguous run.
  let run = 1;
  let inner = rank;
  while (inner > 0 && begin[inner - 1] === 0 && size[inner - 1] === x.shape[inner - 1]) {
    run *= x.shape[inner - 1];
    inner--;
  }
  if (inner > 0) {
    run *= size[inner - 1];
    inner--;
  }
  // Odometer over the outer axes 0 .. inner-1; each step copies `run` elements.
  const idx = new Array(inner).fill(0);
  let o = 0;
  for (;;) {
    let off = 0;
    for (let a = 0; a < inner; a++) off += (begin[a] + idx[a]) * xs[a];
    off += begin[inner] * xs[inner];
    if (inner === rank) off = 0;
    dst.set(src.subarray(off, off + run), o);
    o += run;
    let a = inner - 1;
    while (a >= 0 && ++idx[a] === size[a]) idx[a--] = 0;
    if (a < 0) break;
  }
  return out;
}

type KernelFn = (args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }) => tf.TensorInfo | tf.TensorInfo[];

/**
 * Products below this many multiply-adds stay on upstream's kernel: there the loop is cheap and one XNNPACK
 * operator per batch entry (created, weights packed, freed) costs more than it saves.
 */
export const BATCHED_MATMUL_XNN_MIN_MACS = 1 << 20;

/**
 * [batch, M, K] x [batch, K, N] (either side may have batch 1 and be broadcast; either may be transposed) as one
 * XNNPACK product per batch entry. `original` is upstream's BatchMatMul kernel; `transpose` upstream's Transpose.
 */
function batchedMatMulByEntry(
  backend: WasmBackendLike,
  original: KernelFn,
  transpose: KernelFn,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  const temps: tf.TensorInfo[] = [];
  const as3 = (t: tf.TensorInfo, transposed: boolean): { t: tf.TensorInfo; batch: number; rows: number; cols: number } => {
    const r = t.shape.length;
    const batch = t.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    const [p, q] = [t.shape[r - 2], t.shape[r - 1]];
    // A reshape is a new view of the same data id: re-labelled here, copied only when transposed.
    let v: tf.TensorInfo = { dataId: t.dataId, shape: [batch, p, q], dtype: t.dtype };
    if (transposed) {
      v = transpose({ inputs: { x: v }, attrs: { perm: [0, 2, 1] }, backend }) as tf.TensorInfo;
      temps.push(v);
    }
    return { t: v, batch, rows: v.shape[1], cols: v.shape[2] };
  };
  let out: tf.TensorInfo | null = null;
  try {
    const A = as3(a, transposeA);
    const B = as3(b, transposeB);
    const batch = Math.max(A.batch, B.batch);
    const M = A.rows;
    const N = B.cols;
    out = backend.makeOutput([...(A.batch >= B.batch ? a : b).shape.slice(0, -2), M, N], 'float32');
    for (let i = 0; i < batch; i++) {
      const entry: tf.TensorInfo[] = [];
      try {
        const ai = A.batch === 1 ? A.t : sliceFromHeap(backend, A.t, [i, 0, 0], [1, M, A.cols]);
        if (ai !== A.t) entry.push(ai);
        const bi = B.batch === 1 ? B.t : sliceFromHeap(backend, B.t, [i, 0, 0], [1, B.rows, N]);
        if (bi !== B.t) entry.push(bi);
        const yi = original({ inputs: { a: ai, b: bi }, attrs: { transposeA: false, transposeB: false }, backend }) as tf.TensorInfo;
        entry.push(yi);
        // Views are taken after every allocation above (a heap growth detaches older views).
        (backend.typedArrayFromHeap(out) as Float32Array).set(backend.typedArrayFromHeap(yi) as Float32Array, i * M * N);
      } finally {
        for (const t of entry) backend.disposeData(t.dataId);
      }
    }
    return out;
  } catch (e) {
    if (out) backend.disposeData(out.dataId); // no half-written output on failure
    throw e;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

let installed = false;

/** Registers the replacement kernels for the wasm backend (once per process). */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  registerWasmRecurrentCells();
  const originalMatMul = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc as unknown as KernelFn;
  const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc as unknown as KernelFn;
  for (const name of ['Slice', 'SplitV', 'BatchMatMul']) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  }
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const ra = a.shape.length;
      const rb = b.shape.length;
      const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const fast = !transposeA && !transposeB && batchA === 1 && batchB === 1;
      const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
      const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
      const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
      const macs = Math.max(batchA, batchB) * M * K * N;
      // Same-rank operands with the same outer shape, or one side's all ones (what the models use); anything else
      // stays upstream's.
      const sameOuter = a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
      const simpleBatch = ra === rb && (sameOuter || batchA === 1 || batchB === 1);
      if (fast || macs < BATCHED_MATMUL_XNN_MIN_MACS || !simpleBatch || a.dtype !== 'float32' || b.dtype !== 'float32') {
        return originalMatMul(args as never);
      }
      return batchedMatMulByEntry(args.backend as WasmBackendLike, originalMatMul, transpose, a, b, transposeA, transposeB);
    },
  });
  tf.registerKernel({
    kernelName: 'Slice',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = (inputs as { x: tf.TensorInfo }).x;
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, (attrs as { begin: number[] }).begin, (attrs as { size: number[] }).size);
      if (x.dtype === 'string') throw new Error('Slice: string tensors are not supported by this kernel');
      return sliceFromHeap(backend as unknown as WasmBackendLike, x, b, s);
    },
  });
  tf.registerKernel({
    kernelName: 'SplitV',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = (inputs as { x: tf.TensorInfo }).x;
      const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
      const ax = tf.util.parseAxisParam(axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
      const begin = new Array(x.shape.length).fill(0);
      return sizes.map((n) => {
        const size = [...x.shape];
        size[ax] = n;
        const piece = sliceFromHeap(backend as unknown as WasmBackendLike, x, [...begin], size);
        begin[ax] += n;
        return piece;
      });
    },
  });
}
