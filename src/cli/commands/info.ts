import * as tf from '@tensorflow/tfjs-core';
import { availableBackends, defaultWasmThreads } from '../../backend';
import { VERSION } from '../version';
import { parseArgs } from '../args';
import type { Command } from './command';

export const info: Command = {
  summary: 'backends available in this process, versions',
  help: 'Usage: maai-encoder info [--json]\n\nLists the tfjs backends (available or not, and the package each needs) and versions.',
  async run(argv) {
    const p = parseArgs(argv, { json: { type: 'boolean' } });
    const report = { 'maai-encoder-tfjs': VERSION, 'tfjs-core': tf.version_core, node: process.versions.node, backends: availableBackends(), wasm_threads_default: defaultWasmThreads() };
    if (p.flags.json) {
      process.stdout.write(JSON.stringify(report) + '\n');
      return 0;
    }
    process.stdout.write(`maai-encoder-tfjs ${VERSION}\ntfjs-core ${tf.version_core}\nnode ${process.versions.node}\nbackends:\n`);
    for (const [name, b] of Object.entries(report.backends)) {
      process.stdout.write(`  ${name.padEnd(11)} ${b.available ? 'available' : 'not available'}  (${b.package}${b.note ? `, ${b.note}` : ''})\n`);
    }
    process.stdout.write(`wasm threads (default; --threads N or MAAI_WASM_THREADS to change): ${report.wasm_threads_default}\n`);
    return 0;
  },
};
