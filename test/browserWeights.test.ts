/** The browser weights loader, run in Node: bytes of every format, format sniffing, fetch with progress. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { weightsFromBytes, loadWeights } from '../src/browser/loadWeights';
import { fetchBytes, FetchError } from '../src/browser/fetchBytes';
import { openWeights } from '../src/weights/store';
import { FormatError } from '../src/weights/types';
import { goldenPath } from './helpers/golden';

const bytesOf = (...p: string[]) => new Uint8Array(fs.readFileSync(goldenPath(...p)));

describe('weightsFromBytes', () => {
  it('reads safetensors, manifests and .pt files with the same tensors as openWeights', async () => {
    for (const [file, dir] of [
      ['mimi_tiny_weights.safetensors', 'weights'],
      ['cpc_lstm_manifest.json', 'weights'],
      ['mimi_tiny_state_dict_legacy.pt', 'pt'],
    ]) {
      const want = await openWeights(goldenPath(dir, file));
      // Once by name, once by content only (an ArrayBuffer from a drop or a fetch has no name).
      for (const store of [weightsFromBytes(bytesOf(dir, file), { label: file }), await loadWeights(bytesOf(dir, file).slice().buffer)]) {
        expect(store.names.sort()).toEqual(want.names.sort());
        const n = want.names[want.names.length - 1];
        expect(store.getArray(n)).toEqual(want.getArray(n));
      }
    }
  });

  it('names the file and the format it tried when the bytes are not weights', () => {
    expect(() => weightsFromBytes(new TextEncoder().encode('not weights at all'), { label: 'notes.safetensors' })).toThrow(FormatError);
    expect(() => weightsFromBytes(new TextEncoder().encode('not weights at all'), { label: 'notes.safetensors' })).toThrow(/notes\.safetensors: .*\(read as safetensors\)/);
    expect(() => weightsFromBytes(new TextEncoder().encode('{"a": 1'), { label: 'm.json' })).toThrow(/m\.json: not a JSON manifest/);
  });
});

describe('fetchBytes', () => {
  const body = bytesOf('weights', 'mimi_tiny_weights.safetensors');
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url !== '/w.safetensors') {
        res.writeHead(404, 'Not Found');
        return res.end();
      }
      res.writeHead(200, { 'Content-Length': String(body.length) });
      // Several chunks, so progress is reported more than once.
      for (let o = 0; o < body.length; o += 65536) res.write(body.subarray(o, o + 65536));
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('downloads with progress up to the announced size', async () => {
    const seen: number[] = [];
    const r = await fetchBytes(`${base}/w.safetensors`, { onProgress: (p) => seen.push(p.loaded) });
    expect(r.bytes).toEqual(body);
    expect(r.fromCache).toBe(false);
    expect(seen[seen.length - 1]).toBe(body.length);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1])).toBe(true);
    const store = await loadWeights(`${base}/w.safetensors`);
    expect(store.names).toHaveLength(55);
  });

  it('reports HTTP errors with the URL', async () => {
    await expect(fetchBytes(`${base}/missing.json`)).rejects.toThrow(FetchError);
    await expect(fetchBytes(`${base}/missing.json`)).rejects.toThrow(/missing\.json: HTTP 404/);
  });
});
