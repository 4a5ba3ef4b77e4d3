import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCase } from '../../parity/goldenCase';
import { runParity } from '../../parity/runCase';
import { WeightStore, openWeights } from '../../weights/store';
import { parseArgs } from '../args';
import { BACKEND_FLAG, NAME_MAP_FLAG, nameMapFlag, onePositional, required, useBackend } from './common';
import { registerMimiParity } from '../../parity/mimiRunners';
import type { Command } from './command';
import { Parsed, UsageError, num, str } from '../args';

export const parity: Command = {
  summary: 'run a golden case as its meta describes and compare with its reference output',
  help:
    'Usage: maai-encoder parity CASE --weights FILE [--signals DIR] [--backend B] [--tolerance 1e-4] [--json]\n' +
    '         [--name-map cpc-checkpoint|vap|JSON]\n' +
    '       maai-encoder parity --golden [--dir GOLDEN_DIR] [--only REGEX] [--backend B]\n\n' +
    'CASE is a golden case .safetensors (metadata "meta" = JSON with "kind"). FILE is a safetensors weights file,\n' +
    'a detweights manifest (.json) or a PyTorch checkpoint (.pt). Prints one JSON line\n' +
    '{"case","kind","shape_ok","emitted_ok","max_abs","rel","pass"} with rel = max|y-ref|/rms(ref).\n' +
    'Exit 0 when shapes and emitted counts match exactly and rel <= tolerance, 1 when not, 2 on bad usage or input.\n\n' +
    '--golden runs every case of a golden folder (default: the fixtures shipped in test/fixtures/golden): the cases\n' +
    'listed in index.json and the ONNX Runtime cases in onnx/, each with its weights from weights/, one JSON line\n' +
    'per case and a summary; exit 0 when all pass.',
  async run(argv) {
    const p = parseArgs(argv, {
      ...BACKEND_FLAG,
      ...NAME_MAP_FLAG,
      weights: { type: 'string' },
      signals: { type: 'string' },
      json: { type: 'boolean' },
      tolerance: { type: 'string' },
      golden: { type: 'boolean' },
      dir: { type: 'string' },
      only: { type: 'string' },
    });
    if (p.flags.golden) return runGoldenSuite(p);
    const file = onePositional(p, 'CASE file');
    if (!fs.existsSync(file)) throw new UsageError(`case file not found: ${file}`);
    const weightsFile = required(p, 'weights');
    const tolerance = num(p, 'tolerance', 1e-4)!;
    await useBackend(p);
    registerMimiParity();
    const c = loadCase(file);
    const store = await openWeights(weightsFile, { nameMap: nameMapFlag(p) });
    const r = await runParity(c, { weights: store, signalsDir: p.flags.signals as string | undefined, tolerance });
    const line = { case: r.case, kind: r.kind, shape_ok: r.shape_ok, emitted_ok: r.emitted_ok, max_abs: r.max_abs, rel: r.rel, pass: r.pass };
    process.stdout.write(JSON.stringify(r.parts ? { ...line, parts: r.parts } : line) + '\n');
    return r.pass ? 0 : 1;
  },
};

/** The package root (dist/cli.js and src/cli/commands/*.ts both sit below it). */
function packageRoot(): string {
  let d = path.dirname(fileURLToPathSafe());
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(d, 'package.json'))) return d;
    d = path.dirname(d);
  }
  return process.cwd();
}

function fileURLToPathSafe(): string {
  // Bundled as ESM (import.meta.url) or run under jest (CommonJS, __filename).
  if (typeof __filename === 'string') return __filename;
  const bin = process.argv[1];
  return bin && fs.existsSync(bin) ? fs.realpathSync(bin) : process.cwd();
}

/** Weights for a golden case, from its name: cpc_lstm_* -> weights/cpc_lstm_manifest.json, mimi_tiny_* -> ... */
export function goldenWeightsFor(dir: string, caseName: string): string {
  const prefix = caseName.split('_').slice(0, 2).join('_');
  const st = path.join(dir, 'weights', `${prefix}_weights.safetensors`);
  if (fs.existsSync(st)) return st;
  const manifest = path.join(dir, 'weights', `${prefix}_manifest.json`);
  if (fs.existsSync(manifest)) return manifest;
  throw new UsageError(`no weights for case ${caseName} in ${path.join(dir, 'weights')} (looked for ${prefix}_weights.safetensors and ${prefix}_manifest.json)`);
}

async function runGoldenSuite(p: Parsed): Promise<number> {
  const dir = str(p, 'dir') ?? path.join(packageRoot(), 'test', 'fixtures', 'golden');
  const indexFile = path.join(dir, 'index.json');
  if (!fs.existsSync(indexFile)) throw new UsageError(`not a golden folder (no index.json): ${dir}`);
  const tolerance = num(p, 'tolerance', 1e-4)!;
  let only: RegExp | null = null;
  const o = str(p, 'only');
  if (o !== undefined) {
    try {
      only = new RegExp(o);
    } catch (e) {
      throw new UsageError(`--only: bad regular expression: ${(e as Error).message}`);
    }
  }
  const index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as Record<string, unknown>;
  const files = Object.keys(index).map((n) => path.join(dir, 'cases', `${n}.safetensors`));
  const onnxDir = path.join(dir, 'onnx');
  if (fs.existsSync(onnxDir)) for (const f of fs.readdirSync(onnxDir).sort()) if (f.endsWith('.safetensors')) files.push(path.join(onnxDir, f));
  const selected = files.filter((f) => !only || only.test(path.basename(f, '.safetensors')));
  if (selected.length === 0) throw new UsageError(`no golden case matches --only ${o}`);
  const backend = await useBackend(p);
  registerMimiParity();
  const stores = new Map<string, WeightStore>();
  let passed = 0;
  const t0 = performance.now();
  for (const file of selected) {
    const name = path.basename(file, '.safetensors');
    const wf = goldenWeightsFor(dir, name);
    if (!stores.has(wf)) stores.set(wf, await openWeights(wf));
    const t = performance.now();
    const r = await runParity(loadCase(file), { weights: stores.get(wf)!, signalsDir: path.join(dir, 'signals'), tolerance });
    if (r.pass) passed++;
    const line = { case: r.case, kind: r.kind, shape_ok: r.shape_ok, emitted_ok: r.emitted_ok, max_abs: r.max_abs, rel: r.rel, pass: r.pass };
    process.stdout.write(JSON.stringify({ ...line, seconds: +((performance.now() - t) / 1000).toFixed(2) }) + '\n');
  }
  const summary = { backend, cases: selected.length, passed, failed: selected.length - passed, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
  process.stdout.write(JSON.stringify({ summary }) + '\n');
  return passed === selected.length ? 0 : 1;
}
