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

export function mimiConfig(overrides: Partial<MimiConfig> & Record<string, unknown> = {}): MimiConfig {
  const known = new Set(Object.keys(MIMI_CONFIG));
  const picked: Partial<MimiConfig> = {};
  for (const [k, v] of Object.entries(overrides)) if (known.has(k)) (picked as Record<string, unknown>)[k] = v;
  const c: MimiConfig = { ...MIMI_CONFIG, upsampling_ratios: [...MIMI_CONFIG.upsampling_ratios], ...picked };
  if (c.num_key_value_heads !== c.num_attention_heads) {
    throw new RangeError(`MimiConfig: num_key_value_heads ${c.num_key_value_heads} != num_attention_heads ${c.num_attention_heads} (GQA is not used by Mimi)`);
  }
  if (c.head_dim * c.num_attention_heads !== c.hidden_size) {
    throw new RangeError(`MimiConfig: head_dim ${c.head_dim} x heads ${c.num_attention_heads} != hidden_size ${c.hidden_size}`);
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
