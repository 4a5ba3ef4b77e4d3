import * as fs from 'node:fs';
import { loadCase } from '../../parity/goldenCase';
import { runParity } from '../../parity/runCase';
import { openWeights } from '../../weights/store';
import { parseArgs } from '../args';
import { BACKEND_FLAG, onePositional, required, useBackend } from './common';
import { registerMimiParity } from '../../parity/mimiRunners';
import type { Command } from './index';
import { UsageError, num } from '../args';

export const parity: Command = {
  summary: 'run a golden case as its meta describes and compare with its reference output',
  help:
    'Usage: maai-encoder parity CASE --weights FILE [--signals DIR] [--backend B] [--tolerance 1e-4] [--json]\n\n' +
    'CASE is a golden case .safetensors (metadata "meta" = JSON with "kind"). FILE is a safetensors weights file,\n' +
    'a detweights manifest (.json) or a PyTorch checkpoint (.pt). Prints one JSON line\n' +
    '{"case","kind","shape_ok","emitted_ok","max_abs","rel","pass"} with rel = max|y-ref|/rms(ref).\n' +
    'Exit 0 when shapes and emitted counts match exactly and rel <= tolerance, 1 when not, 2 on bad usage or input.',
  async run(argv) {
    const p = parseArgs(argv, { ...BACKEND_FLAG, weights: { type: 'string' }, signals: { type: 'string' }, json: { type: 'boolean' }, tolerance: { type: 'string' } });
    const file = onePositional(p, 'CASE file');
    if (!fs.existsSync(file)) throw new UsageError(`case file not found: ${file}`);
    const weightsFile = required(p, 'weights');
    const tolerance = num(p, 'tolerance', 1e-4)!;
    await useBackend(p);
    registerMimiParity();
    const c = loadCase(file);
    const store = await openWeights(weightsFile);
    const r = await runParity(c, { weights: store, signalsDir: p.flags.signals as string | undefined, tolerance });
    const line = { case: r.case, kind: r.kind, shape_ok: r.shape_ok, emitted_ok: r.emitted_ok, max_abs: r.max_abs, rel: r.rel, pass: r.pass };
    process.stdout.write(JSON.stringify(r.parts ? { ...line, parts: r.parts } : line) + '\n');
    return r.pass ? 0 : 1;
  },
};
