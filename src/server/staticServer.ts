/**
 * A small static file server for the browser build: the bundle and pages from `root` at /, the files of
 * `dataDir` under /data/. Every response carries COOP/COEP (so the page is cross-origin isolated and wasm can
 * use threads) and CORP. GET and HEAD only; paths are confined to their folder; no directory listings.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.wav': 'audio/wav',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface StaticServerOptions {
  /** Folder served at / (the browser build, dist/browser). */
  root: string;
  /** Folder served at /data/ (weights, WAV files, golden cases). */
  dataDir?: string;
  /** Called once per request (method, path, status). */
  log?: (line: string) => void;
}

/** The file a URL path names inside `base`, or null when it escapes `base` or is malformed. */
export function resolveInside(base: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = path.resolve(base, '.' + path.posix.normalize('/' + decoded));
  const rel = path.relative(base, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return file;
}

export function createStaticServer(opts: StaticServerOptions): http.Server {
  const root = path.resolve(opts.root);
  const data = opts.dataDir ? path.resolve(opts.dataDir) : undefined;
  return http.createServer((req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : body + '\n');
      opts.log?.(`${req.method} ${req.url} ${status}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    const urlPath = (req.url ?? '/').split('?')[0].split('#')[0];
    let file: string | null;
    if (urlPath === '/data' || urlPath.startsWith('/data/')) {
      if (!data) return send(404, 'no data folder: start the server with --data DIR');
      file = resolveInside(data, urlPath.slice('/data'.length) || '/');
    } else {
      file = resolveInside(root, urlPath === '/' ? '/index.html' : urlPath);
    }
    if (!file) return send(400, 'bad path');
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return send(404, `not found: ${urlPath}`);
    }
    if (!st.isFile()) return send(404, `not a file: ${urlPath}`);
    res.writeHead(200, {
      ...ISOLATION_HEADERS,
      'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(st.size),
      'Cache-Control': 'no-cache',
    });
    opts.log?.(`${req.method} ${req.url} 200`);
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
}
