/**
 * Backend selection. 'wasm' is the Node default (SIMD, installs without downloads); 'cpu' is pure JS;
 * 'tensorflow' and 'cuda' use the optional peer dependencies @tensorflow/tfjs-node(-gpu), loaded only when
 * asked for; 'webgl' / 'webgpu' are for browsers (their packages must be imported by the page).
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered so tf.grad reaches encoder weights when they are unfrozen.
import './gradients';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow' | 'cuda' | 'webgl' | 'webgpu';
export const BACKENDS: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow', 'cuda', 'webgl', 'webgpu'];

export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

const PEER_PACKAGES: Record<string, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  cuda: '@tensorflow/tfjs-node-gpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
};

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

function localRequire(): NodeRequire {
  // Works from CommonJS (jest) and from the ESM bundle alike.
  return createRequire(path.join(process.cwd(), 'noop.js'));
}

function resolvePackage(name: string): string | null {
  for (const req of [localRequire(), createRequireFromHere()]) {
    try {
      return req.resolve(name);
    } catch {
      /* try the next */
    }
  }
  return null;
}

function createRequireFromHere(): NodeRequire {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const g: any = globalThis as any;
  if (typeof g.__maaiRequire === 'function') return g.__maaiRequire;
  try {
    // CommonJS (jest): `require` exists.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return typeof require === 'function' ? require : localRequire();
  } catch {
    return localRequire();
  }
}

/** Reports which backends can be used in this process (without initialising them). */
export function availableBackends(): Record<BackendName, { available: boolean; package: string; note?: string }> {
  const out = {} as Record<BackendName, { available: boolean; package: string; note?: string }>;
  out.wasm = { available: resolvePackage('@tensorflow/tfjs-backend-wasm') !== null, package: '@tensorflow/tfjs-backend-wasm' };
  out.cpu = { available: resolvePackage('@tensorflow/tfjs-backend-cpu') !== null, package: '@tensorflow/tfjs-backend-cpu' };
  for (const b of ['tensorflow', 'cuda', 'webgl', 'webgpu'] as const) {
    const pkg = PEER_PACKAGES[b];
    const browserOnly = (b === 'webgl' || b === 'webgpu') && isNode;
    out[b] = {
      available: !browserOnly && resolvePackage(pkg) !== null,
      package: pkg,
      note: browserOnly ? 'browser only' : undefined,
    };
  }
  return out;
}

export interface BackendOptions {
  /**
   * wasm threads (Node): default MAAI_WASM_THREADS or the number of CPUs (max 8); 1 = the single-threaded
   * SIMD build. Applies when the wasm backend is first initialised in the process.
   */
  threads?: number;
}

let wasmRegistered = false;
let wasmThreadsWanted = 1;
let wasmThreadsNote: string | undefined;

/** The wasm thread counts this package can run: integers 1..8 (the threaded build pre-spawns at most 8 workers). */
export function isValidWasmThreads(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 8;
}

/** Threads the wasm backend was asked for by default: MAAI_WASM_THREADS, else the CPU count (1..8). */
export function defaultWasmThreads(): number {
  const env = typeof process !== 'undefined' ? process.env.MAAI_WASM_THREADS : undefined;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!isValidWasmThreads(n)) throw new BackendError(`MAAI_WASM_THREADS must be an integer in 1..8, got "${env}"`);
    return n;
  }
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, cpus));
}

async function registerWasm(opts: BackendOptions): Promise<void> {
  if (wasmRegistered) return;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (isNode) {
    const entry = resolvePackage('@tensorflow/tfjs-backend-wasm');
    if (!entry) throw new BackendError('backend "wasm" needs @tensorflow/tfjs-backend-wasm: npm install @tensorflow/tfjs-backend-wasm');
    const dir = path.dirname(entry) + path.sep;
    wasm.setWasmPaths(dir);
    const threads = opts.threads ?? defaultWasmThreads();
    if (!isValidWasmThreads(threads)) throw new BackendError(`wasm threads must be an integer in 1..8, got ${threads}`);
    if (threads > 1) {
      const original = tf.findBackendFactory('wasm');
      const wasmOut = path.join(path.dirname(entry), '..', 'wasm-out');
      tf.removeBackend('wasm');
      wasm.setThreadsCount(threads);
      tf.registerBackend(
        'wasm',
        async () => {
          try {
            const { createThreadedWasmModule } = await import('./wasmThreads');
            const module = await createThreadedWasmModule(wasmOut, threads, wasm.version_wasm);
            const backend = new wasm.BackendWasm(module as never);
            // The thread pool's workers must not keep the process alive (emscripten refs them when they start).
            for (const w of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) w.unref();
            return backend;
          } catch (e) {
            // Threads are an optimisation: fall back to the single-threaded SIMD build, and say why.
            wasmThreadsNote = `wasm threads unavailable (${(e as Error).message}); using 1 thread`;
            process.stderr.write(`maai-encoder-tfjs: ${wasmThreadsNote}\n`);
            return original!();
          }
        },
        2,
      );
      wasmThreadsWanted = threads;
    }
  }
  wasmRegistered = true;
}

/** Threads the wasm backend runs with (1 when single-threaded or not initialised), and why, if fewer than asked. */
export async function wasmThreads(): Promise<{ threads: number; requested: number; note?: string }> {
  if (tf.getBackend() !== 'wasm') return { threads: 1, requested: wasmThreadsWanted, note: 'wasm backend not active' };
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  let threads = 1;
  try {
    threads = wasm.getThreadsCount();
  } catch {
    threads = 1;
  }
  return { threads, requested: wasmThreadsWanted, note: wasmThreadsNote };
}

async function requirePeer(name: BackendName): Promise<void> {
  const pkg = PEER_PACKAGES[name];
  if (resolvePackage(pkg) === null) {
    throw new BackendError(
      `backend "${name}" needs the optional package ${pkg}, which is not installed: run \`npm install ${pkg}\`` +
        (name === 'tensorflow' || name === 'cuda' ? ' (it downloads the TensorFlow C library at install time)' : ''),
    );
  }
  await import(pkg);
}

/** Selects and initialises a tfjs backend; resolves to the backend's name. */
export async function setBackend(name: BackendName = 'wasm', opts: BackendOptions = {}): Promise<BackendName> {
  if (!BACKENDS.includes(name)) {
    throw new BackendError(`unknown backend "${name}"; choose one of ${BACKENDS.join(', ')}`);
  }
  if (name === 'wasm') await registerWasm(opts);
  else if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  else if ((name === 'webgl' || name === 'webgpu') && isNode) {
    throw new BackendError(`backend "${name}" runs only in browsers; in Node use wasm, cpu, tensorflow or cuda`);
  } else await requirePeer(name);
  const tfName = name === 'cuda' ? 'tensorflow' : name;
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new BackendError(`backend "${name}" failed to initialise`);
  if (name === 'wasm') (await import('./wasmKernels')).installWasmKernels();
  await tf.ready();
  return name;
}

export function currentBackend(): string {
  return tf.getBackend();
}
