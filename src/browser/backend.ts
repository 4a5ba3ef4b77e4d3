/**
 * Backend selection in browsers: 'wasm' (SIMD; threads when the page is cross-origin isolated), 'webgl',
 * 'webgpu' (when the browser has an adapter) and 'cpu'. The wasm binaries are looked up beside the bundle
 * (dist/browser/*.wasm), so a page needs no configuration. The Node entry's selection is src/backend/index.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../backend/errors';
import { installWasmKernels } from '../backend/wasmKernels';

export type BrowserBackendName = 'wasm' | 'webgl' | 'webgpu' | 'cpu';
export const BROWSER_BACKENDS: readonly BrowserBackendName[] = ['wasm', 'webgl', 'webgpu', 'cpu'];

export interface BrowserBackendOptions {
  /**
   * wasm threads when the page is cross-origin isolated (default: half of navigator.hardwareConcurrency, 1..8).
   * Without isolation (no COOP/COEP headers) the single-threaded SIMD build runs.
   */
  threads?: number;
  /** Where the tfjs-wasm binaries are (a folder URL ending in '/'); default: the bundle's own folder. */
  wasmPaths?: string;
}

export interface BackendReport {
  backend: BrowserBackendName;
  /** wasm: threads in use (1 when the page is not cross-origin isolated) and whether SIMD is on. */
  threads?: number;
  simd?: boolean;
  crossOriginIsolated: boolean;
  /** webgl: the renderer (e.g. SwiftShader = software), float32 textures; webgpu: the adapter's description. */
  renderer?: string;
  float32?: boolean;
}

/** The folder of this bundle (the wasm binaries are copied there by the build). */
function bundleFolder(): string {
  return new URL('./', import.meta.url).href;
}

/** Why webgpu cannot run here, or null when an adapter exists. */
export async function webgpuUnavailableReason(): Promise<string | null> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return 'this browser has no WebGPU (navigator.gpu is undefined)';
  try {
    const adapter = await gpu.requestAdapter();
    return adapter ? null : 'WebGPU is present but the browser offers no adapter (no GPU, or WebGPU disabled)';
  } catch (e) {
    return `WebGPU adapter request failed: ${(e as Error).message}`;
  }
}

let wasmConfigured = false;

/** Selects and initialises a backend; resolves to a report of what runs (threads, renderer). */
export async function setBackend(name: BrowserBackendName = 'wasm', opts: BrowserBackendOptions = {}): Promise<BackendReport> {
  if (!BROWSER_BACKENDS.includes(name)) throw new BackendError(`unknown backend "${name}"; choose one of ${BROWSER_BACKENDS.join(', ')}`);
  const isolated = globalThis.crossOriginIsolated === true;
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmConfigured) {
      wasm.setWasmPaths(opts.wasmPaths ?? bundleFolder());
      const hw = globalThis.navigator?.hardwareConcurrency ?? 1;
      // Default as tfjs-wasm's own: half the logical cores, leaving the rest to the page (audio, drawing). On a
      // busy 2-core machine 2 threads measured ~5x slower per CPC call than 1 (workers spin for the cores).
      const threads = opts.threads ?? Math.max(1, Math.min(8, Math.floor(hw / 2)));
      if (!Number.isInteger(threads) || threads < 1 || threads > 8) throw new BackendError(`wasm threads must be an integer in 1..8, got ${threads}`);
      wasm.setThreadsCount(threads);
      // Read by the build's patch of tfjs-wasm's pool sizing (scripts/buildBrowser.mjs): without it a 2-core
      // machine gets 1 thread (tfjs uses at most half the logical cores).
      (globalThis as { __maaiWasmThreads?: number }).__maaiWasmThreads = threads;
      wasmConfigured = true;
    }
  } else if (name === 'webgl') {
    await import('@tensorflow/tfjs-backend-webgl');
  } else if (name === 'webgpu') {
    const why = await webgpuUnavailableReason();
    if (why) throw new BackendError(`backend "webgpu" cannot run: ${why}; choose wasm or webgl`);
    await import('@tensorflow/tfjs-backend-webgpu');
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new BackendError(`backend "${name}" failed to initialise: ${(e as Error).message}`);
  }
  if (!ok) throw new BackendError(`backend "${name}" failed to initialise (${name === 'webgl' ? 'no WebGL2 context' : 'see the console'})`);
  await tf.ready();
  if (name === 'webgpu') await checkSyncReads();
  const report: BackendReport = { backend: name, crossOriginIsolated: isolated };
  if (name === 'wasm') {
    installWasmKernels();
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    report.threads = wasm.getThreadsCount();
    report.simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  } else if (name === 'webgl') {
    report.renderer = webglRenderer();
    report.float32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
  } else if (name === 'webgpu') {
    const b = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } };
    const a = b.adapterInfo;
    report.renderer = a ? [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unknown adapter' : undefined;
  }
  return report;
}

/**
 * The encoders read results synchronously (dataSync). tfjs-webgpu does that through an OffscreenCanvas 'webgpu'
 * context, which some adapters get wrong while asynchronous reads are right (seen 2026-12-01 with headless
 * Chromium 156 on SwiftShader's WebGPU: every sync read wrong, every async read right). A known sum, read both
 * ways, tells which; a wrong sync read stops here with a message rather than giving wrong features later.
 */
async function checkSyncReads(): Promise<void> {
  // Large enough to span several rows of tfjs' 256 x 256 staging canvas (small reads came back right).
  const want = Array.from({ length: 4099 }, (_, i) => i * 0.5 + 1);
  const x = tf.tensor1d(want.map((v) => v - 1));
  const same = (vals: ArrayLike<number>) => vals.length === want.length && want.every((v, i) => vals[i] === v);
  const z = tf.add(x, 1);
  const y = tf.add(x, 1);
  try {
    // Asynchronous first: tfjs' synchronous path can break the WebGPU instance for later reads.
    let asyncOk: boolean;
    try {
      asyncOk = same(await z.data());
    } catch {
      asyncOk = false;
    }
    if (same(y.dataSync())) return;
    throw new BackendError(
      `backend "webgpu" gives wrong values when results are read synchronously on this adapter` +
        ` (${asyncOk ? 'asynchronous reads are right' : 'asynchronous reads fail too'}); the encoders read synchronously: choose wasm or webgl`,
    );
  } finally {
    tf.dispose([x, y, z]);
  }
}

function webglRenderer(): string | undefined {
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return undefined;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return undefined;
  }
}

export function currentBackend(): string {
  return tf.getBackend();
}
