import * as path from 'node:path';
import { readTorchPickle, stateDictOf } from '../../weights/torchCheckpoint';
import { NameMap, applyNameMap, parseRename } from '../../weights/nameMap';
import { SafetensorsFile, readSafetensors, wellFormed, writeSafetensors } from '../../weights/safetensors';
import { FormatError, RawTensor, numel } from '../../weights/types';
import { UsageError, parseArgs, str } from '../args';
import { onePositional, required } from './common';
import { checkOutput, readInput, writeOutput } from '../output';
import type { Command } from './command';

function strings(v: string | boolean | string[] | undefined): string[] {
  if (v === undefined || typeof v === 'boolean') return [];
  return Array.isArray(v) ? v : [v];
}

export const convert: Command = {
  summary: 'PyTorch checkpoint (.pt) to safetensors, with an optional name map: convert IN.pt -o OUT.safetensors',
  help:
    'Usage: maai-encoder convert IN.pt -o OUT.safetensors [--select PREFIX] [--strip PREFIX]... [--add PREFIX]\n' +
    '         [--rename FROM=TO]... [--merge OTHER.safetensors]...\n\n' +
    'Reads a torch.save file (zip format, or the legacy format of torch < 1.6) without Python and without running\n' +
    'anything from it: only tensors, storages and OrderedDict are accepted in its pickle. Tensors inside nested\n' +
    'dicts are named by their key path joined with "." (a CPC training checkpoint gives weights.gEncoder.conv0.weight,\n' +
    '...). Dtypes are kept (float16 stays float16). The name map runs in this order:\n' +
    '  --select PREFIX   keep only tensors whose name starts with PREFIX\n' +
    '  --strip PREFIX    remove PREFIX from the start of names (repeatable: the first matching one is removed)\n' +
    '  --add PREFIX      prepend PREFIX to every name\n' +
    '  --rename FROM=TO  replace the prefix FROM by TO (repeatable: the first matching rule applies)\n' +
    '  --merge FILE      add every tensor of a safetensors file (after the map; a name clash is an error)\n\n' +
    'Examples:\n' +
    '  CPC checkpoint -> EncoderCPC names, with the downsample taken from an EncoderCPC / VAP state dict:\n' +
    '    maai-encoder convert encoder_cpc_state_dict.pt -o ds.safetensors --select downsample.\n' +
    '    maai-encoder convert 60k_epoch4-d0f474de.pt -o cpc.safetensors --select weights. --strip weights. --add encoder. \\\n' +
    '      --merge ds.safetensors\n' +
    '  MaAI VAP state dict -> encoder names (downsample.*, encoder.gEncoder.*, encoder.gAR.*, frame_rate_conv.*):\n' +
    '    maai-encoder convert vap_state_dict.pt -o enc.safetensors --select encoder. --strip encoder.',
  async run(argv) {
    const p = parseArgs(argv, {
      out: { type: 'string', short: 'o' },
      select: { type: 'string' },
      strip: { type: 'string', repeat: true },
      add: { type: 'string' },
      rename: { type: 'string', repeat: true },
      merge: { type: 'string', repeat: true },
    });
    const input = onePositional(p, 'input checkpoint');
    const merges = strings(p.flags.merge);
    const out = checkOutput(required(p, 'out'), [['input', input], ...merges.map((m): [string, string] => ['--merge file', m])]);
    const inputBytes = readInput(input, 'input file');

    const map: NameMap = {};
    const select = str(p, 'select');
    if (select !== undefined) map.select = select;
    const strip = strings(p.flags.strip);
    if (strip.length) map.strip = strip;
    const add = str(p, 'add');
    if (add !== undefined) map.add = add;
    const rename = strings(p.flags.rename);
    if (rename.length) {
      try {
        map.rename = rename.map(parseRename);
      } catch (e) {
        throw new UsageError(`--rename: ${(e as Error).message}`);
      }
    }

    const { format, root } = readTorchPickle(inputBytes);
    const all = stateDictOf(root);
    const tensors = Object.keys(map).length ? applyNameMap(all, map) : all;
    const merged: string[] = [];
    for (const m of merges) {
      const extra = readSafetensors(readInput(m, '--merge file')).tensors;
      for (const [name, t] of extra) {
        if (tensors.has(name)) throw new UsageError(`--merge ${m}: tensor "${name}" is already in the output`);
        tensors.set(name, t);
      }
      merged.push(`${path.basename(m)} (${extra.size})`);
    }
    const metadata: Record<string, string> = {
      source: path.basename(input),
      source_format: `torch.save ${format}`,
      converted_by: 'maai-encoder convert',
    };
    if (Object.keys(map).length) metadata.name_map = JSON.stringify(map);
    if (merged.length) metadata.merged = merged.join(', ');
    for (const name of tensors.keys()) {
      // What a safetensors file cannot hold is refused by name (every other name round-trips, __proto__ included).
      if (name === '__metadata__') throw new UsageError('tensor name "__metadata__" is reserved in safetensors; rename it (--rename)');
      if (!wellFormed(name)) throw new UsageError(`tensor name ${JSON.stringify(name)} is not well-formed Unicode; rename it (--rename)`);
    }
    const bytes = writeSafetensors(tensors, metadata);
    // The file replaces an earlier one only once it reads back with every tensor intact.
    writeOutput(out, bytes, { verify: (tmp) => verifyReadBack(tmp, tensors) });

    const params = [...tensors.values()].reduce((a, t) => a + numel(t.shape), 0);
    const dtypes = new Map<string, number>();
    for (const t of tensors.values()) dtypes.set(t.dtype, (dtypes.get(t.dtype) ?? 0) + 1);
    const dt = [...dtypes].map(([k, n]) => `${n} ${k}`).join(', ');
    const dropped = all.size - tensors.size;
    process.stdout.write(
      `${input} (torch.save ${format}) -> ${out.given}\n` +
        `${tensors.size} tensors (${dt}), ${params.toLocaleString('en-US')} parameters, ${bytes.length.toLocaleString('en-US')} bytes` +
        (dropped ? `; ${dropped} tensors not selected` : '') +
        '\n',
    );
    return 0;
  },
};

/** Reads a written file back: the same names in the same order, dtypes, shapes and bytes, or a FormatError. */
function verifyReadBack(file: string, want: Map<string, RawTensor>): void {
  const f = SafetensorsFile.open(file);
  try {
    const names = f.names;
    const expected = [...want.keys()];
    if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) {
      throw new FormatError(`the written file does not read back: it lists ${names.length} tensors, ${expected.length} were written`);
    }
    for (const [name, t] of want) {
      const got = f.get(name);
      const a = Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength);
      const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const same = got.dtype === t.dtype && got.shape.length === t.shape.length && got.shape.every((d, i) => d === t.shape[i]) && a.equals(b);
      if (!same) throw new FormatError(`the written file does not read back: tensor "${name}" differs`);
    }
  } finally {
    f.close();
  }
}
