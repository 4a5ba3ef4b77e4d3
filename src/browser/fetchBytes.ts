/**
 * Downloads a file's bytes with progress, keeping a copy in the Cache API so a reload does not download again.
 * The cache is used when the page can reach it (`caches` exists in secure contexts: https or localhost).
 */
export interface FetchProgress {
  loaded: number;
  /** Content-Length when the server sent one, else null. */
  total: number | null;
  fromCache: boolean;
}

export interface FetchBytesOptions {
  onProgress?: (p: FetchProgress) => void;
  /** Cache API bucket name, or false to bypass the cache (default 'maai-encoder-v1'). */
  cache?: string | false;
  signal?: AbortSignal;
}

export class FetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FetchError';
  }
}

export const DEFAULT_CACHE = 'maai-encoder-v1';

function cacheStorage(): CacheStorage | null {
  return typeof caches !== 'undefined' ? caches : null;
}

/** Reads a response body chunk by chunk into one array, reporting progress. */
async function readBody(res: Response, url: string, fromCache: boolean, onProgress?: (p: FetchProgress) => void): Promise<Uint8Array> {
  const len = Number(res.headers.get('content-length'));
  const total = Number.isFinite(len) && len > 0 ? len : null;
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    onProgress?.({ loaded: bytes.length, total: bytes.length, fromCache });
    return bytes;
  }
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  let out: Uint8Array | null = total ? new Uint8Array(total) : null;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out && loaded + value.length <= out.length) out.set(value, loaded);
    else {
      if (out) parts.push(out.subarray(0, loaded));
      out = null;
      parts.push(value);
    }
    loaded += value.length;
    onProgress?.({ loaded, total, fromCache });
  }
  if (out) {
    if (loaded !== out.length) throw new FetchError(`${url}: got ${loaded} bytes, the server announced ${out.length} (interrupted download)`);
    return out;
  }
  const all = new Uint8Array(loaded);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

/** The bytes at `url`, from the cache when present there. Resolves with whether the cache answered. */
export async function fetchBytes(url: string, opts: FetchBytesOptions = {}): Promise<{ bytes: Uint8Array; fromCache: boolean }> {
  const abs = new URL(url, globalThis.location?.href).href;
  const store = opts.cache === false ? null : cacheStorage();
  const bucket = store ? await store.open(opts.cache || DEFAULT_CACHE).catch(() => null) : null;
  const hit = bucket ? await bucket.match(abs).catch(() => undefined) : undefined;
  if (hit) return { bytes: await readBody(hit, abs, true, opts.onProgress), fromCache: true };
  let res: Response;
  try {
    res = await fetch(abs, { signal: opts.signal });
  } catch (e) {
    throw new FetchError(`could not fetch ${abs}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new FetchError(`could not fetch ${abs}: HTTP ${res.status} ${res.statusText}`.trim());
  const bytes = await readBody(res, abs, false, opts.onProgress);
  if (bucket) {
    // A full quota or a private window must not fail the load: the bytes are already here.
    const headers = { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream', 'content-length': String(bytes.length) };
    await bucket.put(abs, new Response(bytes as Uint8Array<ArrayBuffer>, { headers })).catch(() => undefined);
  }
  return { bytes, fromCache: false };
}
