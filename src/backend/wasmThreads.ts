/**
 * Multi-threaded wasm in Node. @tensorflow/tfjs-backend-wasm turns threads off under Node because it hands its
 * pthread workers blob: URLs, which Node's worker_threads cannot load. Here the 'wasm' backend is re-registered
 * with the package's own threaded SIMD build, given real files instead: the worker script is written once to a
 * cache folder, and the workers load the build from its installed path.
 *
 * Two numbers are baked into that build: it pre-spawns 8 workers, and it sizes its thread pool as
 * (logical cores / 2), capped by the requested count. Both are set from `threads` by editing the factory's
 * source before evaluating it (the edits are checked, and the version is pinned), so a 2-core machine gets
 * 2 threads and 2 workers. Kernels are the package's own; outputs are identical to the single-threaded build
 * (same XNNPACK kernels, work split by rows).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { createRequire } from 'node:module';

interface WasmModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  tfjs?: Record<string, (...a: number[]) => number>;
  PThread?: { unusedWorkers: Array<{ unref(): void }>; runningWorkers: Array<{ unref(): void }> };
}

type Factory = (cfg: Record<string, unknown>) => Promise<WasmModule>;

const FACTORY = 'tfjs-backend-wasm-threaded-simd.js';
const WORKER = 'tfjs-backend-wasm-threaded-simd.worker.js';

/** Replaces `find` exactly once in `src`, or throws: the threaded build is only patched where it is understood. */
function replaceOnce(src: string, find: string, by: string): string {
  const i = src.indexOf(find);
  if (i < 0 || src.indexOf(find, i + find.length) >= 0) throw new Error(`threaded wasm build: expected exactly one "${find}"`);
  return src.slice(0, i) + by + src.slice(i + find.length);
}

function writeOnce(file: string, contents: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === contents) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, contents);
  fs.renameSync(tmp, file);
}

/**
 * Builds the threaded wasm module with `threads` threads (checked by the caller: 1..8). `wasmOutDir` is the
 * package's wasm-out folder.
 * Resolves to the Emscripten module with the `tfjs` bindings BackendWasm expects.
 */
export async function createThreadedWasmModule(wasmOutDir: string, threads: number, version: string): Promise<WasmModule> {
  const factoryFile = path.join(wasmOutDir, FACTORY);
  const req = createRequire(factoryFile);
  let src = fs.readFileSync(factoryFile, 'utf8');
  src = replaceOnce(src, 'pthreadPoolSize=8;', `pthreadPoolSize=${threads};`);
  src = replaceOnce(src, 'return require("os").cpus().length', `return ${2 * threads}`);
  const wrapper = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${src}\n})`, { filename: factoryFile });
  const mod = { exports: {} as unknown };
  wrapper(mod.exports, req, mod, factoryFile, wasmOutDir);
  const factory = mod.exports as Factory;
  if (typeof factory !== 'function') throw new Error('threaded wasm build: the factory did not load');

  // The worker script as a file (upstream makes a blob: URL of it). Its newlines inside strings are escaped
  // the way upstream does before making the blob.
  const { wasmWorkerContents } = req(path.join(wasmOutDir, WORKER)) as { wasmWorkerContents: string };
  const workerFile = path.join(os.tmpdir(), `maai-encoder-tfjs-wasm-${version}`, 'worker.cjs');
  writeOnce(workerFile, wasmWorkerContents.replace(/\n/g, '\\n'));

  const module = await factory({
    locateFile: (p: string, prefix: string) => {
      if (p.endsWith('.worker.js')) return workerFile;
      if (p.endsWith('.wasm')) return path.join(wasmOutDir, 'tfjs-backend-wasm-threaded-simd.wasm');
      return prefix + p;
    },
    // What each worker evaluates to get the factory: the unpatched build is right for workers.
    mainScriptUrlOrBlob: factoryFile,
  });
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}
