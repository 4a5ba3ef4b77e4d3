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

// The library and its two subpath exports share code through chunks (one copy of every module, one WeightStore class).
await build({
  ...common,
  entryPoints: { index: 'src/index.ts', parity: 'src/subpaths/parity.ts', layers: 'src/subpaths/layers.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' });
