/**
 * Band-limited resampling by a windowed-sinc polyphase filter, numerically the same as torchaudio's
 * `functional.resample` (sinc_interp_hann): same kernel, same zero padding, same output length ceil(T * new / orig).
 *
 * torchaudio's kernel has one phase per output sample of the reduced rate ratio: next x (2 width + orig) weights
 * for orig/next = origFreq/newFreq divided by their gcd. For the common rates that is small (8, 11.025, 16, 22.05,
 * 24, 32, 44.1, 48, 96 kHz to or from 16 or 24 kHz: at most ~300 k weights), but an awkward rate has a huge reduced
 * ratio (32003 -> 16000 Hz: 16000 x 32029 weights, 2 GB). Past SINC_EXACT_KERNEL_LIMIT weights the same filter is
 * evaluated per output sample instead, from a fixed table of the windowed sinc (SINC_TABLE_STEPS points per zero
 * crossing, linear interpolation), at the exact position of each output sample: memory is the table (a few
 * hundred KB) whatever the rates, and time is linear in the output length times the taps per output
 * (2 x lowpassFilterWidth x max(1, origFreq / newFreq) / rolloff).
 * Accuracy of that table path: each weight is within 2.6e-8 (relative to the kernel's peak) of the exact kernel, so
 * an output differs from torchaudio's by at most 2 x lowpassFilterWidth x 2.6e-8 x max|x| (3.2e-7 x max|x| for the
 * default width 6) plus float32 rounding; the test suite checks 5e-7 x max|x| against the exact kernel.
 */

export interface SincResampleOptions {
  /** Zero crossings of the sinc on each side (torchaudio default 6). */
  lowpassFilterWidth?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (torchaudio default 0.99). */
  rolloff?: number;
  /**
   * 'exact': torchaudio's polyphase kernel (refused past SINC_EXACT_KERNEL_LIMIT weights); 'table': the bounded table
   * method; 'auto' (default): exact when the kernel is within the limit, else the table.
   */
  method?: 'auto' | 'exact' | 'table';
}

/** Largest torchaudio kernel (next x taps float32 weights, 8 MB) built; larger ratios use the table method. */
export const SINC_EXACT_KERNEL_LIMIT = 2 ** 21;
/** Points per zero crossing of the table method's windowed-sinc table. */
export const SINC_TABLE_STEPS = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function checkRate(v: number, what: string): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`sincResample: ${what} must be a positive integer, got ${v}`);
}

export interface SincKernel {
  /** Reduced rates (divided by their gcd). */
  orig: number;
  next: number;
  /** Zero padding on the left; the right gets width + orig. */
  width: number;
  /** taps per phase: 2 * width + orig. */
  taps: number;
  /** [next][taps], phase-major. */
  weights: Float32Array;
}

/** Recently used kernels (each at most SINC_EXACT_KERNEL_LIMIT weights); the oldest is dropped past 8. */
const kernelCache = new Map<string, SincKernel>();
const KERNEL_CACHE_SIZE = 8;

function filterParams(opts: SincResampleOptions): { lw: number; rolloff: number } {
  const lw = opts.lowpassFilterWidth ?? 6;
  const rolloff = opts.rolloff ?? 0.99;
  if (!(lw > 0) || !Number.isFinite(lw)) throw new RangeError(`sincResample: lowpassFilterWidth must be > 0, got ${lw}`);
  if (!(rolloff > 0 && rolloff <= 1)) throw new RangeError(`sincResample: rolloff must be in (0, 1], got ${rolloff}`);
  return { lw, rolloff };
}

/** Weights of torchaudio's kernel for these rates (next x taps), computed without building it. */
export function sincKernelSize(origFreq: number, newFreq: number, opts: SincResampleOptions = {}): number {
  const { lw, rolloff } = filterParams(opts);
  const g = gcd(origFreq, newFreq);
  const orig = origFreq / g;
  const next = newFreq / g;
  const width = Math.ceil((lw * orig) / (Math.min(orig, next) * rolloff));
  return next * (2 * width + orig);
}

/**
 * The polyphase kernel. torchaudio builds it in the waveform's dtype (float32); we evaluate in float64 and round
 * each weight to float32, which differs from torch by at most a few float32 ulps per tap.
 */
export function sincKernel(origFreq: number, newFreq: number, opts: SincResampleOptions = {}): SincKernel {
  const { lw, rolloff } = filterParams(opts);
  const key = `${origFreq}/${newFreq}/${lw}/${rolloff}`;
  const hit = kernelCache.get(key);
  if (hit) {
    kernelCache.delete(key);
    kernelCache.set(key, hit);
    return hit;
  }
  const size = sincKernelSize(origFreq, newFreq, opts);
  if (size > SINC_EXACT_KERNEL_LIMIT) {
    throw new RangeError(`sincResample: the exact kernel for ${origFreq} -> ${newFreq} Hz has ${size} weights (limit ${SINC_EXACT_KERNEL_LIMIT}); use method 'table' or 'auto'`);
  }
  const g = gcd(origFreq, newFreq);
  const orig = origFreq / g;
  const next = newFreq / g;
  const baseFreq = Math.min(orig, next) * rolloff;
  const width = Math.ceil((lw * orig) / baseFreq);
  const taps = 2 * width + orig;
  const weights = new Float32Array(next * taps);
  const scale = baseFreq / orig;
  for (let p = 0; p < next; p++) {
    for (let k = 0; k < taps; k++) {
      let t = (-p / next + (k - width) / orig) * baseFreq;
      t = Math.min(lw, Math.max(-lw, t));
      const w = Math.cos((t * Math.PI) / lw / 2) ** 2;
      const tp = t * Math.PI;
      const s = tp === 0 ? 1 : Math.sin(tp) / tp;
      weights[p * taps + k] = s * w * scale;
    }
  }
  const kernel = { orig, next, width, taps, weights };
  kernelCache.set(key, kernel);
  if (kernelCache.size > KERNEL_CACHE_SIZE) kernelCache.delete(kernelCache.keys().next().value!);
  return kernel;
}

/** ceil(T * next / orig) without losing precision when the product passes 2^53. */
function outputLength(T: number, orig: number, next: number): number {
  const prod = T * next;
  if (prod <= Number.MAX_SAFE_INTEGER) return Math.ceil(prod / orig);
  const n = (BigInt(T) * BigInt(next) + BigInt(orig) - 1n) / BigInt(orig);
  return Number(n);
}

/** Output length of sincResample: ceil(T * new / orig) with the reduced rates. */
export function sincResampleLength(length: number, origFreq: number, newFreq: number): number {
  checkRate(origFreq, 'origFreq');
  checkRate(newFreq, 'newFreq');
  const g = gcd(origFreq, newFreq);
  return outputLength(length, origFreq / g, newFreq / g);
}

const sincTables = new Map<number, Float64Array>();

/** The windowed sinc K(t) = sinc(t) cos^2(pi t / 2 lw) at t = k / SINC_TABLE_STEPS, k = 0 .. lw * steps (+1 guard). */
function sincTable(lw: number): Float64Array {
  let t = sincTables.get(lw);
  if (t) return t;
  const n = Math.ceil(lw * SINC_TABLE_STEPS) + 2;
  t = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const x = Math.min(lw, k / SINC_TABLE_STEPS);
    const w = Math.cos((x * Math.PI) / lw / 2) ** 2;
    const xp = x * Math.PI;
    t[k] = (xp === 0 ? 1 : Math.sin(xp) / xp) * w;
  }
  if (sincTables.size >= 4) sincTables.clear();
  sincTables.set(lw, t);
  return t;
}

/**
 * Output samples start .. end-1 of the same filter as torchaudio's, evaluated at the exact time of each output
 * sample from a table of the windowed sinc (see the module comment for its accuracy). Memory: the table; time:
 * outputs x taps per output.
 */
function sincResampleTable(x: Float32Array, origFreq: number, newFreq: number, start: number, end: number, lw: number, rolloff: number): Float32Array {
  const g = gcd(origFreq, newFreq);
  const orig = origFreq / g;
  const next = newFreq / g;
  const T = x.length;
  const y = new Float32Array(end - start);
  const table = sincTable(lw);
  // t = B (i / origFreq - n / newFreq) = (i next - n orig) * c, with integers i next and n orig (exact below 2^53).
  const B = Math.min(orig, next) * rolloff;
  const c = B / (orig * next);
  const scale = B / orig;
  const span = Math.ceil((lw * orig) / B) + 1; // inputs on each side of the output's position
  const steps = SINC_TABLE_STEPS;
  const limit = lw * steps;
  for (let n = start; n < end; n++) {
    const nOrig = n * orig;
    const center = Math.floor(nOrig / next);
    const lo = Math.max(0, center - span);
    const hi = Math.min(T - 1, center + span + 1);
    let acc = 0;
    for (let i = lo; i <= hi; i++) {
      const u = Math.abs((i * next - nOrig) * c) * steps;
      if (u >= limit) continue;
      const k = Math.floor(u);
      const f = u - k;
      acc += x[i] * (table[k] + f * (table[k + 1] - table[k]));
    }
    y[n - start] = acc * scale;
  }
  return y;
}

/** Resamples one signal from `origFreq` to `newFreq` (positive integers). Equal rates return a copy. */
export function sincResample(x: Float32Array, origFreq: number, newFreq: number, opts: SincResampleOptions = {}): Float32Array {
  return sincResampleRange(x, origFreq, newFreq, 0, sincResampleLength(x.length, origFreq, newFreq), opts);
}

/**
 * Output samples start .. end-1 of sincResample(x, ...), computed from the whole input: a long signal can be
 * resampled piece by piece with results identical to one call (for either method).
 */
export function sincResampleRange(x: Float32Array, origFreq: number, newFreq: number, start: number, end: number, opts: SincResampleOptions = {}): Float32Array {
  const outLen = sincResampleLength(x.length, origFreq, newFreq);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > outLen) {
    throw new RangeError(`sincResampleRange: range ${start}..${end} outside the output's 0..${outLen}`);
  }
  if (origFreq === newFreq) return x.slice(start, end);
  const { lw, rolloff } = filterParams(opts);
  const method = opts.method ?? 'auto';
  if (method === 'table' || (method === 'auto' && sincKernelSize(origFreq, newFreq, opts) > SINC_EXACT_KERNEL_LIMIT)) {
    return sincResampleTable(x, origFreq, newFreq, start, end, lw, rolloff);
  }
  const { orig, next, width, taps, weights } = sincKernel(origFreq, newFreq, opts);
  const T = x.length;
  const y = new Float32Array(end - start);
  // Output j*next + p = sum_k padded[j*orig + k] * kernel[p][k], where padded = [width zeros, x, width+orig zeros].
  for (let n = start; n < end; n++) {
    const j = Math.floor(n / next);
    const p = n - j * next;
    const first = j * orig - width; // index into x of tap 0
    const kLo = Math.max(0, -first);
    const kHi = Math.min(taps, T - first);
    const base = p * taps;
    let acc = 0;
    for (let k = kLo; k < kHi; k++) acc += x[first + k] * weights[base + k];
    y[n - start] = acc;
  }
  return y;
}
