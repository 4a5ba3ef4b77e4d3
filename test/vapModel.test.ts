/** VapGPT against the golden-vap cases, from the stored VAP inputs x1, x2: every intermediate, offline and stepped. */
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../src/backend';
import { VapGPT, VapOutput, VAP_OUTPUT_NAMES, disposeOutput } from '../src/models/vap/vapModel';
import { vapConfigFor, inspectVapCheckpoint } from '../src/models/vap/vapConfig';
import { cacheLength, disposeCache, trimCache, VapCache } from '../src/models/vap/vapCache';
import { openWeights } from '../src/weights/store';
import { compareArrays } from '../src/parity/compare';
import { caseTensor, GoldenCase } from '../src/parity/goldenCase';
import { goldenVapCase, goldenVapPath } from './helpers/goldenVap';

beforeAll(async () => {
  await setBackend('wasm');
});

const OUT_NAMES = VAP_OUTPUT_NAMES;

async function loadModel(c: GoldenCase): Promise<VapGPT> {
  const store = await openWeights(goldenVapPath('weights', String(c.meta.vap_manifest)));
  return VapGPT.load(store, vapConfigFor(inspectVapCheckpoint(store), c.meta.frame_hz as number, c.meta.context_len_sec as number));
}

const input = (c: GoldenCase, name: string, from = 0, n?: number) => {
  const t = caseTensor(c, name);
  const T = n ?? t.shape[0] - from;
  return tf.tensor3d(t.data.subarray(from * 256, (from + T) * 256), [1, T, 256]);
};

/** Worst rel over every output tensor, against rows [from, from + rows.length) of the case. */
function expectRowsMatch(c: GoldenCase, rows: Record<string, Float32Array[]>, from: number): void {
  for (const [, ref] of OUT_NAMES) {
    const r = caseTensor(c, ref);
    const per = r.data.length / r.shape[0];
    const got = rows[ref];
    const refPart = r.data.subarray(from * per, (from + got.length) * per);
    const flat = new Float32Array(got.length * per);
    got.forEach((g, i) => flat.set(g, i * per));
    const cmp = compareArrays(flat, [got.length, ...r.shape.slice(1)], refPart, [got.length, ...r.shape.slice(1)]);
    if (!(cmp.rel <= 1e-4)) throw new Error(`${c.name} ${ref}: rel ${cmp.rel}`);
  }
}

function collect(out: VapOutput, rows: Record<string, Float32Array[]>, pick?: number): void {
  for (const [k, ref] of OUT_NAMES) {
    const t = out[k];
    const T = t.shape[1];
    const data = t.dataSync() as Float32Array;
    const per = data.length / T;
    for (let i = 0; i < T; i++) if (pick === undefined || pick === i) (rows[ref] ??= []).push(data.slice(i * per, (i + 1) * per));
  }
}

describe('VapGPT offline (one forward over all frames)', () => {
  for (const name of ['vap_cpc_offline_duo_short', 'vap_mimi_tiny_offline_duo_short']) {
    test(name, async () => {
      const c = goldenVapCase(name);
      const model = await loadModel(c);
      const x1 = input(c, 'x1');
      const x2 = input(c, 'x2');
      const { out, cache } = model.forward(x1, x2);
      const rows: Record<string, Float32Array[]> = {};
      collect(out, rows);
      disposeOutput(out);
      disposeCache(cache);
      tf.dispose([x1, x2]);
      expectRowsMatch(c, rows, 0);
      model.dispose();
    });
  }
});

describe('VapGPT.step (Maai cache + trim)', () => {
  test.each([
    ['vap_mimi_tiny_stream_duo_short', 1],
    ['vap_mimi_tiny_stream_n2_duo_long', 2],
  ])('%s', async (name, n) => {
    const c = goldenVapCase(name);
    const model = await loadModel(c);
    const T = caseTensor(c, 'x1').shape[0];
    const wantLen = Array.from(caseTensor(c, 'cache_len_after_step').data);
    let cache: VapCache | null = null;
    const rows: Record<string, Float32Array[]> = {};
    const lens: number[] = [];
    for (let s = 0; s * n < T; s++) {
      const x1 = input(c, 'x1', s * n, n);
      const x2 = input(c, 'x2', s * n, n);
      const r = model.step(x1, x2, cache);
      disposeCache(cache);
      cache = r.cache;
      lens.push(cacheLength(cache));
      collect(r.out, rows);
      disposeOutput(r.out);
      tf.dispose([x1, x2]);
    }
    expect(lens).toEqual(wantLen);
    expectRowsMatch(c, rows, 0);
    // The final cache equals state_final.
    for (const [key, t] of model.exportCache(cache!)) {
      const ref = caseTensor(c, `state_final.${key}`);
      const cmp = compareArrays(t.data as Float32Array, t.shape.slice(1), ref.data, ref.shape);
      expect(cmp.shape_ok).toBe(true);
      expect(cmp.rel).toBeLessThanOrEqual(1e-4);
    }
    disposeCache(cache);
    model.dispose();
  });
});

test("trimCache keeps the newest frames; keep 0 keeps everything (upstream's t[..., -0:, :])", () => {
  const kv = () => ({ k: tf.reshape(tf.range(0, 10), [2, 1, 5, 1]) as tf.Tensor4D, v: tf.reshape(tf.range(0, 10), [2, 1, 5, 1]) as tf.Tensor4D });
  const c = { ar: [kv()], self: [kv()], cross: [kv()] };
  expect(Array.from(trimCache(c, 2).cross[0].k.dataSync())).toEqual([3, 4, 8, 9]);
  expect(Array.from(trimCache(c, 0).ar[0].v.dataSync())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(cacheLength(trimCache(c, 7))).toBe(5);
});
