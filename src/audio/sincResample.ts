/**
 * Band-limited resampling by a windowed-sinc polyphase filter, numerically the same as torchaudio's
 * `functional.resample` (sinc_interp_hann): same kernel, same zero padding, same output length ceil(T * new / orig).
 */

export interface SincResampleOptions {
  /** Zero crossings of the sinc on each side (torchaudio default 6). */
  lowpassFilterWidth?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (torchaudio default 0.99). */
  rolloff?: number;
}

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

const kernelCache = new Map<string, SincKernel>();

/**
 * The polyphase kernel. torchaudio builds it in the waveform's dtype (float32); we evaluate in float64 and round
 * each weight to float32, which differs from torch by at most a few float32 ulps per tap.
 */
export function sincKernel(origFreq: number, newFreq: number, opts: SincResampleOptions = {}): SincKernel {
  const lw = opts.lowpassFilterWidth ?? 6;
  const rolloff = opts.rolloff ?? 0.99;
  if (!(lw > 0)) throw new RangeError(`sincResample: lowpassFilterWidth must be > 0, got ${lw}`);
  if (!(rolloff > 0 && rolloff <= 1)) throw new RangeError(`sincResample: rolloff must be in (0, 1], got ${rolloff}`);
  const key = `${origFreq}/${newFreq}/${lw}/${rolloff}`;
  const hit = kernelCache.get(key);
  if (hit) return hit;
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
  return kernel;
}

/** Output length of sincResample: ceil(T * new / orig) with the reduced rates. */
export function sincResampleLength(length: number, origFreq: number, newFreq: number): number {
  checkRate(origFreq, 'origFreq');
  checkRate(newFreq, 'newFreq');
  const g = gcd(origFreq, newFreq);
  return Math.ceil(((newFreq / g) * length) / (origFreq / g));
}

/** Resamples one signal from `origFreq` to `newFreq` (positive integers). Equal rates return a copy. */
export function sincResample(x: Float32Array, origFreq: number, newFreq: number, opts: SincResampleOptions = {}): Float32Array {
  return sincResampleRange(x, origFreq, newFreq, 0, sincResampleLength(x.length, origFreq, newFreq), opts);
}

/**
 * Output samples start .. end-1 of sincResample(x, ...), computed from the whole input: a long signal can be
 * resampled piece by piece with results identical to one call.
 */
export function sincResampleRange(x: Float32Array, origFreq: number, newFreq: number, start: number, end: number, opts: SincResampleOptions = {}): Float32Array {
  const outLen = sincResampleLength(x.length, origFreq, newFreq);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > outLen) {
    throw new RangeError(`sincResampleRange: range ${start}..${end} outside the output's 0..${outLen}`);
  }
  if (origFreq === newFreq) return x.slice(start, end);
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
