/**
 * The subset of transformers' MimiConfig the encoder path reads, with the same field names, plus the derived
 * sizes. `MIMI_CONFIG` is kyutai/mimi (MimiConfig() defaults); `mimiConfig(overrides)` builds variants such as
 * the tiny test config.
 */
export interface MimiConfig {
  sampling_rate: number;
  frame_rate: number;
  hidden_size: number;
  num_filters: number;
  num_residual_layers: number;
  upsampling_ratios: number[];
  kernel_size: number;
  last_kernel_size: number;
  residual_kernel_size: number;
  dilation_growth_rate: number;
  compress: number;
  use_causal_conv: boolean;
  pad_mode: 'constant';
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  intermediate_size: number;
  norm_eps: number;
  rope_theta: number;
  sliding_window: number;
  layer_scale_initial_scale: number;
}

export const MIMI_CONFIG: Readonly<MimiConfig> = Object.freeze({
  sampling_rate: 24000,
  frame_rate: 12.5,
  hidden_size: 512,
  num_filters: 64,
  num_residual_layers: 1,
  upsampling_ratios: [8, 6, 5, 4],
  kernel_size: 7,
  last_kernel_size: 3,
  residual_kernel_size: 3,
  dilation_growth_rate: 2,
  compress: 2,
  use_causal_conv: true,
  pad_mode: 'constant',
  num_hidden_layers: 8,
  num_attention_heads: 8,
  num_key_value_heads: 8,
  head_dim: 64,
  intermediate_size: 2048,
  norm_eps: 1e-5,
  rope_theta: 10000,
  sliding_window: 250,
  layer_scale_initial_scale: 0.01,
});

/** The tiny config of the golden tests. */
export const MIMI_TINY_OVERRIDES: Partial<MimiConfig> = {
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  head_dim: 16,
  intermediate_size: 128,
  num_filters: 8,
  sliding_window: 16,
};

/**
 * Fields of transformers' MimiConfig (and config.json metadata) that the encoder path never reads: the decoder,
 * the quantizer, training-only settings. They are accepted (so a kyutai/mimi config.json can be passed) and ignored.
 */
const IGNORED_UPSTREAM_KEYS = new Set([
  'trim_right_ratio', 'codebook_size', 'codebook_dim', 'num_quantizers', 'num_semantic_quantizers',
  'vector_quantization_hidden_dimension', 'upsample_groups', 'max_position_embeddings', 'use_cache', 'use_streaming',
  'attention_dropout', 'initializer_range', 'model_type', 'architectures', 'torch_dtype', 'dtype', 'transformers_version',
  '_name_or_path', 'rope_parameters', 'rope_scaling',
]);

/** Upstream fields with one supported value: the encoder path implements only that. */
const FIXED_UPSTREAM_VALUES: Record<string, unknown> = {
  audio_channels: 1,
  use_conv_shortcut: false,
  hidden_act: 'gelu',
  attention_bias: false,
};

const POSITIVE_INTS = [
  'sampling_rate', 'hidden_size', 'num_filters', 'num_residual_layers', 'kernel_size', 'last_kernel_size', 'residual_kernel_size',
  'dilation_growth_rate', 'compress', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim',
  'intermediate_size', 'sliding_window',
] as const;

/**
 * kyutai/mimi with `overrides`, validated: an unknown key or an unsupported value is a RangeError naming the key.
 * pad_mode must be 'constant' and use_causal_conv true (MaAI's streaming path; the downsample's 'replicate' is
 * built in); layer_scale_initial_scale only initialises weights upstream (the loaded scales are used), so it must
 * just be a finite number.
 */
export function mimiConfig(overrides: Partial<MimiConfig> & Record<string, unknown> = {}): MimiConfig {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) throw new RangeError('MimiConfig: expected an object of config fields');
  const known = new Set(Object.keys(MIMI_CONFIG));
  const picked: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(overrides)) {
    if (known.has(k)) picked[k] = v;
    else if (k in FIXED_UPSTREAM_VALUES) {
      if (v !== FIXED_UPSTREAM_VALUES[k]) throw new RangeError(`MimiConfig: ${k} ${JSON.stringify(v)} is not supported (only ${JSON.stringify(FIXED_UPSTREAM_VALUES[k])})`);
    } else if (k === 'rope_parameters' && v && typeof v === 'object') {
      const rp = v as { rope_type?: unknown; rope_theta?: unknown };
      if (rp.rope_type !== undefined && rp.rope_type !== 'default') throw new RangeError(`MimiConfig: rope_parameters.rope_type ${JSON.stringify(rp.rope_type)} is not supported (only "default")`);
      if (rp.rope_theta !== undefined && !('rope_theta' in overrides)) picked.rope_theta = rp.rope_theta;
    } else if (!IGNORED_UPSTREAM_KEYS.has(k)) {
      throw new RangeError(`MimiConfig: unknown key "${k}"`);
    }
  }
  const c = { ...MIMI_CONFIG, upsampling_ratios: [...MIMI_CONFIG.upsampling_ratios], ...picked } as MimiConfig;
  for (const k of POSITIVE_INTS) {
    if (!Number.isInteger(c[k]) || (c[k] as number) < 1) throw new RangeError(`MimiConfig: ${k} must be a positive integer, got ${JSON.stringify(c[k])}`);
  }
  for (const k of ['frame_rate', 'norm_eps', 'rope_theta'] as const) {
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || c[k] <= 0) throw new RangeError(`MimiConfig: ${k} must be a positive number, got ${JSON.stringify(c[k])}`);
  }
  if (typeof c.layer_scale_initial_scale !== 'number' || !Number.isFinite(c.layer_scale_initial_scale)) {
    throw new RangeError(`MimiConfig: layer_scale_initial_scale must be a finite number, got ${JSON.stringify(c.layer_scale_initial_scale)}`);
  }
  if (!Array.isArray(c.upsampling_ratios) || c.upsampling_ratios.length === 0 || c.upsampling_ratios.some((r) => !Number.isInteger(r) || r < 1)) {
    throw new RangeError(`MimiConfig: upsampling_ratios must be a non-empty array of positive integers, got ${JSON.stringify(c.upsampling_ratios)}`);
  }
  if (c.pad_mode !== 'constant') throw new RangeError(`MimiConfig: pad_mode ${JSON.stringify(c.pad_mode)} is not supported (only "constant", as kyutai/mimi)`);
  if (c.use_causal_conv !== true) throw new RangeError(`MimiConfig: use_causal_conv ${JSON.stringify(c.use_causal_conv)} is not supported (MaAI sets it to true)`);
  if (c.num_key_value_heads !== c.num_attention_heads) {
    throw new RangeError(`MimiConfig: num_key_value_heads ${c.num_key_value_heads} != num_attention_heads ${c.num_attention_heads} (GQA is not used by Mimi)`);
  }
  if (c.head_dim * c.num_attention_heads !== c.hidden_size) {
    throw new RangeError(`MimiConfig: head_dim ${c.head_dim} x heads ${c.num_attention_heads} != hidden_size ${c.hidden_size}`);
  }
  if (downsampleKernel(c) < downsampleStride(c)) {
    throw new RangeError(`MimiConfig: frame_rate ${c.frame_rate} gives a downsample kernel of ${downsampleKernel(c)} (encodec frame rate ${encodecFrameRate(c)} / frame_rate must be >= 1)`);
  }
  return c;
}

/** SEANet hop (samples per 25 Hz transformer frame): product of the upsampling ratios (960). */
export function seanetHop(c: MimiConfig): number {
  return c.upsampling_ratios.reduce((a, b) => a * b, 1);
}

/** Samples per 12.5 Hz output frame (1920). */
export function mimiFrameSize(c: MimiConfig): number {
  return seanetHop(c) * downsampleStride(c);
}

/** encodec_frame_rate = ceil(sampling_rate / hop) = 25. */
export function encodecFrameRate(c: MimiConfig): number {
  return Math.ceil(c.sampling_rate / seanetHop(c));
}

export function downsampleStride(c: MimiConfig): number {
  return 2;
}

/** Downsample kernel = 2 * int(encodec_frame_rate / frame_rate) = 4. */
export function downsampleKernel(c: MimiConfig): number {
  return 2 * Math.trunc(encodecFrameRate(c) / c.frame_rate);
}
