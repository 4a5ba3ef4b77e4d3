import { UsageError, parseArgs, str } from '../args';
import { findWheels, setupTensorflowBackend } from '../../backend/tensorflowSetup';
import type { Command } from './command';

export const setupBackend: Command = {
  summary: 'install the native TensorFlow backend (tfjs-node) offline from a TensorFlow wheel',
  help:
    'Usage: maai-encoder setup-backend tensorflow [--wheel FILE] [--gpu] [--download] [--force] [--json] [--list-wheels]\n\n' +
    'Installs @tensorflow/tfjs-node (with --gpu: @tensorflow/tfjs-node-gpu, for the cuda backend; unverified)\n' +
    'at the version of @tensorflow/tfjs-core into node_modules/.cache/maai-encoder/, leaving package.json and\n' +
    'package-lock.json alone: the npm package from the registry with its install script off, libtensorflow and\n' +
    'its C headers from a TensorFlow wheel (--wheel FILE, else the newest tensorflow-cpu / tensorflow wheel in\n' +
    'MAAI_WHEEL_DIR, PIP_FIND_LINKS, /opt/pypi/files, ~/wheelhouse or pip caches), the addon built from source\n' +
    '(needs a C++ compiler, make, Python 3 and the Node headers), then a load test. Steps already done are\n' +
    'skipped (--force redoes them). --download: no wheel, let tfjs-node download libtensorflow (network).\n' +
    '--list-wheels: print the wheels found, best first, and stop.\n' +
    'Afterwards the default backend (auto) is tensorflow; `maai-encoder info` shows it.',
  async run(argv) {
    const p = parseArgs(argv, { wheel: { type: 'string' }, gpu: { type: 'boolean' }, download: { type: 'boolean' }, force: { type: 'boolean' }, json: { type: 'boolean' }, 'list-wheels': { type: 'boolean' } });
    if (p.positionals.length !== 1 || !['tensorflow', 'cuda'].includes(p.positionals[0])) {
      throw new UsageError(`expected the backend to set up: tensorflow (or cuda = tensorflow --gpu), got ${p.positionals.length ? `"${p.positionals.join(' ')}"` : 'none'}`);
    }
    const gpu = p.flags.gpu === true || p.positionals[0] === 'cuda';
    if (p.flags['list-wheels']) {
      // The wheels a plain `setup-backend` would choose from, best first (none: empty output).
      for (const w of findWheels(gpu)) process.stdout.write(w + '\n');
      return 0;
    }
    const t0 = Date.now();
    const r = await setupTensorflowBackend({
      gpu,
      wheel: str(p, 'wheel'),
      download: p.flags.download === true,
      force: p.flags.force === true,
      log: (l) => process.stderr.write(`setup-backend: ${l}\n`),
    });
    const s = ((Date.now() - t0) / 1000).toFixed(1);
    if (p.flags.json) process.stdout.write(JSON.stringify({ ...r, seconds: Number(s) }) + '\n');
    else {
      process.stdout.write(
        `${r.backend} backend ready in ${s} s: tfjs-node ${r.loaded.tfjsNode}, TensorFlow ${r.loaded.tensorflow}` +
          `${r.skipped.length ? ` (already done: ${r.skipped.join(', ')})` : ''}\naddon: ${r.addon}\n`,
      );
    }
    return 0;
  },
};
