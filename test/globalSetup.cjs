// Builds a CommonJS bundle of tfjs-core's gradient registrations for jest (see src/backend/gradients.ts).
const path = require('node:path');
module.exports = async () => {
  // jest runs test files in parallel workers: one wasm thread each (the CLI tests ask for threads explicitly).
  if (process.env.MAAI_WASM_THREADS === undefined) process.env.MAAI_WASM_THREADS = '1';
  // Tests name their backend; what they leave to the default (the CLI tests) stays on wasm even where
  // setup-backend installed tfjs-node (auto would pick it). CI sets MAAI_BACKEND=tensorflow for its second pass.
  if (process.env.MAAI_BACKEND === undefined) process.env.MAAI_BACKEND = 'wasm';
  // TensorFlow reads its log level from the real environment (jest gives each test file a copy of process.env).
  if (process.env.TF_CPP_MIN_LOG_LEVEL === undefined) process.env.TF_CPP_MIN_LOG_LEVEL = '2';
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
