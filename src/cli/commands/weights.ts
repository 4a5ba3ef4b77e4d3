import * as fs from 'node:fs';
import { SafetensorsFile } from '../../weights/safetensors';
import { readManifest } from '../../weights/detweights';
import { numel } from '../../weights/types';
import { UsageError, parseArgs } from '../args';
import { onePositional } from './common';
import { WeightStore } from '../../weights/store';
import { RawTensor } from '../../weights/types';
import { VapCheckpointInfo, inspectVapCheckpoint } from '../../models/vap/vapConfig';

/** A MaAI VAP checkpoint's configuration read from its tensor shapes (undefined for other files). */
function vapInfo(rows: Row[]): VapCheckpointInfo | undefined {
  const wrapped = rows.length > 0 && rows.every((r) => r.name.startsWith('state_dict.'));
  const names = new Map<string, RawTensor>(rows.map((r) => [wrapped ? r.name.slice('state_dict.'.length) : r.name, { dtype: 'F32', shape: r.shape, data: new Float32Array(0) }]));
  if (!names.has('vap_head.weight')) return undefined;
  return inspectVapCheckpoint(WeightStore.fromTensors(names, 'checkpoint'));
}
import { readInput } from '../output';
import type { Command } from './command';

interface Row {
  name: string;
  dtype: string;
  shape: number[];
}

function rowsOf(file: string): { rows: Row[]; metadata?: Record<string, string> } {
  if (!fs.existsSync(file)) throw new UsageError(`file not found: ${file}`);
  if (file.toLowerCase().endsWith('.json')) {
    const m = readManifest(file);
    return { rows: Object.entries(m).map(([name, e]) => ({ name, dtype: 'F32', shape: e.shape })) };
  }
  const f = SafetensorsFile.open(file);
  try {
    return { rows: f.header.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })), metadata: f.metadata };
  } finally {
    f.close();
  }
}

export const weights: Command = {
  summary: 'inspect a weights file: `weights inspect FILE` (safetensors or detweights manifest JSON)',
  help:
    'Usage: maai-encoder weights inspect FILE [--json]\n\n' +
    'Lists every tensor (name, dtype, shape) and the parameter count of a .safetensors file, a detweights\n' +
    'manifest (.json) or a PyTorch checkpoint (.pt). A broken file exits with 2 and a message naming the problem.\n' +
    'A MaAI VAP checkpoint also gets its configuration read from the tensors (encoder, frame rate, dims, layers).',
  async run(argv) {
    const p = parseArgs(argv, { json: { type: 'boolean' } });
    const [sub, ...files] = p.positionals;
    if (sub !== 'inspect') throw new UsageError(`unknown subcommand "${sub ?? ''}": expected \`weights inspect FILE\``);
    const file = onePositional({ ...p, positionals: files }, 'FILE');
    let rows: Row[];
    let metadata: Record<string, string> | undefined;
    if (/\.(pt|pth|ckpt|bin)$/i.test(file)) {
      const { loadTorchStateDict } = await import('../../weights/torchCheckpoint');
      const sd = loadTorchStateDict(readInput(file, 'file'));
      rows = [...sd.entries()].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
    } else ({ rows, metadata } = rowsOf(file));
    const params = rows.reduce((a, r) => a + numel(r.shape), 0);
    const vap = vapInfo(rows);
    if (p.flags.json) {
      process.stdout.write(JSON.stringify({ file, tensors: rows, parameters: params, metadata, vap }) + '\n');
      return 0;
    }
    const w = Math.max(4, ...rows.map((r) => r.name.length));
    process.stdout.write(`${'name'.padEnd(w)}  dtype  shape\n`);
    for (const r of rows) process.stdout.write(`${r.name.padEnd(w)}  ${r.dtype.padEnd(5)}  [${r.shape.join(', ')}]\n`);
    process.stdout.write(`${rows.length} tensors, ${params.toLocaleString('en-US')} parameters\n`);
    if (metadata && Object.keys(metadata).length) process.stdout.write(`metadata: ${JSON.stringify(metadata)}\n`);
    if (vap) {
      const rate = `${vap.frameHz} Hz`;
      const enc = vap.encoder === 'cpc' ? `downsample kernel ${vap.downsampleKernel}` : `encoder dim ${vap.encoderDim} -> decrease_dimension`;
      process.stdout.write(
        `VAP checkpoint: encoder ${vap.encoder} (${enc}), ${rate}, dim ${vap.dim}, ${vap.channelLayers} channel + ${vap.crossLayers} cross layers, ${vap.numHeads} heads, FFN ${vap.ffnDim}\n`,
      );
    }
    return 0;
  },
};
