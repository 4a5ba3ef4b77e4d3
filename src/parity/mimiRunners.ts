/** Parity runners for the Mimi case kinds: mimi_core, mimi_core_onnx, mimi_offline, mimi_stream. */
import * as tf from '@tensorflow/tfjs-core';
import { MimiModel } from '../models/mimi/mimi';
import { MIMI_CONFIG, MIMI_TINY_OVERRIDES, MimiConfig, mimiConfig } from '../models/mimi/mimiConfig';
import { FormatError } from '../weights/types';
import { GoldenCase, caseTensor } from './goldenCase';
import { ParityOptions, metaNumber, realtimeOutput, registerParityRunner, signalFor } from './runCase';
import { EncoderMimi } from '../models/mimi/encoderMimi';
import { runRealtime } from '../pipeline/realtimeLoop';

/** The config a case names: "kyutai/mimi", or "tiny" (with `tiny_overrides` when the case carries them). */
export function caseMimiConfig(c: GoldenCase): MimiConfig {
  const name = c.meta.config;
  const overrides = c.meta.tiny_overrides;
  if (overrides && typeof overrides === 'object') return mimiConfig(overrides as Partial<MimiConfig>);
  if (name === undefined || name === 'kyutai/mimi') return mimiConfig({ ...MIMI_CONFIG });
  // ONNX cases name the config "tiny" without overrides: the tiny config of the golden README.
  if (name === 'tiny') return mimiConfig(MIMI_TINY_OVERRIDES);
  throw new FormatError(`case ${c.name}: unknown Mimi config "${String(name)}" and no tiny_overrides`);
}

function flat(t: tf.Tensor, transpose: boolean): { data: Float32Array; shape: number[] } {
  // t: [1, T, C] -> [T, C], or [C, T] when the case stores channels first.
  const y = tf.tidy(() => {
    const s = tf.squeeze(t, [0]);
    return transpose ? tf.transpose(s) : s;
  });
  const out = { data: y.dataSync() as Float32Array, shape: y.shape };
  y.dispose();
  return out;
}

async function runCore(c: GoldenCase, o: ParityOptions) {
  const model = MimiModel.load(o.weights, caseMimiConfig(c));
  try {
    const input = caseTensor(c, 'input_24k');
    const x = tf.tensor3d(input.data, [1, input.data.length, 1]);
    const out = model.forwardAll(x);
    x.dispose();
    const parts = {
      seanet_out: { ...flat(out.seanet, true), ref: 'seanet_out' },
      transformer_out: { ...flat(out.transformer, false), ref: 'transformer_out' },
      downsample_out: { ...flat(out.downsample, true), ref: 'downsample_out' },
    };
    tf.dispose([out.seanet, out.transformer, out.downsample]);
    return { parts };
  } finally {
    model.dispose();
  }
}

async function runCoreOnnx(c: GoldenCase, o: ParityOptions) {
  const model = MimiModel.load(o.weights, caseMimiConfig(c));
  try {
    const input = caseTensor(c, 'input_24k');
    const x = tf.tensor3d(input.data, [1, input.data.length, 1]);
    const y = model.forward(x);
    x.dispose();
    const r = flat(y, false);
    y.dispose();
    const ort = { ...r, ref: 'output_onnxruntime' };
    const pt = { ...r, ref: 'output_pytorch' };
    return { parts: { output_onnxruntime: ort, output_pytorch: pt } };
  } finally {
    model.dispose();
  }
}

let registered = false;
export function registerMimiParity(): void {
  if (registered) return;
  registered = true;
  registerParityRunner('mimi_core', runCore);
  registerParityRunner('mimi_core_onnx', runCoreOnnx);
  registerParityRunner('mimi_offline', (c, o) => runMimiEncoder(c, o, false));
  registerParityRunner('mimi_stream', (c, o) => runMimiEncoder(c, o, true));
}

async function runMimiEncoder(c: GoldenCase, o: ParityOptions, stream: boolean) {
  const frameHz = metaNumber(c, 'frame_hz');
  const enc = EncoderMimi.load(o.weights, { frameHz, config: caseMimiConfig(c), contextSamples: metaNumber(c, 'context_samples', 320) });
  try {
    const wave = signalFor(c, o);
    if (!stream) {
      const y = enc.forward(wave);
      const r = flat(y, false);
      y.dispose();
      return r;
    }
    return realtimeOutput(runRealtime(enc, wave, { chunk: metaNumber(c, 'chunk_samples', 160), finalize: false }));
  } finally {
    enc.dispose();
  }
}
