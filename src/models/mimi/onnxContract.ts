/**
 * MaAI's streaming ONNX contract for the Mimi core (EncoderMimiOnnx and continuous_mimi_*.onnx/.json): the names,
 * dtypes, shapes and order of the flat state, and the meta JSON that describes a graph.
 *
 * Inputs: wave_24k F32 [1, 1, 1920 N]; cache_position I64 [cache_position_len] = (arange + start) % max_past_len;
 * position_ids I64 [cache_position_len] = arange + position (absolute, RoPE); pad_cache_i F32 [B, C_in, P];
 * past_j F32 [B, H, max_past_len, D] (k0, v0, k1, v1, ...). Outputs: embeddings [1, N, 512], cache_position_out,
 * pad_cache_out_i, past_out_j. cache_position_len = 2 N (two 25 Hz transformer tokens per 12.5 Hz frame).
 *
 * The KV buffers in this form are a ring: position p sits in slot p % max_past_len (cache_position names the
 * slots the next call writes). MimiModel keeps transformers' StaticSlidingWindowLayer order instead (the oldest
 * frame first once full); the two differ by a rotation of pos % max_past_len slots, applied on export and import.
 */
import { RawTensor } from '../../weights/types';

/** A tensor of the flat state as this library writes it, or as an ONNX Runtime session returns it. */
export type FlatTensor = RawTensor | { type: string; dims: readonly number[]; data: RawTensor['data'] };

/** The flat state: [name, tensor] pairs in contract order, a Map, or an object (e.g. ORT session.run's result). */
export type FlatState = Array<[string, FlatTensor]> | Map<string, FlatTensor> | Record<string, FlatTensor>;

export interface MimiOnnxIoSpec {
  frames_per_call: number;
  wave_16k_call_window: number;
  wave_24k_mimi_input: number;
  padding_cache_shapes: number[][];
  past_key_value_shapes: number[][];
  num_padding_tensors: number;
  num_past_tensors: number;
  output_dim: number;
}

/** The meta JSON MaAI's EncoderMimiOnnx reads next to a graph (continuous_mimi_fp32.json). */
export interface MimiOnnxMeta {
  required_params: { frame_rate: number; context_samples: number; frames_per_call: number; wave_16k_call_window: number; wave_24k_mimi_input: number };
  input_names: string[];
  output_names: string[];
  cache_position_len: number;
  max_past_len: number;
  onnx_init_past_from_template: boolean;
  num_pad_tensors: number;
  wave_24k_mimi_input: number;
  frame_rate: number;
  contract: { spec: MimiOnnxIoSpec; past_template_shapes: number[][] };
}

export const onnxPadCacheName = (i: number, out = false) => `pad_cache_${out ? 'out_' : ''}${i}`;
export const onnxPastName = (j: number, out = false) => `past_${out ? 'out_' : ''}${j}`;

/** Input and output names in contract order. */
export function mimiOnnxNames(numPad: number, numPast: number): { inputs: string[]; outputs: string[] } {
  const pads = (out: boolean) => Array.from({ length: numPad }, (_, i) => onnxPadCacheName(i, out));
  const pasts = (out: boolean) => Array.from({ length: numPast }, (_, j) => onnxPastName(j, out));
  return {
    inputs: ['wave_24k', 'cache_position', 'position_ids', ...pads(false), ...pasts(false)],
    outputs: ['embeddings', 'cache_position_out', ...pads(true), ...pasts(true)],
  };
}

/** The meta JSON for a spec (frame_rate is Mimi's 12.5 Hz: MaAI's ONNX path requires frame_hz to equal it). */
export function mimiOnnxMeta(spec: MimiOnnxIoSpec, o: { frameRate: number; contextSamples: number; cachePositionLen: number; maxPastLen: number }): MimiOnnxMeta {
  const names = mimiOnnxNames(spec.num_padding_tensors, spec.num_past_tensors);
  return {
    required_params: {
      frame_rate: o.frameRate,
      context_samples: o.contextSamples,
      frames_per_call: spec.frames_per_call,
      wave_16k_call_window: spec.wave_16k_call_window,
      wave_24k_mimi_input: spec.wave_24k_mimi_input,
    },
    input_names: names.inputs,
    output_names: names.outputs,
    cache_position_len: o.cachePositionLen,
    max_past_len: o.maxPastLen,
    onnx_init_past_from_template: true,
    num_pad_tensors: spec.num_padding_tensors,
    wave_24k_mimi_input: spec.wave_24k_mimi_input,
    frame_rate: o.frameRate,
    contract: { spec, past_template_shapes: spec.past_key_value_shapes.map((s) => [...s]) },
  };
}

/** cache_position and position_ids of the next call after `position` tokens: I64 [len]. */
export function contractPositions(position: number, len: number, maxPastLen: number): { cachePosition: BigInt64Array; positionIds: BigInt64Array } {
  return {
    cachePosition: BigInt64Array.from({ length: len }, (_, i) => BigInt((position + i) % maxPastLen)),
    positionIds: BigInt64Array.from({ length: len }, (_, i) => BigInt(position + i)),
  };
}

const ORT_DTYPES: Record<string, RawTensor['dtype']> = { float32: 'F32', int64: 'I64', int32: 'I32', float64: 'F64' };

/**
 * The entries of a flat state by input name (pad_cache_i, past_j, cache_position, position_ids): output names
 * (pad_cache_out_i, past_out_j, cache_position_out) are accepted and renamed, `embeddings` ignored. Mixing the
 * two forms of one name is an error.
 */
export interface FlatEntries {
  /** Tensors by input name. */
  m: Map<string, RawTensor>;
  /** cache_position came as cache_position_out (an ORT output: it names the next call's start). */
  cachePositionIsOutput: boolean;
}

export function flatStateEntries(flat: FlatState, where: string): FlatEntries {
  let pairs: Array<[string, FlatTensor]>;
  if (flat instanceof Map) pairs = [...flat.entries()];
  else if (Array.isArray(flat)) pairs = flat;
  else if (flat && typeof flat === 'object' && !('encoder' in flat)) pairs = Object.entries(flat);
  else {
    const tag = (flat as { encoder?: unknown } | null)?.encoder;
    throw new TypeError(
      `${where}: expected the flat core state (an array of [name, tensor] pairs, a Map or an object of tensors)` +
        (tag !== undefined ? `, got a ${JSON.stringify(tag)} stream state` : `, got ${flat === null ? 'null' : typeof flat}`),
    );
  }
  const m = new Map<string, RawTensor>();
  let cachePositionIsOutput = false;
  for (const [name, t] of pairs) {
    if (name === 'embeddings' || name === 'wave_24k') continue;
    const key = name === 'cache_position_out' ? 'cache_position' : name.replace(/^(pad_cache|past)_out_/, '$1_');
    if (m.has(key)) throw new RangeError(`${where}: "${name}" given twice (as ${key} and its _out form)`);
    m.set(key, toRaw(t, name, where));
    if (name === 'cache_position_out') cachePositionIsOutput = true;
  }
  return { m, cachePositionIsOutput };
}

function toRaw(t: FlatTensor, name: string, where: string): RawTensor {
  if (t && typeof t === 'object' && 'dtype' in t && 'shape' in t) return t;
  if (t && typeof t === 'object' && 'type' in t && 'dims' in t) {
    const dtype = ORT_DTYPES[t.type];
    if (!dtype) throw new RangeError(`${where}: "${name}" has ONNX type ${t.type}; the contract uses float32 and int64`);
    return { dtype, shape: Array.from(t.dims, Number), data: t.data };
  }
  throw new TypeError(`${where}: "${name}" is not a tensor ({dtype, shape, data} or an ONNX Runtime tensor)`);
}

/** Integer values of an I64/I32 vector (shape [n] or [1, n]), checked to be safe integers. */
export function intVector(t: RawTensor, name: string, where: string): number[] {
  if ((t.dtype !== 'I64' && t.dtype !== 'I32') || !(t.shape.length === 1 || (t.shape.length === 2 && t.shape[0] === 1)) || t.data.length < 1) {
    throw new RangeError(`${where}: "${name}" is ${t.dtype} [${t.shape}], expected I64 [n] (n >= 1)`);
  }
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${where}: "${name}" holds ${v}, not a non-negative integer`);
    return n;
  });
}

/**
 * The absolute position a flat state continues from: position_ids[0] (or `given` when an ORT output carries
 * none), checked against cache_position: (position + i) % maxPastLen for the input form; for the output form
 * MaAI's rule, cache_position_out[-1] % maxPastLen is the next call's start.
 */
export function flatStatePosition({ m, cachePositionIsOutput }: FlatEntries, maxPastLen: number, given: number | undefined, where: string): number {
  let position = given;
  if (given !== undefined && (!Number.isSafeInteger(given) || given < 0)) throw new RangeError(`${where}: position ${given} is not a non-negative integer`);
  const ids = m.get('position_ids');
  if (ids) {
    const v = intVector(ids, 'position_ids', where);
    if (v.some((x, i) => x !== v[0] + i)) throw new RangeError(`${where}: position_ids [${v}] are not consecutive`);
    if (position !== undefined && position !== v[0]) throw new RangeError(`${where}: position_ids start at ${v[0]}, the given position is ${position}`);
    position = v[0];
  }
  if (position === undefined) {
    throw new RangeError(`${where}: no "position_ids": an ONNX Runtime output carries no absolute position; pass { position } (MaAI's position_ids counter)`);
  }
  const cp = m.get('cache_position');
  if (cp) {
    const v = intVector(cp, 'cache_position', where);
    if (cachePositionIsOutput) {
      const start = v[v.length - 1] % maxPastLen;
      if (start !== position % maxPastLen) {
        throw new RangeError(`${where}: cache_position_out ends at slot ${start}, but position ${position} is slot ${position % maxPastLen} of ${maxPastLen}`);
      }
    } else if (v.some((x, i) => x !== (position! + i) % maxPastLen)) {
      throw new RangeError(`${where}: cache_position [${v}] should be (position ${position} + i) % ${maxPastLen}`);
    }
  }
  return position;
}

/**
 * Rotates the slot axis of [rows, slots, D] data by `by` slots: out[(j + by) % slots] = in[j]. The ring order of
 * the contract from the sliding-window order: by = position % slots; back: slots - that.
 */
export function rotateSlots(data: Float32Array, rows: number, slots: number, D: number, by: number): Float32Array {
  const r = ((by % slots) + slots) % slots;
  if (r === 0) return data;
  const out = new Float32Array(data.length);
  const block = slots * D;
  for (let b = 0; b < rows; b++) {
    const o = b * block;
    // in[0 .. slots-r) -> out[r ..), in[slots-r ..) -> out[0 .. r)
    out.set(data.subarray(o, o + (slots - r) * D), o + r * D);
    out.set(data.subarray(o + (slots - r) * D, o + block), o);
  }
  return out;
}
