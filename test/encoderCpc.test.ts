import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { EncoderCPC } from '../src/models/cpc/encoderCpc';
import { WeightStore, WeightError } from '../src/weights/store';
import { buildFromManifest, readManifest } from '../src/weights/detweights';
import { runParity } from '../src/parity/runCase';
import { RawTensor } from '../src/weights/types';
import { goldenCase, goldenPath } from './helpers/golden';

const tensors = (mode: string) => buildFromManifest(readManifest(goldenPath('weights', `cpc_${mode}_manifest.json`)));
const store = (mode: string) => WeightStore.fromTensors(tensors(mode));

beforeAll(async () => {
  await setBackend('wasm');
});

describe.each(['lstm', 'gru'])('EncoderCPC %s golden parity', (mode) => {
  it.each(['offline_short_mix', 'offline_speech_en', 'stream_short_mix', 'stream_speech_en'])('%s', async (which) => {
    const name = `cpc_${mode}_${which}`;
    const r = await runParity(goldenCase(name), { weights: store(mode), signalsDir: goldenPath('signals') });
    console.log(JSON.stringify(r));
    expect(r.shape_ok).toBe(true);
    expect(r.emitted_ok).toBe(true);
    expect(r.rel).toBeLessThanOrEqual(1e-4);
    expect(r.pass).toBe(true);
  });
});

describe('EncoderCPC behaviour', () => {
  let enc: EncoderCPC;
  beforeAll(() => {
    enc = EncoderCPC.load(store('lstm'));
  });
  afterAll(() => enc.dispose());

  it('detects the recurrent mode from the weights and checks a requested one', () => {
    expect(enc.arMode).toBe('LSTM');
    expect(() => EncoderCPC.load(store('gru'), { arMode: 'LSTM' })).toThrow(/asks for LSTM.*GRU/);
  });

  it('streams >= 2000 calls with a constant tensor count', () => {
    const s = enc.stream();
    const win = new Float32Array(1920).map((_, i) => Math.sin(i / 7) * 0.1);
    const y0 = s.step(win);
    y0.dispose();
    const base = tf.memory().numTensors;
    for (let i = 0; i < 2000; i++) s.step(win).dispose();
    expect(tf.memory().numTensors).toBe(base);
    s.dispose();
  });

  it('carries the recurrent state: a stream equals export/import into a fresh stream', () => {
    const win = (k: number) => new Float32Array(1920).map((_, i) => Math.sin((i + k * 1600) / 13) * 0.2);
    const a = enc.stream();
    for (let k = 0; k < 3; k++) a.step(win(k)).dispose();
    const saved = a.exportState();
    const ya = a.step(win(3));
    const b = enc.stream();
    b.importState(saved);
    const yb = b.step(win(3));
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    // A fresh state gives different output: the state matters.
    const c = enc.stream();
    const yc = c.step(win(3));
    expect(Array.from(yc.dataSync())).not.toEqual(Array.from(ya.dataSync()));
    // reset() returns to the fresh state.
    a.reset();
    const yr = a.step(win(3));
    expect(Array.from(yr.dataSync())).toEqual(Array.from(yc.dataSync()));
    tf.dispose([ya, yb, yc, yr]);
    [a, b, c].forEach((s) => s.dispose());
    expect(() => b.importState({ encoder: 'mimi' } as never)).toThrow(/not a CPC stream state/);
  });

  it('rejects windows shorter than the receptive field, non-finite samples and bad shapes', () => {
    expect(enc.minSamples).toBeGreaterThan(0);
    expect(enc.framesFor(enc.minSamples)).toBe(1);
    expect(enc.framesFor(enc.minSamples - 1)).toBe(0);
    expect(() => enc.forward(new Float32Array(enc.minSamples - 1))).toThrow(/shorter than the receptive field.*at least \d+ samples/);
    const bad = new Float32Array(1920);
    bad[100] = NaN;
    expect(() => enc.forward(bad)).toThrow(/sample 100 is NaN/);
    bad[100] = Infinity;
    const s = enc.stream();
    expect(() => s.step(bad)).toThrow(/Infinity/);
    expect(s.calls).toBe(0);
    expect(() => enc.forward(new Float32Array(0))).toThrow(/empty input/);
    const t = tf.zeros([2, 3, 1920]);
    expect(() => enc.forward(t)).toThrow(/shape \[T\], \[B, T\] or \[B, 1, T\]/);
    const ti = tf.zeros([1920], 'int32');
    expect(() => enc.forward(ti)).toThrow(/float32/);
    tf.dispose([t, ti]);
    s.dispose();
  });

  it('rejects weights of the wrong shape or missing, naming the tensor', () => {
    const t = tensors('lstm');
    const w = t.get('encoder.gEncoder.conv1.weight')!;
    const wrong: RawTensor = { dtype: 'F32', shape: [256, 256, 7], data: new Float32Array(256 * 256 * 7) };
    t.set('encoder.gEncoder.conv1.weight', wrong);
    expect(() => EncoderCPC.load(WeightStore.fromTensors(t))).toThrow(WeightError);
    expect(() => EncoderCPC.load(WeightStore.fromTensors(t))).toThrow(/encoder\.gEncoder\.conv1\.weight.*\[256,256,7\].*\[256,256,8\]/);
    t.set('encoder.gEncoder.conv1.weight', w);
    t.delete('downsample.2.ln.bias');
    expect(() => EncoderCPC.load(WeightStore.fromTensors(t))).toThrow(/missing tensor "downsample\.2\.ln\.bias"/);
  });

  it('batches: rows of a batch equal the rows encoded alone', () => {
    const a = new Float32Array(4000).map((_, i) => Math.sin(i / 5) * 0.3);
    const b = new Float32Array(4000).map((_, i) => Math.cos(i / 11) * 0.2);
    const both = tf.tensor2d([...a, ...b], [2, 4000]);
    const yab = enc.forward(both);
    const ya = enc.forward(a);
    const yb = enc.forward(b);
    const ab = yab.dataSync();
    const n = ya.size;
    const maxDiff = (x: ArrayLike<number>, off: number) => Math.max(...Array.from(x, (v, i) => Math.abs(v - ab[off + i])));
    expect(maxDiff(ya.dataSync(), 0)).toBeLessThan(1e-5);
    expect(maxDiff(yb.dataSync(), n)).toBeLessThan(1e-5);
    tf.dispose([both, yab, ya, yb]);
  });
});

describe('EncoderCPC gradients', () => {
  // tfjs-backend-wasm has no backprop kernels (Conv2DBackpropFilter...): training runs on cpu or tensorflow.
  beforeAll(async () => {
    await setBackend('cpu');
  });
  afterAll(async () => {
    await setBackend('wasm');
  });
  it('frozen: only the downsample is trainable; unfrozen: grads reach the conv and recurrent weights', () => {
    const enc = EncoderCPC.load(store('gru'));
    const wave = new Float32Array(enc.minSamples).map((_, i) => Math.sin(i / 9) * 0.3);
    const x = tf.tensor1d(wave);
    const loss = () => tf.mean(tf.square(enc.forward(x))) as tf.Scalar;
    expect(enc.isFrozen).toBe(true);
    const frozen = tf.variableGrads(loss);
    const frozenNames = Object.keys(frozen.grads);
    expect(frozenNames.some((n) => n.startsWith('downsample.1.weight'))).toBe(true);
    expect(frozenNames.some((n) => n.startsWith('encoder.'))).toBe(false);
    tf.dispose([frozen.value, ...Object.values(frozen.grads)]);

    enc.unfreeze();
    const { value, grads } = tf.variableGrads(loss);
    const names = Object.keys(grads);
    for (const want of ['encoder.gEncoder.conv0.weight', 'encoder.gEncoder.conv4.bias', 'encoder.gEncoder.batchNorm2.weight', 'encoder.gAR.baseNet.weight_ih_l0', 'encoder.gAR.baseNet.weight_hh_l0']) {
      const n = names.find((k) => k.startsWith(want + '#'));
      expect(n).toBeDefined();
      const g = grads[n!];
      expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    }
    tf.dispose([value, ...Object.values(grads), x]);
    enc.dispose();
  });
});
