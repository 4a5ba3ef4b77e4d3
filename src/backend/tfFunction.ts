/**
 * Whole steps as one TensorFlow function on the native `tensorflow` backend.
 *
 * On tfjs-node every kernel is one eager TensorFlow op call (~30-150 us each through the addon), so a streaming
 * Mimi step of ~500 small kernels spends most of its time in call overhead. `TracedSteps.run(key, inputs, fn)`
 * runs `fn` eagerly once while recording the TensorFlow ops it executes, turns the record into a FunctionDef
 * (inputs: `inputs`, then the tensors that existed before the call, e.g. weights; tensors made from host values
 * during the call, e.g. shape vectors and scalars, become constants), registers it with the eager context and,
 * on later calls with the same key and input shapes, runs the whole step as that one function: one op call.
 *
 * The contract, as for tf.function: for one key and input shapes, `fn` must run the same ops with the same host
 * values (no data-dependent branches, no per-call host tensors: pass those as inputs). A call that reads tensor
 * data during the trace is refused (the step stays eager). Captured tensors are checked on every call: if one
 * was disposed or a variable was reassigned, the function is traced again. A tensor derived from weights and
 * cached by the model (e.g. a fused copy) must be refreshed by the model before `run` (see MimiModel.step).
 *
 * Needs the addon built by `maai-encoder setup-backend tensorflow` (it adds `maaiAddFunctionDef` and
 * `maaiGetAllOpList` to tfjs-node's binding); elsewhere (other backends, a stock tfjs-node, MAAI_TF_FUNCTIONS=0)
 * `run` simply calls `fn`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PbWriter, fieldString, readFields } from './protobuf';

interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

interface OutputMeta {
  id: number;
  shape: number[];
  dtype: number;
}

interface Binding {
  executeOp(name: string, attrs: OpAttr[], inputIds: number[], numOutputs: number): OutputMeta[];
  createTensor(shape: number[], dtype: number, values: unknown): number;
  deleteTensor(id: number): void;
  maaiAddFunctionDef?: (def: Uint8Array) => void;
  maaiGetAllOpList?: () => Uint8Array;
  maaiRemoveFunction?: (name: string) => void;
  [k: string]: unknown;
}

interface TensorData {
  id: number;
  values: unknown;
  shape: number[];
  dtype: number;
}

interface NodeBackend {
  binding: Binding;
  tensorMap: { get(dataId: object): TensorData; has(dataId: object): boolean };
  getInputTensorIds(t: tf.TensorInfo[]): number[];
  createOutputTensor(m: OutputMeta): tf.Tensor;
  move(dataId: object, values: unknown, shape: number[], dtype: tf.DataType, refCount: number): void;
}

/** Why the native function path is off, or null when it is available on the active backend. */
export function tracedStepsUnavailable(): string | null {
  if (typeof process !== 'undefined' && process.env?.MAAI_TF_FUNCTIONS === '0') return 'MAAI_TF_FUNCTIONS=0';
  const name = tf.getBackend();
  if (name !== 'tensorflow') return `backend ${name}`;
  const be = tf.backend() as unknown as NodeBackend;
  if (typeof be.binding?.maaiAddFunctionDef !== 'function' || typeof be.binding?.maaiGetAllOpList !== 'function' || typeof be.binding?.maaiRemoveFunction !== 'function') {
    return 'the tfjs-node addon lacks the maai* functions (build it with: maai-encoder setup-backend tensorflow)';
  }
  return null;
}

// ---- Op definitions (output argument names), read once from the library ----

interface ArgSpec {
  name: string;
  numberAttr: string;
  typeListAttr: string;
}

const opDefs = new Map<string, { bytes: Uint8Array; outputs?: ArgSpec[] }>();

function outputArgs(binding: Binding, op: string): ArgSpec[] {
  if (opDefs.size === 0) {
    for (const f of readFields(binding.maaiGetAllOpList!())) {
      if (f.field !== 1 || !f.bytes) continue;
      const name = readFields(f.bytes).find((g) => g.field === 1);
      if (name) opDefs.set(fieldString(name), { bytes: f.bytes });
    }
  }
  const d = opDefs.get(op);
  if (!d) throw new Error(`TensorFlow has no op "${op}"`);
  if (!d.outputs) {
    d.outputs = readFields(d.bytes)
      .filter((f) => f.field === 3 && f.bytes)
      .map((f) => {
        const a = readFields(f.bytes!);
        const s = (n: number) => {
          const g = a.find((x) => x.field === n);
          return g ? fieldString(g) : '';
        };
        return { name: s(1), numberAttr: s(5), typeListAttr: s(6) };
      });
  }
  return d.outputs;
}

// ---- FunctionDef encoding ----

function shapeProto(dims: number[]): PbWriter {
  const w = new PbWriter();
  for (const d of dims) w.message(2, new PbWriter().int(1, d));
  return w;
}

function attrValue(binding: Binding, a: OpAttr): PbWriter {
  const b = binding as unknown as Record<string, number>;
  const w = new PbWriter();
  const list = Array.isArray(a.value);
  const vals = (list ? a.value : [a.value]) as unknown[];
  switch (a.type) {
    case b.TF_ATTR_STRING:
      if (list) {
        const l = new PbWriter();
        for (const v of vals) l.string(2, String(v));
        return w.message(1, l);
      }
      return w.string(2, String(a.value));
    case b.TF_ATTR_INT:
      return list ? w.message(1, new PbWriter().packedInts(3, vals as number[])) : w.int(3, a.value as number);
    case b.TF_ATTR_FLOAT:
      return list ? w.message(1, new PbWriter().packedFloats(4, vals as number[])) : w.float(4, a.value as number);
    case b.TF_ATTR_BOOL:
      return list ? w.message(1, new PbWriter().packedInts(5, vals as boolean[])) : w.int(5, a.value as boolean);
    case b.TF_ATTR_TYPE:
      return list ? w.message(1, new PbWriter().packedInts(6, vals as number[])) : w.int(6, a.value as number);
    case b.TF_ATTR_SHAPE:
      return w.message(7, shapeProto(a.value as number[]));
    default:
      throw new Error(`attribute "${a.name}" of type ${a.type} is not supported in a traced function`);
  }
}

function attrInt(attrs: OpAttr[], name: string): number | undefined {
  const a = attrs.find((x) => x.name === name);
  if (!a) return undefined;
  return Array.isArray(a.value) ? a.value.length : (a.value as number);
}

/** TensorFlow DataType of a typed array given to createTensor. */
function constTensor(dtype: number, shape: number[], values: unknown): PbWriter {
  let bytes: Uint8Array;
  if (values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint8Array) {
    bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  } else if (Array.isArray(values) && dtype === 3) {
    bytes = new Uint8Array(Int32Array.from(values as number[]).buffer);
  } else if (Array.isArray(values) && dtype === 1) {
    bytes = new Uint8Array(Float32Array.from(values as number[]).buffer);
  } else {
    throw new Error(`a host tensor of dtype ${dtype} cannot become a constant`);
  }
  return new PbWriter().int(1, dtype).message(2, shapeProto(shape)).bytes(4, bytes);
}

interface Recorded {
  op: string;
  attrs: OpAttr[];
  inputs: number[];
  outputs: number[];
}

interface HostConst {
  shape: number[];
  dtype: number;
  values: unknown;
}

/** The largest host tensor (elements) a trace turns into a constant; a larger one must be an input. */
const MAX_CONST_ELEMENTS = 1 << 16;

let fnCounter = 0;

interface Compiled {
  name: string;
  /** Handle ids of the captured tensors (weights), passed after the inputs. */
  captures: number[];
  numOutputs: number;
}

/** A captured tensor as the step saw it: the object (a variable keeps its identity when reassigned) and its data. */
interface Capture {
  obj: tf.TensorInfo;
  dataId: object;
}

/**
 * Builds and registers the function; returns its name and captures. `inputIds` are the step's inputs, `outIds` its
 * outputs, in order.
 */
function compile(binding: Binding, rec: Recorded[], consts: Map<number, HostConst>, inputIds: number[], outIds: number[], dtypeOf: Map<number, number>): Compiled {
  const name = `maai_step_${++fnCounter}`;
  const ref = new Map<number, string>();
  inputIds.forEach((id, i) => {
    if (!ref.has(id)) ref.set(id, `in${i}`);
  });
  const captures: number[] = [];
  const nodes: PbWriter[] = [];
  const node = (nodeName: string, op: string, inputs: string[], attrs: Array<[string, PbWriter]>) => {
    const n = new PbWriter().string(1, nodeName).string(2, op);
    for (const i of inputs) n.string(3, i);
    for (const [k, v] of attrs) n.message(5, new PbWriter().string(1, k).message(2, v));
    nodes.push(n);
  };
  const resolve = (id: number): string => {
    const r = ref.get(id);
    if (r) return r;
    const c = consts.get(id);
    if (c) {
      const cname = `c${ref.size}`;
      node(cname, 'Const', [], [
        ['value', new PbWriter().message(8, constTensor(c.dtype, c.shape, c.values))],
        ['dtype', new PbWriter().int(6, c.dtype)],
      ]);
      ref.set(id, `${cname}:output:0`);
      return `${cname}:output:0`;
    }
    // A tensor that existed before the trace (a weight): an extra input.
    const a = `cap${captures.length}`;
    captures.push(id);
    ref.set(id, a);
    return a;
  };
  rec.forEach((r, k) => {
    const nodeName = `n${k}`;
    const inputs = r.inputs.map(resolve);
    node(
      nodeName,
      r.op,
      inputs,
      r.attrs.map((a) => [a.name, attrValue(binding, a)]),
    );
    // Output refs: node:arg:index over the op's output arguments (list arguments sized by their attributes).
    let flat = 0;
    for (const arg of outputArgs(binding, r.op)) {
      const n = arg.numberAttr ? attrInt(r.attrs, arg.numberAttr) : arg.typeListAttr ? attrInt(r.attrs, arg.typeListAttr) : 1;
      if (n === undefined) throw new Error(`op ${r.op}: attribute ${arg.numberAttr || arg.typeListAttr} not given`);
      for (let j = 0; j < n; j++, flat++) if (flat < r.outputs.length) ref.set(r.outputs[flat], `${nodeName}:${arg.name}:${j}`);
    }
    if (flat !== r.outputs.length) throw new Error(`op ${r.op}: ${r.outputs.length} outputs recorded, its definition gives ${flat}`);
  });
  const outRefs = outIds.map((id, i) => {
    const r = resolve(id);
    // An output that is an input or a capture passes through an Identity node.
    if (!r.includes(':')) {
      node(`out${i}`, 'Identity', [r], [['T', new PbWriter().int(6, dtypeOf.get(id) ?? 1)]]);
      return `out${i}:output:0`;
    }
    return r;
  });
  const sig = new PbWriter().string(1, name);
  const argDef = (n: string, id: number) => {
    const dt = dtypeOf.get(id);
    if (dt === undefined) throw new Error(`no dtype known for handle ${id}`);
    return new PbWriter().string(1, n).int(3, dt);
  };
  inputIds.forEach((id, i) => sig.message(2, argDef(`in${i}`, id)));
  captures.forEach((id, i) => sig.message(2, argDef(`cap${i}`, id)));
  outIds.forEach((id, i) => sig.message(3, argDef(`out${i}`, id)));
  const def = new PbWriter().message(1, sig);
  for (const n of nodes) def.message(3, n);
  outRefs.forEach((r, i) => def.message(4, new PbWriter().string(1, `out${i}`).string(2, r)));
  if (typeof process !== 'undefined' && process.env?.MAAI_TF_XLA === '1') def.message(5, new PbWriter().string(1, '_XlaMustCompile').message(2, new PbWriter().int(5, true)));
  binding.maaiAddFunctionDef!(def.finish());
  return { name, captures, numOutputs: outIds.length };
}

/**
 * Compiled steps of one model, keyed by the caller's key and the input shapes. `run` returns new tensors (the
 * caller owns them), the same as `fn` would.
 */
export class TracedSteps {
  private readonly fns = new Map<string, { fn: Compiled; caps: Capture[] } | 'eager'>();
  /** Why the last trace fell back to eager (for diagnostics and tests). */
  lastFallback: string | null = null;
  /** Calls run as one function (for tests and profiles). */
  compiledCalls = 0;

  /** Forgets every compiled function and removes it from TensorFlow's eager context (a model's dispose calls this). */
  clear(): void {
    for (const c of this.fns.values()) if (c !== 'eager') this.remove(c.fn.name);
    this.fns.clear();
  }

  private remove(name: string): void {
    if (tf.getBackend() !== 'tensorflow') return;
    const be = tf.backend() as unknown as NodeBackend;
    try {
      be.binding.maaiRemoveFunction?.(name);
    } catch {
      // already gone (another engine or a reloaded backend): nothing to free
    }
  }

  run(key: string, inputs: tf.Tensor[], step: (inputs: tf.Tensor[]) => tf.Tensor[]): tf.Tensor[] {
    // Intermediates of an eager (or tracing) call are freed; only the outputs are returned.
    const fn = (ins: tf.Tensor[]) => tf.tidy(() => step(ins));
    if (tracedStepsUnavailable() !== null) return fn(inputs);
    const be = tf.backend() as unknown as NodeBackend;
    const full = `${key}|${inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(';')}`;
    const c = this.fns.get(full);
    if (c === 'eager') return fn(inputs);
    const ids = be.getInputTensorIds(inputs);
    if (c) {
      // Every captured tensor must still hold the data it held at the trace (a variable reassigned, a weight
      // disposed: traced again).
      const capIds: number[] = [];
      for (const k of c.caps) {
        if (k.obj.dataId !== k.dataId || !be.tensorMap.has(k.dataId)) break;
        capIds.push(be.tensorMap.get(k.dataId).id);
      }
      if (capIds.length === c.caps.length) {
        const metas = be.binding.executeOp(c.fn.name, [], [...ids, ...capIds], c.fn.numOutputs);
        this.compiledCalls++;
        return metas.map((m) => be.createOutputTensor(m));
      }
      this.remove(c.fn.name);
      this.fns.delete(full);
    }
    return this.trace(be, full, inputs, ids, fn);
  }

  private trace(be: NodeBackend, full: string, inputs: tf.Tensor[], inputIds: number[], fn: (inputs: tf.Tensor[]) => tf.Tensor[]): tf.Tensor[] {
    const binding = be.binding;
    const rec: Recorded[] = [];
    const written = new Set<unknown>();
    const consts = new Map<number, HostConst>();
    const dtypeOf = new Map<number, number>();
    /** The tensor object an op was given for each handle (to check captures on later calls). */
    const holder = new Map<number, tf.TensorInfo>();
    let refused: string | null = null;
    const orig = { move: be.move, ids: be.getInputTensorIds };
    // The dtype of every handle an op reads (captured weights included), for the function's signature.
    be.getInputTensorIds = (ts) => {
      const ids = orig.ids.call(be, ts);
      ts.forEach((t, i) => {
        dtypeOf.set(ids[i], be.tensorMap.get(t.dataId).dtype);
        if (!holder.has(ids[i])) holder.set(ids[i], t);
      });
      return ids;
    };
    be.move = (dataId, values, shape, dtype, refCount) => {
      if (values != null) written.add(values);
      orig.move.call(be, dataId, values, shape, dtype, refCount);
    };
    // The addon's exports are read-only: record through an object that inherits them.
    be.binding = Object.create(binding, {
      executeOp: {
        value: (name: string, attrs: OpAttr[], ids: number[], n: number) => {
          const out = binding.executeOp(name, attrs, ids, n);
          rec.push({ op: name, attrs, inputs: ids, outputs: out.map((m) => m.id) });
          for (const m of out) dtypeOf.set(m.id, m.dtype);
          return out;
        },
      },
      createTensor: {
        value: (shape: number[], dtype: number, values: unknown) => {
          const id = binding.createTensor(shape, dtype, values);
          dtypeOf.set(id, dtype);
          if (written.has(values)) {
            const size = shape.reduce((a, b) => a * b, 1);
            if (size > MAX_CONST_ELEMENTS) refused ??= `a host tensor of ${size} elements was made inside the step (pass it as an input)`;
            consts.set(id, { shape: [...shape], dtype, values });
          }
          return id;
        },
      },
      tensorDataSync: {
        value: (...args: unknown[]) => {
          refused ??= 'the step reads tensor data';
          return (binding.tensorDataSync as (...a: unknown[]) => unknown)(...args);
        },
      },
    }) as Binding;
    let outs: tf.Tensor[];
    let outIds: number[];
    try {
      outs = fn(inputs);
      outIds = be.getInputTensorIds(outs);
    } finally {
      be.binding = binding;
      be.move = orig.move;
      be.getInputTensorIds = orig.ids;
    }
    for (const t of inputs) dtypeOf.set(be.tensorMap.get(t.dataId).id, be.tensorMap.get(t.dataId).dtype);
    // Outputs that are inputs are fine; any captured handle must be a tensor that outlives the call (checked when used).
    if (!refused && rec.length === 0) refused = 'the step ran no TensorFlow op';
    if (refused) {
      this.lastFallback = refused;
      this.fns.set(full, 'eager');
      return outs;
    }
    try {
      const compiled = compile(binding, rec, consts, inputIds, outIds, dtypeOf);
      const caps = compiled.captures.map((id) => {
        const obj = holder.get(id);
        if (!obj) throw new Error(`captured handle ${id} was not passed to an op as a tensor`);
        return { obj, dataId: obj.dataId };
      });
      this.fns.set(full, { fn: compiled, caps });
      this.lastFallback = null;
    } catch (e) {
      this.lastFallback = (e as Error).message;
      this.fns.set(full, 'eager');
    }
    return outs;
  }
}
