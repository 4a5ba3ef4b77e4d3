// Builds the browser bundle into dist/browser/: maai-encoder.js (the library, ESM) and the page scripts
// (demo, parity, bench) as entry points sharing chunks (one tfjs engine per page), mic-worklet.js (the
// AudioWorklet), the tfjs-wasm binaries (found beside the bundle without configuration), the HTML pages.
// Node built-ins reached by Node-only functions (openWeights, SafetensorsFile.open, ...) resolve to stubs
// that throw a clear error if called; the bundle imports no Node module (checked below).
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'browser');

const NODE_STUBS = {
  fs: ['existsSync', 'openSync', 'fstatSync', 'readSync', 'closeSync', 'readFileSync', 'writeFileSync', 'rmSync', 'realpathSync', 'readdirSync', 'mkdirSync', 'statSync', 'renameSync', 'writeSync', 'unlinkSync'],
  path: ['join', 'basename', 'dirname', 'resolve', 'extname', 'relative', 'sep'],
  os: ['cpus', 'availableParallelism', 'tmpdir'],
  module: ['createRequire'],
  vm: ['runInThisContext', 'Script'],
  url: ['fileURLToPath', 'pathToFileURL'],
};

const nodeStubs = {
  name: 'node-builtins-stub',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path.slice(5), namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, (a) => {
      const names = NODE_STUBS[a.path];
      if (!names) return { errors: [{ text: `browser build: node:${a.path} has no stub (a browser-reachable module imports it)` }] };
      const fail = `(n) => { const f = () => { throw new Error('node:${a.path}.' + n + ' is not available in the browser build (a Node-only function was called)'); }; return f; }`;
      const body = names.map((n) => (n === 'sep' ? `export const sep = '/';` : `export const ${n} = stub('${n}');`)).join('\n');
      return { contents: `const stub = ${fail};\n${body}\n`, loader: 'js' };
    });
  },
};

// tfjs-wasm's threaded build sizes its thread pool as min(requested, logical cores / 2), so a 2-core machine
// gets 1 thread whatever is asked. The page's request (globalThis.__maaiWasmThreads, set by setBackend) is
// reported as half the core count instead; the pool is still capped by the requested count.
const CORES = 'return navigator["hardwareConcurrency"]';
const wasmThreadCount = {
  name: 'wasm-thread-count',
  setup(b) {
    b.onLoad({ filter: /tfjs-backend-wasm-threaded-simd\.js$/ }, (a) => {
      const src = fs.readFileSync(a.path, 'utf8');
      if (src.split(CORES).length !== 2) throw new Error(`browser build: ${a.path} changed: expected one "${CORES}"`);
      return { contents: src.replace(CORES, 'return 2*(globalThis.__maaiWasmThreads||navigator["hardwareConcurrency"]/2)'), loader: 'js' };
    });
  },
};

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['chrome113', 'firefox115', 'safari16'],
  sourcemap: true,
  minify: true,
  legalComments: 'linked',
  plugins: [nodeStubs, wasmThreadCount],
  logLevel: 'warning',
};

const result = await build({
  ...common,
  metafile: true,
  entryPoints: {
    'maai-encoder': 'src/browser/index.ts',
    demo: 'src/browser/pages/demo.ts',
    parity: 'src/browser/pages/parity.ts',
    bench: 'src/browser/pages/bench.ts',
  },
  splitting: true,
  chunkNames: 'chunk-[hash]',
  outdir: out,
  absWorkingDir: root,
});
await build({ ...common, entryPoints: ['src/browser/worklet/micProcessor.ts'], outfile: path.join(out, 'mic-worklet.js'), absWorkingDir: root });

const wasmDir = path.join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
for (const f of fs.readdirSync(wasmDir)) if (f.endsWith('.wasm')) fs.copyFileSync(path.join(wasmDir, f), path.join(out, f));
const pages = path.join(root, 'src', 'browser', 'pages');
for (const f of fs.readdirSync(pages)) if (/\.(html|css)$/.test(f)) fs.copyFileSync(path.join(pages, f), path.join(out, f));

// The bundle must not import Node modules: a stray `import "node:..."` would fail in every browser.
for (const f of fs.readdirSync(out)) {
  if (!f.endsWith('.js')) continue;
  const text = fs.readFileSync(path.join(out, f), 'utf8');
  const m = text.match(/(?:from|import)\s*\(?\s*["'](node:[^"']+|fs|path|os|module|worker_threads)["']/);
  if (m) throw new Error(`browser build: ${f} imports the Node module "${m[1]}"`);
}

// Sizes: what a page loads for the library itself, and what each backend adds when chosen (dynamic chunks).
const outputs = result.metafile.outputs;
const key = (f) => path.relative(root, path.join(out, f)).split(path.sep).join('/');
function closure(start) {
  const seen = new Set();
  const visit = (k) => {
    if (seen.has(k) || !outputs[k]) return;
    seen.add(k);
    for (const i of outputs[k].imports) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(start);
  return seen;
}
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
const size = (set) => [...set].reduce((a, k) => a + outputs[k].bytes, 0);
const base = closure(key('maai-encoder.js'));
const parts = [`maai-encoder.js with its static chunks ${kb(size(base))}`];
for (const [name, pkg] of [['wasm', 'tfjs-backend-wasm'], ['webgl', 'tfjs-backend-webgl'], ['webgpu', 'tfjs-backend-webgpu']]) {
  const entry = Object.keys(outputs).find((k) => outputs[k].entryPoint?.includes(`${pkg}/`));
  if (entry) parts.push(`${name} +${kb(size(new Set([...closure(entry)].filter((k) => !base.has(k)))))}`);
}
if (process.env.MAAI_BUILD_QUIET !== '1') console.log(`browser bundle (minified JS, dist/browser): ${parts.join(', ')}; wasm binaries ${kb(fs.statSync(path.join(out, 'tfjs-backend-wasm-threaded-simd.wasm')).size)} (threaded SIMD) / ${kb(fs.statSync(path.join(out, 'tfjs-backend-wasm-simd.wasm')).size)} (SIMD)`);
