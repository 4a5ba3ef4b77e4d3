// Bundles the library (ESM) and the CLI with esbuild; type declarations come from `tsc -p tsconfig.build.json`.
import { build } from 'esbuild';
import { externalPackages, tfjsCoreExact } from './esbuildShared.mjs';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: externalPackages,
  plugins: [tfjsCoreExact],
  logLevel: 'warning',
  // The ESM bundle gets a `require` for the few CommonJS-style lookups (createRequire is used for resolution).
  banner: { js: "import { createRequire as __maaiCreateRequire } from 'node:module'; const require = __maaiCreateRequire(import.meta.url);" },
};

await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' });
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' });
await import('./buildBrowser.mjs');
