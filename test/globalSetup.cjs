// Builds a CommonJS bundle of tfjs-core's gradient registrations for jest (see src/backend/gradients.ts).
const path = require('node:path');
module.exports = async () => {
  // jest runs test files in parallel workers: one wasm thread each (the CLI tests ask for threads explicitly).
  if (process.env.MAAI_WASM_THREADS === undefined) process.env.MAAI_WASM_THREADS = '1';
  // The CLI tests run the bundled command (dist/cli.js): rebuild it from the current sources.
  require('node:child_process').execFileSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: path.join(__dirname, '..') });
  const { build } = require('esbuild');
  const { tfjsCoreExact } = await import('../scripts/esbuildShared.mjs');
  await build({
    stdin: { contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients';", resolveDir: path.join(__dirname, '..'), loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: path.join(__dirname, '..', 'node_modules', '.cache', 'maai-encoder', 'register_all_gradients.cjs'),
    plugins: [tfjsCoreExact],
    logLevel: 'warning',
  });
};
