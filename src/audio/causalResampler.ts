/**
 * MaAI's causal streaming resampler: linear interpolation with no anti-alias filter, carried across calls.
 * Output sample k is the input linearly interpolated at global position k * orig / new. The time bookkeeping is
 * float64 (as in current MaAI; an older version kept it in float32 and drifted); the interpolation weights and the
 * mix are float32, as upstream casts the fraction to the signal's dtype.
 * Rows are independent channels (batch x channels flattened); every call must pass the same number of rows.
 *
 * Like the layers, it is a pure step: `process(rows, state) -> { out, state }` computes the output and the next
 * state without touching the given one, so a caller commits the new state only once everything else succeeded.
 */
import { pyRound } from '../util/pyRound';

/** The resampler's state as plain data (never mutated: each call returns a new one). */
export interface CausalResamplerState {
  orig: number;
  next: number;
  nextT: number;
  inTotal: number;
  outTotal: number;
  /** Last input sample of each row, null before the first non-empty call. */
  prev: number[] | null;
}

export interface ResamplerResult {
  /** New output samples per row. */
  out: Float32Array[];
  state: CausalResamplerState;
}

export class CausalStreamingResampler {
  constructor(readonly origFreq: number, readonly newFreq: number) {
    if (!(origFreq > 0) || !(newFreq > 0) || !Number.isFinite(origFreq) || !Number.isFinite(newFreq)) {
      throw new RangeError(`CausalStreamingResampler: rates must be positive, got ${origFreq} -> ${newFreq}`);
    }
  }

  get stepIn(): number {
    return this.origFreq / this.newFreq;
  }

  /** The state of a fresh stream (upstream reset()). */
  initialState(): CausalResamplerState {
    return { orig: this.origFreq, next: this.newFreq, nextT: 0, inTotal: 0, outTotal: 0, prev: null };
  }

  /** rows: one Float32Array per channel, all the same length. Returns the new output samples per row and the next state. */
  process(rows: Float32Array[], state: CausalResamplerState): ResamplerResult {
    const R = rows.length;
    if (R === 0) throw new RangeError('CausalStreamingResampler.process: no rows');
    const F = rows[0].length;
    for (const r of rows) {
      if (r.length !== F) throw new RangeError('CausalStreamingResampler.process: rows differ in length');
    }
    if (F === 0) return { out: rows.map(() => new Float32Array(0)), state };
    let prev = state.prev;
    let nextT = state.nextT;
    if (!prev || prev.length !== R) {
      // Upstream restarts the time base when it first sees data (or the row count changes).
      prev = rows.map((r) => r[0]);
      nextT = state.inTotal;
    }
    const inStart = state.inTotal;
    const inEnd = inStart + F - 1;
    const step = this.stepIn;
    const nOut = nextT > inEnd ? 0 : Math.floor((inEnd - nextT) / step) + 1;
    const last = rows.map((r) => r[F - 1]);
    if (nOut <= 0) {
      return { out: rows.map(() => new Float32Array(0)), state: { ...state, nextT, inTotal: state.inTotal + F, prev: last } };
    }
    const f = Math.fround;
    const idx0 = new Int32Array(nOut);
    const idx1 = new Int32Array(nOut);
    const w0 = new Float32Array(nOut);
    const w1 = new Float32Array(nOut);
    for (let k = 0; k < nOut; k++) {
      const t = k * step + nextT;
      const tf = Math.floor(t);
      const frac = f(t - tf);
      // Index into [prev, x0 .. x_{F-1}]: 0 is the previous call's last sample.
      const i0 = Math.min(F, Math.max(0, tf - inStart + 1));
      idx0[k] = i0;
      idx1[k] = Math.min(F, i0 + 1);
      w0[k] = f(1 - frac);
      w1[k] = frac;
    }
    const out = rows.map((r, ri) => {
      const p = prev![ri];
      const y = new Float32Array(nOut);
      for (let k = 0; k < nOut; k++) {
        const a = idx0[k] === 0 ? p : r[idx0[k] - 1];
        const b = idx1[k] === 0 ? p : r[idx1[k] - 1];
        y[k] = f(f(w0[k] * a) + f(w1[k] * b));
      }
      return y;
    });
    return {
      out,
      state: { ...state, nextT: nextT + nOut * step, inTotal: state.inTotal + F, outTotal: state.outTotal + nOut, prev: last },
    };
  }

  /**
   * End of stream: emits copies of the last input sample until the output has round(inTotal * new / orig)
   * samples in all (Python rounding, half to even). Empty rows when nothing is owed; no rows when nothing was seen.
   */
  flush(state: CausalResamplerState): ResamplerResult {
    const prev = state.prev;
    if (!prev) return { out: [], state };
    const target = pyRound(state.inTotal * (this.newFreq / this.origFreq));
    const n = target - state.outTotal;
    if (n <= 0) return { out: prev.map(() => new Float32Array(0)), state };
    return {
      out: prev.map((p) => new Float32Array(n).fill(p)),
      state: { ...state, nextT: state.nextT + n * this.stepIn, outTotal: target },
    };
  }

  /** Validates a state (e.g. an imported one) for this resampler; returns a private copy. */
  checkState(s: CausalResamplerState): CausalResamplerState {
    if (!s || s.orig !== this.origFreq || s.next !== this.newFreq) {
      throw new RangeError(
        `CausalStreamingResampler: state is for ${s?.orig} -> ${s?.next} Hz, this resampler is ${this.origFreq} -> ${this.newFreq} Hz`,
      );
    }
    for (const [k, v] of [['nextT', s.nextT], ['inTotal', s.inTotal], ['outTotal', s.outTotal]] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`CausalStreamingResampler: bad ${k} ${v}`);
      if (k !== 'nextT' && !Number.isInteger(v)) throw new RangeError(`CausalStreamingResampler: ${k} ${v} must be an integer sample count`);
    }
    if (s.prev !== null && (!Array.isArray(s.prev) || s.prev.some((v) => typeof v !== 'number' || !Number.isFinite(v)))) {
      throw new RangeError('CausalStreamingResampler: prev must be null or an array of finite numbers');
    }
    return { orig: s.orig, next: s.next, nextT: s.nextT, inTotal: s.inTotal, outTotal: s.outTotal, prev: s.prev ? s.prev.slice() : null };
  }
}
