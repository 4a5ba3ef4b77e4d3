/**
 * AudioWorklet processor (built to dist/browser/mic-worklet.js): mixes the input down to mono, resamples it from
 * the AudioContext's rate to 16 kHz with MaAI's causal linear-interpolation resampler, and posts Float32Array
 * chunks of `chunk` samples (options.processorOptions.chunk, default 320 = 20 ms) to the main thread.
 * Linear interpolation has no anti-alias filter (as MaAI's streaming resampler): fine for speech features.
 */
import { CausalStreamingResampler } from '../../audio/causalResampler';

declare const sampleRate: number;
declare function registerProcessor(name: string, ctor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}

class Mic16kProcessor extends AudioWorkletProcessor {
  private readonly resampler = new CausalStreamingResampler(sampleRate, 16000);
  private resamplerState = this.resampler.initialState();
  private readonly chunk: number;
  private buf: Float32Array;
  private fill = 0;

  constructor(options?: { processorOptions?: { chunk?: number } }) {
    super(options);
    this.chunk = options?.processorOptions?.chunk ?? 320;
    this.buf = new Float32Array(this.chunk);
  }

  process(inputs: Float32Array[][]): boolean {
    const chans = inputs[0];
    if (!chans || chans.length === 0 || chans[0].length === 0) return true;
    const n = chans[0].length;
    const mono = new Float32Array(n);
    for (const c of chans) for (let i = 0; i < n; i++) mono[i] += c[i] / chans.length;
    const r = this.resampler.process([mono], this.resamplerState);
    this.resamplerState = r.state;
    const y = r.out[0];
    for (let i = 0; i < y.length; i++) {
      this.buf[this.fill++] = y[i];
      if (this.fill === this.chunk) {
        this.port.postMessage(this.buf, [this.buf.buffer]);
        this.buf = new Float32Array(this.chunk);
        this.fill = 0;
      }
    }
    return true;
  }
}

registerProcessor('maai-mic-16k', Mic16kProcessor);
