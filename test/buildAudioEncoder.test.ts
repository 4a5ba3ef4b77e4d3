import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { ConfigError, buildAudioEncoder, normalizeConf } from '../src/pipeline/buildAudioEncoder';
import { EncoderCPC } from '../src/models/cpc/encoderCpc';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { MIMI_TINY_OVERRIDES, mimiConfig } from '../src/models/mimi/mimiConfig';
import { EncoderSession, encodeStream } from '../src/pipeline/encoderSession';
import { goldenPath, goldenSignal } from './helpers/golden';

const CPC = goldenPath('weights', 'cpc_lstm_manifest.json');
const TINY = goldenPath('weights', 'mimi_tiny_weights.safetensors');

beforeAll(async () => {
  await setBackend('wasm');
});

describe('buildAudioEncoder errors', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['unknown encoder_type', { encoder_type: 'wav2vec', weights: CPC }, /unknown encoder_type "wav2vec"/],
    ['unknown precision', { encoder_type: 'mimi', mimi_onnx_precision: 'fp16', weights: TINY }, /Unsupported mimi_onnx_precision: fp16/],
    ['int8 with cuda', { encoder_type: 'mimi', mimi_onnx_precision: 'int8', runtime_device: 'cuda:0', weights: TINY }, /mimi_onnx_precision='int8' is not supported with CUDA/],
    ['missing cpc weights file', { encoder_type: 'cpc', cpc_model: '/nonexistent/cpc.pt' }, /cpc_model file not found: \/nonexistent\/cpc\.pt/],
    ['missing mimi weights file', { encoder_type: 'mimi', mimi_weights_path: '/nonexistent/mimi.safetensors' }, /mimi_weights_path file not found/],
    ['no weights at all', { encoder_type: 'cpc' }, /no weights: set weights or cpc_model/],
    ['onnx contract at 10 Hz', { encoder_type: 'mimi', mimi_use_onnx: 1, frame_hz: 10, weights: TINY }, /mimi_use_onnx requires frame_hz 12\.5/],
    ['bad frame_hz', { encoder_type: 'mimi', mimi_use_onnx: 0, frame_hz: -1, weights: TINY }, /frame_hz must be a positive number/],
    ['untrained CPC', { encoder_type: 'cpc', load_pretrained: 0, weights: CPC }, /load_pretrained = 0/],
    ['bad freeze_encoder', { encoder_type: 'cpc', freeze_encoder: 'maybe', weights: CPC }, /freeze_encoder must be 0\/1/],
    ['alias conflict', { encoder_type: 'cpc', encoderType: 'mimi', weights: CPC }, /"encoderType" and "encoder_type" are both set/],
    ['weights not a path', { encoder_type: 'cpc', weights: 42 }, /weights must be a file path/],
    ['unknown key', { encoder_type: 'cpc', weights: CPC, frame_rate: 10 }, /unknown key "frame_rate"/],
    ['unknown camelCase key', { encoder_type: 'cpc', weights: CPC, frameRate: 10 }, /unknown key "frameRate"/],
    ['bad runtime_device', { encoder_type: 'mimi', runtime_device: 'tpu', weights: TINY }, /runtime_device must be "cpu" or "cuda\[:N\]", got "tpu"/],
    ['another Mimi model', { encoder_type: 'mimi', mimi_model_name: 'kyutai/other', weights: TINY }, /mimi_model_name "kyutai\/other" is not supported/],
    ['bad frames per call', { encoder_type: 'mimi', mimi_onnx_frames_per_call: 0, weights: TINY }, /mimi_onnx_frames_per_call must be a positive integer, got 0/],
    ['mimi_config not an object', { encoder_type: 'mimi', mimi_config: 'tiny', weights: TINY }, /mimi_config must be an object/],
    ['mimi_config unknown key', { encoder_type: 'mimi', mimi_config: { ...MIMI_TINY_OVERRIDES, hidden: 64 }, weights: TINY }, /mimi_config: MimiConfig: unknown key "hidden"/],
    ['mimi_config pad_mode', { encoder_type: 'mimi', mimi_config: { ...MIMI_TINY_OVERRIDES, pad_mode: 'reflect' }, weights: TINY }, /pad_mode "reflect" is not supported/],
  ];
  it.each(cases)('%s', async (_name, conf, msg) => {
    const p = buildAudioEncoder(conf as never);
    await expect(p).rejects.toThrow(ConfigError);
    await expect(buildAudioEncoder(conf as never)).rejects.toThrow(msg);
  });

  it('refuses a conf that is not an object', () => {
    expect(() => normalizeConf(null as never)).toThrow(/conf must be an object/);
  });
});

describe('MimiConfig validation', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ foo: 1 }, /MimiConfig: unknown key "foo"/],
    [{ pad_mode: 'replicate' }, /pad_mode "replicate" is not supported \(only "constant"/],
    [{ use_causal_conv: false }, /use_causal_conv false is not supported/],
    [{ layer_scale_initial_scale: 'x' }, /layer_scale_initial_scale must be a finite number, got "x"/],
    [{ norm_eps: 0 }, /norm_eps must be a positive number, got 0/],
    [{ rope_theta: -1 }, /rope_theta must be a positive number, got -1/],
    [{ hidden_size: 64.5 }, /hidden_size must be a positive integer, got 64.5/],
    [{ num_hidden_layers: 0 }, /num_hidden_layers must be a positive integer, got 0/],
    [{ sliding_window: '250' }, /sliding_window must be a positive integer, got "250"/],
    [{ upsampling_ratios: [8, 0] }, /upsampling_ratios must be a non-empty array of positive integers/],
    [{ frame_rate: 50 }, /frame_rate 50 gives a downsample kernel of 0/],
    [{ use_conv_shortcut: true }, /use_conv_shortcut true is not supported \(only false\)/],
    [{ audio_channels: 2 }, /audio_channels 2 is not supported/],
    [{ rope_parameters: { rope_type: 'yarn' } }, /rope_type "yarn" is not supported/],
    [{ num_key_value_heads: 4 }, /GQA is not used by Mimi/],
  ];
  it.each(bad)('refuses %j', (o, msg) => {
    expect(() => mimiConfig(o as never)).toThrow(RangeError);
    expect(() => mimiConfig(o as never)).toThrow(msg);
  });

  it('accepts a kyutai/mimi config.json (decoder and quantizer fields ignored, rope_parameters read)', () => {
    const c = mimiConfig({ model_type: 'mimi', codebook_size: 2048, upsample_groups: 512, hidden_act: 'gelu', rope_parameters: { rope_type: 'default', rope_theta: 5000 } } as never);
    expect(c.rope_theta).toBe(5000);
    expect(c.hidden_size).toBe(512);
    expect(Object.keys(c)).not.toContain('codebook_size');
  });
});

describe('buildAudioEncoder builds', () => {
  it("accepts MaAI's onnxruntime keys and ignores them; frames per call", async () => {
    const b = await buildAudioEncoder({ encoder_type: 'mimi', weights: TINY, mimi_config: MIMI_TINY_OVERRIDES, mimi_onnx_cpu_intra_threads: 4, mimi_onnx_fp32_path: 'x.onnx', mimi_onnx_frames_per_call: 2 } as never);
    expect(b.framesPerCall).toBe(2);
    b.encoder.dispose();
  });

  it('CPC from snake_case keys', async () => {
    const b = await buildAudioEncoder({ encoder_type: 'cpc', cpc_model: CPC, freeze_encoder: 1 });
    expect(b.type).toBe('cpc');
    expect(b.encoder).toBeInstanceOf(EncoderCPC);
    b.encoder.dispose();
  });

  it('Mimi from camelCase aliases, PyTorch path at 10 Hz and the ONNX contract at 12.5 Hz', async () => {
    const a = await buildAudioEncoder({ encoderType: 'mimi', mimiUseOnnx: 0, frameHz: 10, weights: TINY, mimiConfig: MIMI_TINY_OVERRIDES });
    expect(a.encoder).toBeInstanceOf(EncoderMimi);
    expect((a.encoder as EncoderMimi).frameHz).toBe(10);
    expect(a.onnxContract).toBe(false);
    const b = await buildAudioEncoder({ encoder_type: 'mimi', weights: TINY, mimi_config: MIMI_TINY_OVERRIDES });
    expect((b.encoder as EncoderMimi).frameHz).toBe(12.5); // default with mimi_use_onnx (on by default)
    expect(b.onnxContract).toBe(true);
    expect(b.precision).toBe('fp32');
    a.encoder.dispose();
    b.encoder.dispose();
  });
});

describe('EncoderSession', () => {
  it('gives the realtime loop outputs for any push sizes, with flat memory', async () => {
    const { encoder } = await buildAudioEncoder({ encoder_type: 'mimi', weights: TINY, mimi_config: MIMI_TINY_OVERRIDES });
    const x = goldenSignal('short_mix');
    const ref = new EncoderSession(encoder);
    const whole = ref.push(x);
    ref.flush();
    const before = tf.memory().numTensors;
    const s = new EncoderSession(encoder);
    const got: number[] = [];
    let frames = 0;
    const sizes = [1, 159, 160, 1000, 7, 3333];
    for (let pos = 0, k = 0; pos < x.length; k++) {
      const n = Math.min(sizes[k % sizes.length], x.length - pos);
      const r = s.push(x.subarray(pos, pos + n));
      got.push(...r.data);
      frames += r.frames;
      pos += n;
    }
    s.flush();
    expect(frames).toBe(whole.frames);
    expect(frames).toBeGreaterThan(0);
    expect(new Float32Array(got)).toEqual(whole.data);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => s.push(x)).toThrow(/after flush/);
    encoder.dispose();
  });

  it('encodeStream adapts an async iterable of chunks', async () => {
    const { encoder } = await buildAudioEncoder({ encoder_type: 'cpc', weights: CPC });
    const x = goldenSignal('short_mix');
    async function* chunks() {
      for (let p = 0; p < x.length; p += 480) yield x.slice(p, p + 480);
    }
    let frames = 0;
    for await (const f of encodeStream(new EncoderSession(encoder), chunks())) frames += f.frames;
    const ref = new EncoderSession(encoder);
    const r = ref.push(x);
    ref.flush();
    expect(frames).toBe(r.frames);
    encoder.dispose();
  });

  it('rejects bad pushes', async () => {
    const { encoder } = await buildAudioEncoder({ encoder_type: 'cpc', weights: CPC });
    const s = new EncoderSession(encoder);
    expect(() => s.push(new Float64Array(10) as never)).toThrow(TypeError);
    expect(() => s.push(new Float32Array([0, NaN]))).toThrow(/NaN/);
    s.close();
    encoder.dispose();
  });
});
