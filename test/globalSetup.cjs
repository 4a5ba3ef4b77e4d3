// Builds a CommonJS bundle of tfjs-core's gradient registrations for jest (see src/backend/gradients.ts).
const path = require('node:path');
module.exports = async () => {
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
