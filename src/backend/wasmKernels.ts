/**
 * Replacements for two kernels of @tensorflow/tfjs-backend-wasm. Its Slice (and SplitV, built on it) first copies
 * the whole source tensor out of the wasm heap into a fresh JS array (readSync) and then copies the slice: slicing
 * a few rows of a large tensor costs a copy of all of it (a KV cache per layer per step, an LSTM's per-step input).
 * These read the source through a view of the heap instead. Results are the same bytes.
 */
import * as tf from '@tensorflow/tfjs-core';

type TypedArray = Float32Array | Int32Array | Uint8Array;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): TypedArray;
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

let installed = false;

/** Registers the copy-free Slice and SplitV for the wasm backend (once per process). */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  for (const name of ['Slice', 'SplitV']) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  }
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
