/**
 * Where `maai-encoder setup-backend tensorflow` installs the native backend: a self-contained npm tree in
 * `<node_modules>/.cache/maai-encoder/tfjs-node[-gpu]`, beside the @tensorflow/tfjs-core this package uses. It
 * lives outside the project's dependency tree, so package.json and package-lock.json stay unchanged and a later
 * `npm install` does not prune it (`npm ci`, which deletes node_modules, removes it). Its tfjs-core and
 * tfjs-backend-cpu are links to the project's copies, so tfjs-node registers its backend with the same engine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolvePackage } from './resolvePackage';

export type NativeBackend = 'tensorflow' | 'cuda';

export const NATIVE_PACKAGES: Record<NativeBackend, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  cuda: '@tensorflow/tfjs-node-gpu',
};

/** The node_modules folder that holds the @tensorflow/tfjs-core this package resolves, or null. */
export function tfjsCoreNodeModules(): string | null {
  const pj = resolvePackage('@tensorflow/tfjs-core/package.json');
  return pj ? path.resolve(path.dirname(pj), '..', '..') : null;
}

/** The folder setup-backend installs `kind` into. */
export function nativeHostDir(kind: NativeBackend, nodeModules: string | null = tfjsCoreNodeModules()): string | null {
  if (!nodeModules) return null;
  return path.join(nodeModules, '.cache', 'maai-encoder', kind === 'cuda' ? 'tfjs-node-gpu' : 'tfjs-node');
}

/** The package folder of tfjs-node(-gpu) inside the host folder. */
export function hostedPackageDir(kind: NativeBackend, host: string): string {
  return path.join(host, 'node_modules', ...NATIVE_PACKAGES[kind].split('/'));
}

/**
 * The entry file of tfjs-node(-gpu): an ordinary install (`npm install @tensorflow/tfjs-node`) first, then the
 * one setup-backend made. `where` says which.
 */
export function resolveNative(kind: NativeBackend): { entry: string; where: 'project' | 'setup-backend' } | null {
  const normal = resolvePackage(NATIVE_PACKAGES[kind]);
  if (normal) return { entry: normal, where: 'project' };
  const host = nativeHostDir(kind);
  if (!host) return null;
  const pkgDir = hostedPackageDir(kind, host);
  try {
    const main = (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { main?: string }).main ?? 'index.js';
    const entry = path.join(pkgDir, main);
    return fs.existsSync(entry) ? { entry, where: 'setup-backend' } : null;
  } catch {
    return null;
  }
}
