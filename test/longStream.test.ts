/**
 * Shortened long-stream reliability runs (the full hour is scripts/longStream.ts): MaAI's realtime loop over a
 * deterministic speech-like signal, with flat tf.memory(), finite outputs, the Mimi position advancing far past
 * the KV window, and the last simulated minute rerun bit-identically from the state exported at minute M-1 in a
 * freshly loaded encoder.
 */
import { setBackend } from '../src/backend';
import { LongStreamResult, runLongStream, speechLikeSample, speechLikeWindow } from '../src/bench/longStream';
import { EncoderCPC } from '../src/models/cpc/encoderCpc';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { MIMI_TINY_OVERRIDES } from '../src/models/mimi/mimiConfig';
import { openWeights } from '../src/weights/store';
import { goldenPath } from './helpers/golden';

beforeAll(async () => {
  await setBackend('wasm');
});

function expectInvariants(r: LongStreamResult): void {
  expect(r.checks.finite).toBe(true);
  expect(r.lines.every((l) => l.finite)).toBe(true);
  // Flat from minute 1 to the end: not one tensor or byte more.
  expect(r.checks.tensorsFlat).toBe(true);
  expect(r.checks.bytesFlat).toBe(true);
  for (const l of r.lines) {
    expect(l.numTensors).toBe(r.lines[0].numTensors);
    expect(l.numBytes).toBe(r.lines[0].numBytes);
  }
  // Resume from the exported state: bit-identical last minute.
  expect(r.resume.fromMinute).toBe(r.minutes - 1);
  expect(r.resume.emittedEqual).toBe(true);
  expect(r.resume.maxAbsDiff).toBe(0);
  expect(r.checks.resumeIdentical).toBe(true);
  expect(r.calls).toBe(r.minutes * r.callsPerMinute);
  expect(Number.isFinite(r.rssGrowthPct)).toBe(true);
}

describe('the synthetic signal', () => {
  it('is deterministic, random-access, bounded, and has voiced, noisy and silent stretches', () => {
    const a = speechLikeWindow(16000 * 3000, 1600);
    const b = speechLikeWindow(16000 * 3000 - 800, 2400).subarray(800);
    expect(b).toEqual(a);
    expect(speechLikeWindow(-320, 1600).subarray(0, 320)).toEqual(new Float32Array(320)); // the loop's leading zeros
    const seg = (k: number) => {
      let e = 0;
      for (let i = 0; i < 4000; i++) e += speechLikeSample(k * 4000 + i) ** 2;
      return Math.sqrt(e / 4000);
    };
    const rms = Array.from({ length: 200 }, (_, k) => seg(k));
    expect(rms.some((r) => r < 0.005)).toBe(true); // silences
    expect(rms.some((r) => r > 0.05)).toBe(true); // voiced
    const w = speechLikeWindow(0, 16000 * 5);
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThan(1);
  });
});

describe('long stream (shortened)', () => {
  it('tiny Mimi at 12.5 Hz: 3 simulated minutes (2250 calls) far past the 16-frame window', async () => {
    const store = await openWeights(goldenPath('weights', 'mimi_tiny_weights.safetensors'));
    const lines: string[] = [];
    const r = await runLongStream({
      load: () => EncoderMimi.load(store, { frameHz: 12.5, config: MIMI_TINY_OVERRIDES }),
      minutes: 3,
      log: (l) => lines.push(l),
    });
    console.log(lines.join('\n'));
    expect(r.callsPerMinute).toBe(750);
    expect(r.window).toBe(1600);
    expect(r.shift).toBe(1280);
    expectInvariants(r);
    expect(r.frames).toBe(r.calls); // one 12.5 Hz frame per call
    // The core position: 2 frames (25 Hz) per call, after every call, and far past the KV window.
    expect(r.positionMismatches).toBe(0);
    expect(r.finalPosition).toBe(2 * 2250);
    expect(r.kvWindow).toBe(16);
    expect(r.finalPosition!).toBeGreaterThan(250); // the full model's window, too
    expect(r.finalPosition!).toBeGreaterThan(100 * r.kvWindow!);
    expect(r.lines.map((l) => l.position)).toEqual([1500, 3000, 4500]);
    expect(r.resume.positionEqual).toBe(true);
    expect(r.checks.positionAdvances).toBe(true);
  });

  it('full-size CPC (LSTM): 3 short "minutes" of 60 calls (1920-sample windows shifted by 1600)', async () => {
    const tensors = await openWeights(goldenPath('weights', 'cpc_lstm_manifest.json'));
    const lines: string[] = [];
    const r = await runLongStream({ load: () => EncoderCPC.load(tensors), minutes: 3, callsPerMinute: 60, log: (l) => lines.push(l) });
    console.log(lines.join('\n'));
    expect(r.window).toBe(1920);
    expect(r.shift).toBe(1600);
    expectInvariants(r);
    expect(r.frames).toBe(3 * r.calls); // 3 frames per 1920-sample call
    expect(r.finalPosition).toBeNull();
    expect(r.checks.positionAdvances).toBeNull();
  });

  it('refuses a Mimi encoder whose frame rate needs alignment, and bad run lengths', async () => {
    const store = await openWeights(goldenPath('weights', 'mimi_tiny_weights.safetensors'));
    await expect(runLongStream({ load: () => EncoderMimi.load(store, { frameHz: 10, config: MIMI_TINY_OVERRIDES }), minutes: 1 })).rejects.toThrow(/frame_hz 12\.5/);
    await expect(runLongStream({ load: () => EncoderMimi.load(store, { frameHz: 12.5, config: MIMI_TINY_OVERRIDES }), minutes: 0 })).rejects.toThrow(/minutes/);
  });
});
