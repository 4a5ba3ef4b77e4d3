/** The realtime driver: MaAI's call geometry, the buffer, push/flush, state transfer, and the encoders' callWindow. */
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { EncoderCPC } from '../src/models/cpc/encoderCpc';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { MIMI_TINY_OVERRIDES } from '../src/models/mimi/mimiConfig';
import { RealtimeLoop, callWindowFor, realtimeCallCount, runRealtime } from '../src/pipeline/realtimeLoop';
import type { AudioEncoder, CallWindow, EncoderStream, EncoderStreamState } from '../src/pipeline/types';
import { openWeights } from '../src/weights/store';
import { goldenPath } from './helpers/golden';

beforeAll(async () => {
  await setBackend('cpu');
});

interface FakeState extends EncoderStreamState {
  encoder: 'fake';
  sum: number;
  calls: number;
}

/** A stream that records its windows and emits one frame [sum of everything seen so far, window[0]]. */
class FakeStream implements EncoderStream {
  windows: Float32Array[] = [];
  sum = 0;
  calls = 0;
  failNext = false;
  step(w: Float32Array | tf.Tensor): tf.Tensor3D {
    const x = w as Float32Array;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('fake failure');
    }
    this.windows.push(x.slice());
    this.sum += x.reduce((a, b) => a + b, 0);
    this.calls++;
    return tf.tensor3d([this.sum, x[0]], [1, 1, 2]);
  }
  finalize(): tf.Tensor3D {
    return tf.tensor3d([-1, -1], [1, 1, 2]);
  }
  reset(): void {
    this.sum = 0;
    this.calls = 0;
  }
  exportState(): FakeState {
    return { encoder: 'fake', sum: this.sum, calls: this.calls };
  }
  importState(s: EncoderStreamState): void {
    const f = s as FakeState;
    if (f.encoder !== 'fake') throw new TypeError('not a fake state');
    this.sum = f.sum;
    this.calls = f.calls;
  }
  dispose(): void {}
}

const geometry = (callHz: number, context = 320): CallWindow => ({ ...callWindowFor(callHz, context), frameHz: callHz });
const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => (i % 1000) / 1000 + 0.001);

describe('callWindowFor', () => {
  it("is MaAI's geometry with Python's rounding (half to even)", () => {
    expect(callWindowFor(10)).toEqual({ window: 1920, shift: 1600, context: 320, leadingZeros: 320 });
    expect(callWindowFor(12.5)).toEqual({ window: 1600, shift: 1280, context: 320, leadingZeros: 320 });
    expect(callWindowFor(16000 / 1280.5).shift).toBe(1280); // Math.round would give 1281
    expect(callWindowFor(16000 / 1281.5).shift).toBe(1282);
    expect(callWindowFor(6400, 0)).toEqual({ window: 2, shift: 2, context: 0, leadingZeros: 0 }); // round(2.5) = 2
    expect(() => callWindowFor(0)).toThrow(/positive number of Hz, got 0/);
    expect(() => callWindowFor(10, -1)).toThrow(/context -1/);
    expect(() => callWindowFor(64000)).toThrow(/no new samples/);
  });
});

describe('RealtimeLoop', () => {
  it('calls with leading zeros then every shift samples, for any arrival chunking', () => {
    const g = geometry(10);
    const x = ramp(16000 * 2 + 77);
    const want = Array.from({ length: realtimeCallCount(x.length, g) }, (_, k) => {
      const padded = new Float32Array(g.leadingZeros + x.length);
      padded.set(x, g.leadingZeros);
      return padded.slice(k * g.shift, k * g.shift + g.window);
    });
    expect(want.length).toBe(Math.floor((320 + x.length - 1920) / 1600) + 1);
    for (const chunk of [1, 160, 999, 1600, x.length]) {
      const s = new FakeStream();
      const loop = new RealtimeLoop(s, g, 2);
      let frames = 0;
      for (let p = 0; p < x.length; p += chunk) frames += loop.push(x.subarray(p, p + chunk)).frames;
      expect(s.windows).toEqual(want);
      expect(frames).toBe(want.length);
      expect(loop.calls).toBe(want.length);
      expect(loop.pending).toBe(320 + x.length - (want.length - 1) * 1600 - 1920);
      const f = loop.flush();
      expect(f.frames).toBe(1);
      expect(Array.from(f.data)).toEqual([-1, -1]);
    }
  });

  it('leaves the buffer and the stream as they were when a step throws, then continues', () => {
    const g = geometry(100, 40);
    const x = ramp(2000);
    const ref = new FakeStream();
    const refOut = new RealtimeLoop(ref, g, 2).push(x);
    const s = new FakeStream();
    const loop = new RealtimeLoop(s, g, 2);
    loop.push(x.subarray(0, 500));
    s.failNext = true;
    expect(() => loop.push(x.subarray(500, 1000))).toThrow(/fake failure/);
    const rest = loop.push(x.subarray(1000));
    expect(s.windows).toEqual(ref.windows);
    expect(rest.frames + 3).toBe(refOut.frames);
    expect(() => loop.push([1, 2] as never)).toThrow(/RealtimeLoop\.push: expected a Float32Array/);
    expect(() => loop.push(new Float32Array([0, Infinity]))).toThrow(/RealtimeLoop\.push: sample 1 is Infinity/);
  });

  it('moves to another loop with exportState / importState (stream state and buffered samples)', () => {
    const g = geometry(50, 64);
    const x = ramp(5000);
    const a = new RealtimeLoop(new FakeStream(), g, 2);
    a.push(x.subarray(0, 1234));
    const st = structuredClone(a.exportState());
    const tailA = a.push(x.subarray(1234));
    const b = new RealtimeLoop(new FakeStream(), g, 2);
    b.importState(st);
    const tailB = b.push(x.subarray(1234));
    expect(tailB).toEqual(tailA);
    expect(b.calls).toBe(a.calls);
    expect(() => b.importState({ stream: { encoder: 'cpc' }, buffered: new Float32Array(3), calls: 1 })).toThrow(/not a fake state/);
    expect(() => b.importState({ stream: st.stream, buffered: new Float32Array(g.window), calls: 1 })).toThrow(/fewer than/);
    expect(b.push(new Float32Array(0)).frames).toBe(0);
    expect(b.exportState().buffered).toEqual(a.exportState().buffered);
  });

  it('runRealtime takes an explicit geometry (leading zeros apart from the context)', () => {
    const enc = { dim: 2, stream: () => new FakeStream(), callWindow: () => geometry(10) } as unknown as AudioEncoder;
    const r = runRealtime(enc, ramp(3000), { geometry: { window: 1000, shift: 800, context: 200, leadingZeros: 0 }, finalize: false });
    expect(r.emitted).toEqual([1, 1, 1]);
    expect(r.callEnd).toEqual([1120, 1920, 2720]);
    expect(r.geometry.frameHz).toBe(20);
    expect(() => runRealtime(enc, ramp(10), { geometry: { window: 1000, shift: 800, context: 100, leadingZeros: 0 } })).toThrow(/context = window - shift/);
    expect(() => runRealtime(enc, ramp(10), { chunk: 0 })).toThrow(/chunk 0/);
  });
});

describe('callWindow of the encoders', () => {
  it('CPC: MaAI 10 Hz calls (1920 / 1600), frames per second from the downsample', async () => {
    const cpc = EncoderCPC.load(await openWeights(goldenPath('weights', 'cpc_lstm_manifest.json')));
    expect(cpc.callWindow()).toEqual({ window: 1920, shift: 1600, context: 320, leadingZeros: 320, frameHz: 30 });
    expect(cpc.callWindow({ callHz: 20 }).window).toBe(1120);
    expect(cpc.kind).toBe('cpc');
    expect(cpc.frameHz).toBe(50);
    expect(cpc.dim).toBe(256);
    cpc.dispose();
  });

  it('Mimi: one frame per call at frame_hz, frame_hz / N for frames_per_call N, context fixed', async () => {
    const store = await openWeights(goldenPath('weights', 'mimi_tiny_weights.safetensors'));
    for (const hz of [12.5, 10]) {
      const m = EncoderMimi.load(store, { frameHz: hz, config: MIMI_TINY_OVERRIDES });
      expect(m.callWindow().window).toBe(m.getStreamingCallWindow16k());
      expect(m.callWindow({ callHz: hz / 2 }).window).toBe(m.getStreamingCallWindow16k(2));
      expect(m.callWindow().frameHz).toBe(hz);
      m.dispose();
    }
    const m = EncoderMimi.load(store, { frameHz: 12.5, config: MIMI_TINY_OVERRIDES });
    expect(m.getStreamingCallWindow16k(2)).toBe(2880);
    expect(m.getStreamingMimiInput24k(2)).toBe(3840);
    expect(() => m.getStreamingCallWindow16k(0)).toThrow(/frames_per_call must be a positive integer/);
    m.dispose();
  });
});
