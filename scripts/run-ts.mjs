// Runs a TypeScript script of this repo (bench/, scripts/) by bundling it with esbuild into .cache/.
// Usage: node scripts/run-ts.mjs FILE.ts [args...]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { externalPackages, tfjsCoreExact } from './esbuildShared.mjs';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/run-ts.mjs FILE.ts [args...]');
  process.exit(2);
}
const out = path.join('.cache', path.basename(file).replace(/\.ts$/, '.mjs'));
await build({
  entryPoints: [file],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  external: externalPackages,
  plugins: [tfjsCoreExact],
  logLevel: 'warning',
  banner: { js: "import { createRequire as __maaiCreateRequire } from 'node:module'; const require = __maaiCreateRequire(import.meta.url);" },
});
const r = spawnSync(process.execPath, [out, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
