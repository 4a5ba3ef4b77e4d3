/**
 * Parity runners for the golden-vap case kinds: vap_offline (both channels encoded whole, one VapGPT forward) and
 * vap_stream (MaAI's realtime loop: 160-sample chunks per channel, encoder + VAP step with cache and trim). Every
 * stored per-frame tensor is compared; step counts, step_end_sample and cache_len_after_step must match exactly;
 * stream cases also compare the final cache and, where stored, the cache after `state_snap_after_steps` steps and
 * a run resumed from that stored snapshot (model-level, from the stored x1/x2 rows).
 */
import * as tf from '@tensorflow/tfjs-core';
import { MIMI_TINY_OVERRIDES } from '../models/mimi/mimiConfig';
import { VapEncoder } from '../models/vap/vapEncoder';
import { VapGPT, VAP_OUTPUT_NAMES, disposeOutput } from '../models/vap/vapModel';
import { inspectVapCheckpoint, vapConfigFor } from '../models/vap/vapConfig';
import { VapCache, disposeCache } from '../models/vap/vapCache';
import { Maai, VapResult } from '../pipeline/maai';
import { runVapOffline } from '../pipeline/vapOffline';
import { FormatError, RawTensor } from '../weights/types';
import { concatRows } from '../util/concat';
import { GoldenCase, caseInts, caseTensor } from './goldenCase';
import { ParityOptions, PartsOutput, RunOutput, metaNumber, registerParityRunner, signalFor } from './runCase';

type Part = RunOutput & { ref: string; refFrom?: number };

/** The model and encoder a case describes (frame rate, context, encoder kind), from the given weights. */
export function loadVapForCase(c: GoldenCase, o: ParityOptions): { model: VapGPT; encoder: VapEncoder } {
  const info = inspectVapCheckpoint(o.weights);
  const want = c.meta.encoder === 'cpc' ? 'cpc' : 'mimi';
  if (info.encoder !== want) throw new FormatError(`case ${c.name} is a ${want} case but the weights are a ${info.encoder} VAP checkpoint`);
  const frameHz = metaNumber(c, 'frame_hz');
  const config = vapConfigFor(info, frameHz, metaNumber(c, 'context_len_sec'));
  if (config.contextLimit !== metaNumber(c, 'context_limit')) {
    throw new FormatError(`case ${c.name}: context_limit ${c.meta.context_limit} but round(context_len_sec * frame_hz) = ${config.contextLimit}`);
  }
  const mimiConfig = c.meta.encoder === 'mimi_tiny' ? MIMI_TINY_OVERRIDES : {};
  const encoder = VapEncoder.load(info.encoder, o.weights, o.encoderWeights ?? null, { frameHz, mimiConfig });
  return { model: VapGPT.load(o.weights, config), encoder };
}

/** The case's two-channel signal (wave_16k [2, N]). */
export function vapSignal(c: GoldenCase, o: ParityOptions): [Float32Array, Float32Array] {
  const s = signalFor(c, o);
  const n = s.length / 2;
  return [s.subarray(0, n), s.subarray(n)];
}

function part(ref: string, t: tf.Tensor): Part {
  return { ref, data: (t.dataSync() as Float32Array).slice(), shape: t.shape.slice(1) };
}

/** Stacks per-step rows (each [n, ...]) into one [sum n, ...] part per name. */
function stackRows(results: VapResult[], names: string[]): Record<string, Part> {
  const parts: Record<string, Part> = {};
  for (const name of names) {
    const rows = results.map((r) => r.detail![name]);
    const n = rows.reduce((a, r) => a + r.shape[0], 0);
    parts[name] = { ref: name, data: concatRows(rows.map((r) => r.data)), shape: [n, ...(rows[0]?.shape.slice(1) ?? [])] };
  }
  return parts;
}

async function runOffline(c: GoldenCase, o: ParityOptions): Promise<PartsOutput> {
  const { model, encoder } = loadVapForCase(c, o);
  try {
    const [w1, w2] = vapSignal(c, o);
    const r = runVapOffline(model, encoder, w1, w2);
    const parts: Record<string, Part> = { x1: part('x1', r.x1), x2: part('x2', r.x2) };
    if (c.tensors.has('enc1')) {
      const [e1, e2] = tf.split(r.enc, 2, 0);
      parts.enc1 = part('enc1', e1);
      parts.enc2 = part('enc2', e2);
      tf.dispose([e1, e2]);
    }
    for (const [k, name] of VAP_OUTPUT_NAMES) parts[name] = part(name, r.out[k]);
    disposeOutput(r.out);
    tf.dispose([r.enc, r.x1, r.x2]);
    return { parts };
  } finally {
    model.dispose();
    encoder.dispose();
  }
}

/** Cache parts against `${prefix}.<key>.<layer>.<k|v>` ([heads, P, headDim]; ours has a batch axis of 1). */
function cacheParts(flat: Array<[string, RawTensor]>, prefix: string): Record<string, Part> {
  const parts: Record<string, Part> = {};
  for (const [key, t] of flat) parts[`${prefix}.${key}`] = { ref: `${prefix}.${key}`, data: t.data as Float32Array, shape: t.shape.slice(1) };
  return parts;
}

/** From the stored snapshot and x rows from index `from` on: the model's steps must reproduce the remaining rows. */
function resumeFromSnapshot(c: GoldenCase, model: VapGPT, from: number): Record<string, Part> {
  const flat = new Map<string, RawTensor>();
  for (const [name, t] of c.tensors) {
    if (!name.startsWith('state_snap.')) continue;
    const f = caseTensor(c, name);
    flat.set(name.slice('state_snap.'.length), { dtype: 'F32', shape: [1, ...f.shape], data: f.data });
  }
  let cache: VapCache | null = model.importCache(flat);
  const x1 = caseTensor(c, 'x1');
  const x2 = caseTensor(c, 'x2');
  const D = x1.shape[1];
  const T = x1.shape[0];
  const rows: Record<string, Float32Array[]> = {};
  try {
    for (let t = from; t < T; t++) {
      const a = tf.tensor3d(x1.data.subarray(t * D, (t + 1) * D), [1, 1, D]);
      const b = tf.tensor3d(x2.data.subarray(t * D, (t + 1) * D), [1, 1, D]);
      const r: ReturnType<VapGPT['step']> = model.step(a, b, cache);
      tf.dispose([a, b]);
      disposeCache(cache);
      cache = r.cache;
      for (const name of ['logits', 'p_now', 'p_future', 'vad']) {
        const k = VAP_OUTPUT_NAMES.find(([, n]) => n === name)![0];
        (rows[name] ??= []).push((r.out[k].dataSync() as Float32Array).slice());
      }
      disposeOutput(r.out);
    }
  } finally {
    disposeCache(cache);
  }
  const parts: Record<string, Part> = {};
  for (const [name, rs] of Object.entries(rows)) {
    const shape = caseTensor(c, name).shape;
    parts[`resume.${name}`] = { ref: name, refFrom: from, data: concatRows(rs), shape: [T - from, ...shape.slice(1)] };
  }
  return parts;
}

async function runStream(c: GoldenCase, o: ParityOptions): Promise<PartsOutput> {
  const { model, encoder } = loadVapForCase(c, o);
  const n = metaNumber(c, 'frames_per_call', 1);
  const chunk = metaNumber(c, 'chunk_samples', 160);
  const snapAfter = typeof c.meta.state_snap_after_steps === 'number' ? (c.meta.state_snap_after_steps as number) : null;
  const maai = new Maai(model, encoder, { inferenceChunkFrames: n, contextSamples: metaNumber(c, 'context_samples', 320), detail: true });
  try {
    const [w1, w2] = vapSignal(c, o);
    const results: VapResult[] = [];
    let snap: Array<[string, RawTensor]> | null = null;
    for (let pos = 0; pos < w1.length; pos += chunk) {
      const end = Math.min(pos + chunk, w1.length);
      results.push(...maai.process(w1.subarray(pos, end), w2.subarray(pos, end)));
      if (snapAfter !== null && !snap && results.length === snapAfter) snap = maai.exportState().vapCache;
    }
    const names = ['x1', 'x2', ...(c.tensors.has('enc1') ? ['enc1', 'enc2'] : []), ...VAP_OUTPUT_NAMES.map(([, name]) => name)];
    const parts = stackRows(results, names);
    const ends = caseInts(c, 'step_end_sample');
    const lens = caseInts(c, 'cache_len_after_step');
    const emitted_ok =
      results.length === ends.length &&
      results.every((r, i) => r.endSample === ends[i] && r.cacheLength === lens[i] && r.detail!.x1.shape[0] === n);
    Object.assign(parts, cacheParts(maai.exportState().vapCache ?? [], 'state_final'));
    if (snapAfter !== null) {
      if (!snap) throw new FormatError(`case ${c.name}: the stream never reached ${snapAfter} steps`);
      Object.assign(parts, cacheParts(snap, 'state_snap'), resumeFromSnapshot(c, model, snapAfter));
    }
    return { parts, emitted_ok };
  } finally {
    maai.dispose();
    model.dispose();
    encoder.dispose();
  }
}

let registered = false;
export function registerVapParity(): void {
  if (registered) return;
  registered = true;
  registerParityRunner('vap_offline', runOffline);
  registerParityRunner('vap_stream', runStream);
}
