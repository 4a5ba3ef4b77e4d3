/**
 * Backend selection. 'auto' (the default) picks the native TensorFlow backend when it is installed and loads,
 * else 'wasm' (SIMD, installs without downloads); 'cpu' is pure JS; 'tensorflow' and 'cuda' use
 * @tensorflow/tfjs-node(-gpu), installed by `maai-encoder setup-backend` or npm and loaded only when chosen;
 * 'webgl' / 'webgpu' are for browsers (their packages must be imported by the page).
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered so tf.grad reaches encoder weights when they are unfrozen.
import './gradients';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackendError } from './errors';
import { NATIVE_PACKAGES, NativeBackend, nativeHostDir, resolveNative } from './nativeHost';
import { withStderrSilenced } from './stderrGuard';
import { hereRequire, resolvePackage } from './resolvePackage';

export { BackendError } from './errors';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow' | 'cuda' | 'webgl' | 'webgpu';
export const BACKENDS: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow', 'cuda', 'webgl', 'webgpu'];
/** What setBackend accepts: a backend, or 'auto' (see chooseAutoBackend). */
export type BackendChoice = BackendName | 'auto';

const PEER_PACKAGES: Record<string, string> = {
  ...NATIVE_PACKAGES,
  webgl: '@tensorflow/tfjs-backend-webgl',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
};

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Reports which backends can be used in this process (without initialising them). */
export function availableBackends(): Record<BackendName, { available: boolean; package: string; note?: string }> {
  const out = {} as Record<BackendName, { available: boolean; package: string; note?: string }>;
  out.wasm = { available: resolvePackage('@tensorflow/tfjs-backend-wasm') !== null, package: '@tensorflow/tfjs-backend-wasm' };
  out.cpu = { available: resolvePackage('@tensorflow/tfjs-backend-cpu') !== null, package: '@tensorflow/tfjs-backend-cpu' };
  for (const b of ['tensorflow', 'cuda'] as const) {
    const r = isNode ? resolveNative(b) : null;
    out[b] = { available: r !== null, package: PEER_PACKAGES[b], note: r ? (r.where === 'setup-backend' ? 'installed by setup-backend' : undefined) : `maai-encoder setup-backend tensorflow${b === 'cuda' ? ' --gpu' : ''}` };
  }
  for (const b of ['webgl', 'webgpu'] as const) {
    const pkg = PEER_PACKAGES[b];
    out[b] = { available: !isNode && resolvePackage(pkg) !== null, package: pkg, note: isNode ? 'browser only' : undefined };
  }
  return out;
}

export interface BackendOptions {
  /**
   * wasm threads (Node): default MAAI_WASM_THREADS or the number of CPUs (max 8); 1 = the single-threaded
   * SIMD build. Applies when the wasm backend is first initialised in the process.
   * tensorflow / cuda: TensorFlow's intra-op thread pool (TF_NUM_INTRAOP_THREADS; default: TensorFlow's own,
   * the CPU count). Applies when the native library is first loaded in the process.
   */
  threads?: number;
  /** tensorflow / cuda: keep TensorFlow's own log lines on stderr (default off: TF_CPP_MIN_LOG_LEVEL=2). */
  verbose?: boolean;
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

let nativeLoaded: NativeBackend | null = null;
let nativeThreads: number | undefined;

/**
 * Loads tfjs-node(-gpu) into this process: from the project, or where setup-backend put it. TensorFlow's
 * environment (log level, threads) is read when its library loads, so it is set first.
 */
function loadNative(name: NativeBackend, opts: BackendOptions): void {
  if (nativeLoaded === name) return;
  if (nativeLoaded) throw new BackendError(`backend "${nativeLoaded}" is already loaded in this process; "${name}" needs a new process`);
  const r = resolveNative(name);
  if (!r) {
    throw new BackendError(
      `backend "${name}" needs ${PEER_PACKAGES[name]}, which is not installed: run \`npx maai-encoder setup-backend tensorflow${name === 'cuda' ? ' --gpu' : ''}\`` +
        ` (builds it offline from a TensorFlow wheel) or \`npm install ${PEER_PACKAGES[name]}\` (downloads libtensorflow)`,
    );
  }
  const env = process.env;
  if (!opts.verbose && !env.MAAI_VERBOSE && env.TF_CPP_MIN_LOG_LEVEL === undefined) env.TF_CPP_MIN_LOG_LEVEL = '2';
  if (opts.threads !== undefined) {
    if (!isValidNativeThreads(opts.threads)) throw new BackendError(`tensorflow threads must be a positive integer, got ${opts.threads}`);
    env.TF_NUM_INTRAOP_THREADS = String(opts.threads);
  }
  try {
    // TensorFlow's one log line at load, before its log level applies, is dropped unless verbose.
    const quiet = !opts.verbose && !env.MAAI_VERBOSE && r.where === 'setup-backend' && env.TF_CPP_MIN_LOG_LEVEL !== '0';
    if (quiet) withStderrSilenced(nativeHostDir(name)!, () => hereRequire()(r.entry));
    else hereRequire()(r.entry);
  } catch (e) {
    throw new BackendError(`backend "${name}": ${PEER_PACKAGES[name]} (${r.entry}) failed to load: ${((e as Error).message || String(e)).split('\n')[0]}`);
  }
  nativeLoaded = name;
  nativeThreads = env.TF_NUM_INTRAOP_THREADS ? Number(env.TF_NUM_INTRAOP_THREADS) : undefined;
}

function isValidNativeThreads(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 1024;
}

/** The TensorFlow intra-op threads asked for (TF_NUM_INTRAOP_THREADS), or undefined for TensorFlow's default. */
export function tensorflowThreads(): number | undefined {
  return nativeThreads;
}

/** The backend 'auto' picks in this process, and why. */
export interface AutoChoice {
  backend: BackendName;
  reason: string;
}

/**
 * 'auto': in Node, cuda when @tensorflow/tfjs-node-gpu is installed and loads, else tensorflow when
 * @tensorflow/tfjs-node is installed and loads (its big convolutions and products run several times faster than
 * wasm's), else wasm; in browsers, wasm. Loading is tried once per process; a failed load is the reason given.
 */
export function chooseAutoBackend(opts: BackendOptions = {}): AutoChoice {
  if (!isNode) return { backend: 'wasm', reason: 'browser: wasm' };
  if (nativeLoaded) return { backend: nativeLoaded, reason: `${PEER_PACKAGES[nativeLoaded]} is loaded` };
  const failures: string[] = [];
  for (const b of ['cuda', 'tensorflow'] as const) {
    const r = resolveNative(b);
    if (!r) continue;
    try {
      loadNative(b, opts);
      return { backend: b, reason: `${PEER_PACKAGES[b]} is installed${r.where === 'setup-backend' ? ' (by setup-backend)' : ''} and loads` };
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  if (failures.length) return { backend: 'wasm', reason: `${failures.join('; ')}; using wasm` };
  return { backend: 'wasm', reason: 'neither @tensorflow/tfjs-node nor @tensorflow/tfjs-node-gpu is installed (maai-encoder setup-backend tensorflow); using wasm' };
}

/** The backend asked for when none is named: MAAI_BACKEND, else 'auto'. */
export function defaultBackendChoice(): BackendChoice {
  const env = typeof process !== 'undefined' ? process.env.MAAI_BACKEND : undefined;
  if (env === undefined || env === '') return 'auto';
  if (env !== 'auto' && !BACKENDS.includes(env as BackendName)) {
    throw new BackendError(`MAAI_BACKEND must be auto or one of ${BACKENDS.join(', ')}, got "${env}"`);
  }
  return env as BackendChoice;
}

let lastAuto: AutoChoice | undefined;

/** Why the last setBackend('auto') chose what it did (undefined if 'auto' was not used). */
export function lastAutoChoice(): AutoChoice | undefined {
  return lastAuto;
}

/**
 * Selects and initialises a tfjs backend; resolves to the backend's name. Default: MAAI_BACKEND, else 'auto'
 * (see chooseAutoBackend).
 */
export async function setBackend(choice: BackendChoice = defaultBackendChoice(), opts: BackendOptions = {}): Promise<BackendName> {
  if (choice !== 'auto' && !BACKENDS.includes(choice)) {
    throw new BackendError(`unknown backend "${choice}"; choose auto or one of ${BACKENDS.join(', ')}`);
  }
  let name: BackendName;
  if (choice === 'auto') {
    lastAuto = chooseAutoBackend(opts);
    name = lastAuto.backend;
  } else name = choice;
  if (name === 'wasm') await registerWasm(opts);
  else if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  else if (name === 'webgl' || name === 'webgpu') {
    if (isNode) throw new BackendError(`backend "${name}" runs only in browsers; in Node use wasm, cpu, tensorflow or cuda`);
    if (!tf.findBackendFactory(name)) throw new BackendError(`backend "${name}" is not registered: import ${PEER_PACKAGES[name]} in the page first`);
  } else loadNative(name, opts);
  const tfName = name === 'cuda' ? 'tensorflow' : name;
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new BackendError(`backend "${name}" failed to initialise`);
  if (name === 'wasm') (await import('./wasmKernels')).installWasmKernels();
  if (name === 'tensorflow' || name === 'cuda') (await import('./tensorflowKernels')).installTensorflowKernels();
  await tf.ready();
  return name;
}

export function currentBackend(): string {
  return tf.getBackend();
}
