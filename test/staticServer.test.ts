/** The static server behind `maai-encoder serve`: isolation headers, content types, /data/, confinement. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createStaticServer, resolveInside } from '../src/server/staticServer';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maai-serve-'));
const root = path.join(tmp, 'root');
const data = path.join(tmp, 'data');
fs.mkdirSync(root);
fs.mkdirSync(path.join(data, 'weights'), { recursive: true });
fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html>demo');
fs.writeFileSync(path.join(root, 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
fs.writeFileSync(path.join(data, 'weights', 'w.safetensors'), new Uint8Array(100));
fs.writeFileSync(path.join(tmp, 'secret.txt'), 'TOP-SECRET-CONTENT');

let server: http.Server;
let base: string;
beforeAll(async () => {
  server = createStaticServer({ root, dataDir: data });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A raw GET (the path is sent as written, unlike fetch, which normalises "..") */
function get(p: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + '/', { method, path: p }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static server', () => {
  it('serves the demo at / with COOP/COEP (cross-origin isolation for wasm threads)', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('demo');
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
  });

  it('serves wasm as application/wasm and the data folder under /data/', async () => {
    expect((await get('/x.wasm')).headers['content-type']).toBe('application/wasm');
    const w = await get('/data/weights/w.safetensors');
    expect(w.status).toBe(200);
    expect(w.headers['content-length']).toBe('100');
    expect(w.headers['cross-origin-embedder-policy']).toBe('require-corp');
  });

  it('never leaves its folders', async () => {
    for (const p of ['/../secret.txt', '/data/../../secret.txt', '/%2e%2e/secret.txt', '/data/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt', '/data/..%5c..%5csecret.txt']) {
      const r = await get(p);
      expect(r.body).not.toContain('TOP-SECRET-CONTENT');
      expect([400, 404]).toContain(r.status);
    }
    expect(resolveInside(root, '/%00')).toBeNull();
    expect(resolveInside(root, '/%E0%A4%A')).toBeNull();
  });

  it('answers 404 for missing files and folders, 405 for other methods', async () => {
    expect((await get('/nope.js')).status).toBe(404);
    expect((await get('/data/weights')).status).toBe(404);
    expect((await get('/index.html', 'POST')).status).toBe(405);
    expect((await get('/index.html', 'HEAD')).status).toBe(200);
  });

  it('says how to get a /data/ folder when started without one', async () => {
    const s = createStaticServer({ root });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/data/x`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/--data DIR/);
    await new Promise((r) => s.close(r));
  });
});

describe('maai-encoder serve', () => {
  const CLI = path.join(__dirname, '..', 'bin', 'maai-encoder.js');
  const { spawn, spawnSync } = require('node:child_process') as typeof import('node:child_process');

  it('exits 2 with one line on bad usage', () => {
    for (const args of [['--port', 'abc'], ['--port', '70000'], ['--data', path.join(tmp, 'no-such-dir')], ['extra'], ['--root', tmp]]) {
      const r = spawnSync(process.execPath, [CLI, 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('serves the built bundle and the data folder on 127.0.0.1', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--quiet', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d) => {
          out += d;
          const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
          if (m) resolve(m[0]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(await page.text()).toContain('demo.js');
      expect((await fetch(url + 'maai-encoder.js')).headers.get('content-type')).toMatch(/javascript/);
      expect((await fetch(url + 'tfjs-backend-wasm-simd.wasm')).headers.get('content-type')).toBe('application/wasm');
      expect((await fetch(url + 'data/weights/w.safetensors')).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
