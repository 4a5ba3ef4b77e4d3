/**
 * Installs the native TensorFlow backend (@tensorflow/tfjs-node, or -gpu) without network beyond the npm
 * registry: the npm package with its install script off, libtensorflow and the C headers taken from a
 * TensorFlow Python wheel, the addon built from source against the local Node headers, then a load test in a
 * child process. Each step is skipped when its result is already there (a stamp records the inputs).
 *
 * The wheel's `libtensorflow_cc.so.2` exports the TF_* / TFE_* C API the addon calls; the addon links
 * `-ltensorflow -ltensorflow_framework`, so deps/lib gets `libtensorflow.so` and `libtensorflow_framework.so`
 * as links to the wheel's libraries (and the `libtensorflow.so.<version>` marker tfjs-node's own install script
 * looks for, so an `npm rebuild` does not try to download).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { BackendError } from './errors';
import { NATIVE_PACKAGES, NativeBackend, hostedPackageDir, nativeHostDir, tfjsCoreNodeModules } from './nativeHost';
import { resolvePackage } from './resolvePackage';
import { extractZipEntry, listZip, readZipEntry, ZipEntry } from './zipArchive';
import { STDERR_GUARD_FILE, buildStderrGuard } from './stderrGuard';
import { BINDING_PATCH_VERSION, patchBinding } from './bindingPatch';

export class SetupError extends BackendError {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

export interface SetupOptions {
  /** cuda: @tensorflow/tfjs-node-gpu with a GPU TensorFlow wheel (unverified: no GPU machine was available). */
  gpu?: boolean;
  /** A TensorFlow wheel (.whl). Default: the newest one found by findWheels(). */
  wheel?: string;
  /** Use tfjs-node's own install script (downloads libtensorflow from storage.googleapis.com) when no wheel is given or found. */
  download?: boolean;
  /** Redo every step. */
  force?: boolean;
  /** The node_modules folder to install beside (default: the one holding this package's tfjs-core). */
  nodeModules?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SetupResult {
  backend: NativeBackend;
  host: string;
  addon: string;
  wheel?: string;
  /** Steps that were already done. */
  skipped: string[];
  /** What the load test printed: tfjs-node's version and the TensorFlow library's. */
  loaded: { tfjsNode: string; tensorflow: string };
}

/** Wheel file names: tensorflow_cpu (CPU only) or tensorflow (CUDA-capable on Linux), for linux x86_64. */
const WHEEL_RE = /^(tensorflow|tensorflow_cpu)-(\d+)\.(\d+)\.(\d+)[^-]*-[^-]+-[^-]+-([^-]*linux[^-]*_x86_64)\.whl$/;

/** Folders searched for TensorFlow wheels when --wheel is not given. */
export function wheelSearchDirs(): string[] {
  const home = os.homedir();
  const dirs = [
    ...(process.env.MAAI_WHEEL_DIR ? process.env.MAAI_WHEEL_DIR.split(path.delimiter) : []),
    ...(process.env.PIP_FIND_LINKS ? process.env.PIP_FIND_LINKS.split(/\s+/).filter((d) => d && !/^https?:/.test(d)) : []),
    '/opt/pypi/files',
    path.join(home, 'wheelhouse'),
    path.join(home, '.cache', 'pip', 'wheels'),
    path.join(home, '.cache', 'pypoetry', 'artifacts'),
    path.join(home, '.cache', 'uv', 'wheels-v0'),
    '/wheels',
  ];
  return [...new Set(dirs)];
}

/** TensorFlow wheels under the search folders (at most 4 folder levels deep), newest version first. */
export function findWheels(gpu: boolean, dirs = wheelSearchDirs()): string[] {
  const found: { file: string; v: number[] }[] = [];
  const walk = (dir: string, depth: number) => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      const full = path.join(dir, d.name);
      if (d.isDirectory() && depth < 4) walk(full, depth + 1);
      else if (d.isFile()) {
        const m = WHEEL_RE.exec(d.name);
        if (m && (gpu ? m[1] === 'tensorflow' : true)) found.push({ file: full, v: [Number(m[2]), Number(m[3]), Number(m[4]), m[1] === 'tensorflow_cpu' ? 1 : 0] });
      }
    }
  };
  for (const d of dirs) walk(d, 0);
  found.sort((a, b) => b.v[0] - a.v[0] || b.v[1] - a.v[1] || b.v[2] - a.v[2] || b.v[3] - a.v[3]);
  return [...new Set(found.map((f) => f.file))];
}

function glibcVersion(): string | null {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r = (process.report?.getReport() as any)?.header?.glibcVersionRuntime;
  return typeof r === 'string' ? r : null;
}

function versionLess(a: string, b: string): boolean {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; logFile: string; what: string }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  fs.appendFileSync(opts.logFile, `\n$ ${cmd} ${args.join(' ')}  (in ${opts.cwd})\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}\n`);
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new SetupError(`${opts.what}: \`${cmd}\` not found; install it (it is needed to ${opts.what})`);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    throw new SetupError(`${opts.what} failed (exit ${r.status}): ${tail} (full log: ${opts.logFile})`);
  }
  return r;
}

/** The npm command line: the npm running us (npm_execpath) or `npm` on PATH. */
function npmCommand(): { cmd: string; pre: string[] } {
  const ex = process.env.npm_execpath;
  if (ex && /npm-cli\.js$/.test(ex) && fs.existsSync(ex)) return { cmd: process.execPath, pre: [ex] };
  return { cmd: 'npm', pre: [] };
}

/** node-gyp: npm's bundled copy (beside the running npm or the node executable), else none (node-pre-gyp looks on its own). */
function nodeGypPath(): string | undefined {
  const cands: string[] = [];
  if (process.env.npm_config_node_gyp) cands.push(process.env.npm_config_node_gyp);
  const ex = process.env.npm_execpath;
  if (ex) cands.push(path.join(path.dirname(ex), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  cands.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return cands.find((c) => fs.existsSync(c));
}

/** A folder with this Node's headers (include/node/node_api.h), for node-gyp --nodedir, or null. */
export function nodeHeadersDir(): string | null {
  const cands = [
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), '..'),
    path.join(os.homedir(), '.cache', 'node-gyp', process.versions.node),
    '/usr',
    '/usr/local',
  ].filter((d): d is string => !!d);
  for (const d of cands) {
    if (fs.existsSync(path.join(d, 'include', 'node', 'node_api.h')) && fs.existsSync(path.join(d, 'include', 'node', 'common.gypi'))) return d;
  }
  return null;
}

function which(cmd: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, cmd)));
}

/**
 * The N-API version tfjs-node loads its addon for (node-pre-gyp's choice: the highest of package.json's
 * binary.napi_versions that this Node supports); only that one is built.
 */
function napiBuildVersion(pkgDir: string): number {
  const listed = readJson<{ binary?: { napi_versions?: number[] } }>(path.join(pkgDir, 'package.json'))?.binary?.napi_versions ?? [];
  const mine = Number(process.versions.napi);
  const ok = listed.filter((v) => v <= mine);
  if (!ok.length) throw new SetupError(`this Node's N-API version ${mine} is older than any the addon supports (${listed.join(', ')}): use Node >= 20`);
  return Math.max(...ok);
}

/** The built addon (lib/napi-vN/tfjs_binding.node) in the tfjs-node folder, or null. */
function findAddon(pkgDir: string): string | null {
  const f = path.join(pkgDir, 'lib', `napi-v${napiBuildVersion(pkgDir)}`, 'tfjs_binding.node');
  return fs.existsSync(f) ? f : null;
}

/** Every header the addon needs: the closure of the quoted includes of the binding's TensorFlow headers. */
function headerClosure(wheel: string, byName: Map<string, ZipEntry>, prefix: string, roots: string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const todo = [...roots];
  while (todo.length) {
    const h = todo.pop()!;
    if (out.has(h)) continue;
    const e = byName.get(prefix + h);
    if (!e) continue; // a system or optional header: the compiler reports it if it is really needed
    const text = readZipEntry(wheel, e);
    out.set(h, text);
    for (const m of text.toString('utf8').matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)) todo.push(m[1]);
  }
  return out;
}

/** Fills tfjs-node's deps/ (lib + include) from the wheel. */
async function fillDeps(wheel: string, pkgDir: string, log: (l: string) => void): Promise<void> {
  const entries = listZip(wheel);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const libs = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'];
  for (const l of libs) if (!byName.has(l)) throw new SetupError(`${wheel} has no ${l}: not a TensorFlow 2.x Linux wheel (use tensorflow or tensorflow-cpu >= 2.9)`);
  const deps = path.join(pkgDir, 'deps');
  fs.rmSync(deps, { recursive: true, force: true });
  const lib = path.join(deps, 'lib');
  fs.mkdirSync(lib, { recursive: true });
  for (const l of libs) {
    const e = byName.get(l)!;
    log(`  extracting ${path.basename(l)} (${(e.size / 1e6).toFixed(0)} MB)`);
    await extractZipEntry(wheel, e, path.join(lib, path.basename(l)));
  }
  const { LIBTENSORFLOW_VERSION } = loadDepsConstants(pkgDir);
  const links: [string, string][] = [
    ['libtensorflow.so', 'libtensorflow_cc.so.2'],
    ['libtensorflow.so.2', 'libtensorflow_cc.so.2'],
    [`libtensorflow.so.${LIBTENSORFLOW_VERSION}`, 'libtensorflow_cc.so.2'],
    ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'],
  ];
  for (const [name, target] of links) fs.symlinkSync(target, path.join(lib, name));
  // Headers: the TensorFlow headers the binding includes, and everything they include.
  const roots = new Set<string>();
  for (const f of fs.readdirSync(path.join(pkgDir, 'binding'))) {
    for (const m of fs.readFileSync(path.join(pkgDir, 'binding', f), 'utf8').matchAll(/^\s*#\s*include\s*"(tensorflow\/[^"]+)"/gm)) roots.add(m[1]);
  }
  const headers = headerClosure(wheel, byName, 'tensorflow/include/', [...roots]);
  for (const r of roots) if (!headers.has(r)) throw new SetupError(`${wheel} has no tensorflow/include/${r} (the addon includes it)`);
  for (const [h, text] of headers) {
    const dest = path.join(deps, 'include', h);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, text);
  }
  log(`  ${headers.size} C headers`);
}

/** The libtensorflow version tfjs-node's install script expects (the name of its "already downloaded" marker). */
function loadDepsConstants(pkgDir: string): { LIBTENSORFLOW_VERSION: string } {
  let src = '';
  try {
    src = fs.readFileSync(path.join(pkgDir, 'scripts', 'deps-constants.js'), 'utf8');
  } catch {
    /* default below */
  }
  const m = /LIBTENSORFLOW_VERSION\s*=\s*'([^']+)'/.exec(src);
  return { LIBTENSORFLOW_VERSION: m ? m[1] : '2.9.1' };
}

/** Loads the addon in a child process (TensorFlow may abort the process it loads into) and runs one matMul. */
function loadTest(entry: string, gpu: boolean, logFile: string): { tfjsNode: string; tensorflow: string } {
  const script = `
    const tf = require(${JSON.stringify(entry)});
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
    if (tf.getBackend() !== 'tensorflow' || y !== 11) { console.error('backend ' + tf.getBackend() + ', 1*3+2*4 = ' + y); process.exit(1); }
    console.log(JSON.stringify({ tfjsNode: tf.version['tfjs-node'] || tf.version['tfjs-node-gpu'] || '?', tensorflow: tf.backend().binding && tf.backend().binding.TF_Version || '?' }));
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' } });
  fs.appendFileSync(logFile, `\n$ load test${gpu ? ' (gpu)' : ''}\n${r.stdout}${r.stderr}\n`);
  if (r.status !== 0) {
    const why = `${r.stderr}`.trim().split('\n').find((l) => /Error|error:|cannot open|undefined symbol|GLIBC/.test(l)) ?? `exit ${r.status ?? r.signal}`;
    throw new SetupError(`load test failed: ${why.trim()} (full log: ${logFile})`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

interface Stamp {
  tfjsNode: string;
  wheel: string;
  wheelSize: number;
  wheelMtime: number;
  node?: string;
  /** BINDING_PATCH_VERSION the addon was built with (0 or absent: unpatched). */
  patch?: number;
}

/** Runs every step; see the file comment. Throws SetupError naming what is missing. */
export async function setupTensorflowBackend(o: SetupOptions = {}): Promise<SetupResult> {
  const kind: NativeBackend = o.gpu ? 'cuda' : 'tensorflow';
  const pkg = NATIVE_PACKAGES[kind];
  const t0 = Date.now();
  const log = (l: string) => o.log?.(`${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s  ${l}`);
  const skipped: string[] = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SetupError(`setup from a wheel supports linux x64 only (this is ${process.platform} ${process.arch}); elsewhere run \`npm install ${pkg}\` (it downloads libtensorflow)`);
  }
  const nodeModules = o.nodeModules ?? tfjsCoreNodeModules();
  const corePj = nodeModules ? readJson<{ version: string }>(path.join(nodeModules, '@tensorflow', 'tfjs-core', 'package.json')) : null;
  if (!nodeModules || !corePj) throw new SetupError('@tensorflow/tfjs-core is not installed: run `npm ci` (or `npm install`) first');
  const version = corePj.version;
  const host = nativeHostDir(kind, nodeModules)!;
  const pkgDir = hostedPackageDir(kind, host);
  fs.mkdirSync(host, { recursive: true });
  const logFile = path.join(host, 'setup.log');
  fs.writeFileSync(logFile, `maai-encoder setup-backend ${kind} ${new Date().toISOString()}\n`);

  // 1. Which libtensorflow: the wheel given, or one found, or (with --download) tfjs-node's own download.
  let wheel = o.wheel;
  if (wheel !== undefined) {
    if (!fs.existsSync(wheel)) throw new SetupError(`--wheel ${wheel}: file not found`);
    if (!/\.whl$/.test(wheel)) throw new SetupError(`--wheel ${wheel}: expected a TensorFlow wheel (.whl)`);
  } else {
    wheel = findWheels(!!o.gpu)[0];
    if (!wheel && !o.download) {
      throw new SetupError(
        `no TensorFlow wheel found (looked in ${wheelSearchDirs().join(', ')}): pass --wheel FILE ` +
          `(e.g. \`pip download ${o.gpu ? 'tensorflow' : 'tensorflow-cpu'} --no-deps -d DIR\` on a machine with internet), ` +
          `or --download to let ${pkg} download libtensorflow`,
      );
    }
  }
  if (wheel) {
    wheel = path.resolve(wheel);
    const tag = /manylinux_(\d+)_(\d+)/.exec(path.basename(wheel));
    const glibc = glibcVersion();
    if (tag && glibc && versionLess(glibc, `${tag[1]}.${tag[2]}`)) {
      throw new SetupError(`${path.basename(wheel)} needs glibc >= ${tag[1]}.${tag[2]}, this system has ${glibc}: use an older TensorFlow wheel (manylinux2014 = glibc 2.17)`);
    }
    log(`wheel: ${wheel}`);
  }

  // 2. The npm package, install scripts off (its own script would download libtensorflow).
  const installed = readJson<{ version: string }>(path.join(pkgDir, 'package.json'));
  if (!o.force && installed?.version === version) skipped.push('npm install');
  else {
    log(`[1/4] npm install ${pkg}@${version} (scripts off) into ${host}`);
    fs.writeFileSync(path.join(host, 'package.json'), JSON.stringify({ name: 'maai-encoder-native-backend', private: true, description: 'written by maai-encoder setup-backend', dependencies: { [pkg]: version } }, null, 2) + '\n');
    const npm = npmCommand();
    run(npm.cmd, [...npm.pre, 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', '--omit=dev', '--loglevel=error'], { cwd: host, logFile, what: `npm install ${pkg}@${version}` });
    if (!fs.existsSync(path.join(pkgDir, 'package.json'))) throw new SetupError(`npm install did not produce ${pkgDir} (log: ${logFile})`);
  }
  // The project's tfjs-core / tfjs-backend-cpu, shared when the versions agree: one engine, one cpu backend.
  for (const shared of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu']) {
    const mine = path.join(nodeModules, ...shared.split('/'));
    const theirs = path.join(host, 'node_modules', ...shared.split('/'));
    const mv = readJson<{ version: string }>(path.join(mine, 'package.json'))?.version;
    const isLink = fs.existsSync(theirs) && fs.lstatSync(theirs).isSymbolicLink();
    if (!mv || isLink) continue;
    const tv = readJson<{ version: string }>(path.join(theirs, 'package.json'))?.version;
    if (tv === mv) {
      fs.rmSync(theirs, { recursive: true, force: true });
      fs.symlinkSync(fs.realpathSync(mine), theirs, 'dir');
    }
  }

  // 3. deps/: libtensorflow and the C headers from the wheel.
  const stampFile = path.join(pkgDir, 'deps', 'maai-setup.json');
  const stamp = readJson<Stamp>(stampFile);
  let depsChanged = false;
  if (wheel) {
    const st = fs.statSync(wheel);
    const want: Stamp = { tfjsNode: version, wheel, wheelSize: st.size, wheelMtime: Math.floor(st.mtimeMs) };
    if (!o.force && stamp && stamp.tfjsNode === want.tfjsNode && stamp.wheel === want.wheel && stamp.wheelSize === want.wheelSize && stamp.wheelMtime === want.wheelMtime) {
      skipped.push('libtensorflow from the wheel');
    } else {
      log(`[2/4] libtensorflow and C headers from ${path.basename(wheel)}`);
      await fillDeps(wheel, pkgDir, log);
      fs.writeFileSync(stampFile, JSON.stringify(want) + '\n');
      depsChanged = true;
    }
  }

  // 4. The addon, built from source against this Node's headers, with the binding patch (bindingPatch.ts).
  let addon = findAddon(pkgDir);
  const builtFor = stamp?.node;
  const patch = patchBinding(pkgDir) ? BINDING_PATCH_VERSION : 0;
  if (!patch) log('note: tfjs-node\'s binding sources are not the expected ones; built without traced steps (every kernel an eager op)');
  if (!o.force && addon && !depsChanged && builtFor === process.versions.modules && (stamp?.patch ?? 0) === patch) skipped.push('addon build');
  else if (!wheel) {
    log(`[2-3/4] ${pkg}'s own install script (downloads libtensorflow from storage.googleapis.com)`);
    run(process.execPath, ['scripts/install.js', o.gpu ? 'gpu' : 'cpu', 'download'], { cwd: pkgDir, logFile, what: `${pkg}'s install script (network)`, env: { ...process.env, npm_config_build_from_source: 'true' } });
    addon = findAddon(pkgDir);
  } else {
    const headers = nodeHeadersDir();
    const missing: string[] = [];
    if (!headers) missing.push(`Node ${process.versions.node} headers (include/node/node_api.h: install your distribution's nodejs dev package, or unpack node-v${process.versions.node}-headers.tar.gz and set npm_config_nodedir to it)`);
    if (!which('python3') && !which('python')) missing.push('Python 3 (node-gyp runs on it)');
    if (!which('make')) missing.push('make');
    if (!which('c++') && !which('g++') && !which('clang++')) missing.push('a C++ compiler (g++ or clang++; e.g. apt-get install g++)');
    if (missing.length) throw new SetupError(`cannot build the ${pkg} addon: missing ${missing.join('; ')}`);
    log(`[3/4] building the ${pkg} addon from source (node-gyp, Node headers in ${headers})`);
    const preGyp = path.join(host, 'node_modules', '@mapbox', 'node-pre-gyp', 'bin', 'node-pre-gyp');
    if (!fs.existsSync(preGyp)) throw new SetupError(`${preGyp} is missing (npm install incomplete? see ${logFile})`);
    const gyp = nodeGypPath();
    run(process.execPath, [preGyp, 'rebuild', '--build-from-source', `--napi_build_version=${napiBuildVersion(pkgDir)}`, `--nodedir=${headers}`], {
      cwd: pkgDir,
      logFile,
      what: `building the ${pkg} addon`,
      env: { ...process.env, npm_config_nodedir: headers!, npm_config_build_from_source: 'true', ...(gyp ? { npm_config_node_gyp: gyp } : {}) },
    });
    addon = findAddon(pkgDir);
    if (addon) {
      const s = readJson<Stamp>(stampFile);
      if (s) fs.writeFileSync(stampFile, JSON.stringify({ ...s, node: process.versions.modules, patch }) + '\n');
    }
  }
  if (!addon) throw new SetupError(`the ${pkg} addon was not built (log: ${logFile})`);
  // The stderr guard (see stderrGuard.ts): optional, so a failure is only logged.
  const headersForGuard = nodeHeadersDir();
  const cc = ['cc', 'gcc', 'clang'].find(which);
  if (!o.force && fs.existsSync(path.join(host, STDERR_GUARD_FILE))) skipped.push('stderr guard');
  else if (headersForGuard && cc) {
    const err = buildStderrGuard(host, headersForGuard, cc);
    if (err) fs.appendFileSync(logFile, `\nstderr guard not built: ${err}\n`);
  }

  // 5. Load test.
  log(`[4/4] load test`);
  const entry = path.join(pkgDir, readJson<{ main?: string }>(path.join(pkgDir, 'package.json'))?.main ?? 'dist/index.js');
  const loaded = loadTest(entry, !!o.gpu, logFile);
  // An ordinary install in the project wins over this one (see nativeHost.resolveNative): say so.
  const normal = resolvePackage(pkg);
  if (normal) log(`note: ${pkg} is also installed in the project (${normal}); that copy is the one loaded`);
  return { backend: kind, host, addon, wheel, skipped, loaded };
}
