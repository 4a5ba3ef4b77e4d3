import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCase } from '../../parity/goldenCase';
import { parityLine, runParity } from '../../parity/runCase';
import { WeightStore, openWeights } from '../../weights/store';
import { parseArgs } from '../args';
import { BACKEND_FLAG, NAME_MAP_FLAG, nameMapFlag, onePositional, required, useBackend } from './common';
import { registerMimiParity } from '../../parity/mimiRunners';
import { registerVapParity } from '../../parity/vapRunners';
import { openVapEncoderWeights, openVapWeights } from '../../pipeline/buildVap';
import type { Command } from './command';
import { Parsed, UsageError, num, str } from '../args';

export const parity: Command = {
  summary: 'run a golden case as its meta describes and compare with its reference output',
  help:
    'Usage: maai-encoder parity CASE --weights FILE [--signals DIR] [--backend B] [--tolerance 1e-4] [--json]\n' +
    '         [--name-map cpc-checkpoint|vap|JSON]\n' +
    '       maai-encoder parity VAP_CASE --weights VAP_MANIFEST [--encoder-weights ENC_WEIGHTS] --signals DIR [--json]\n' +
    '       maai-encoder parity --golden [--dir GOLDEN_DIR] [--only REGEX] [--backend B]\n\n' +
    'CASE is a golden case .safetensors (metadata "meta" = JSON with "kind"). FILE is a safetensors weights file,\n' +
    'a detweights manifest (.json) or a PyTorch checkpoint (.pt). Prints one JSON line\n' +
    '{"case","kind","shape_ok","emitted_ok","max_abs","rel","pass"} with rel = max|y-ref|/rms(ref).\n' +
    'emitted_ok: the per-call emitted counts (and, where the case records them, the input positions of the calls)\n' +
    'match exactly. Exit 0 when shapes and emitted_ok hold and rel <= tolerance, 1 when not, 2 on bad usage or input.\n\n' +
    'VAP cases (kinds vap_offline, vap_stream): FILE holds the VAP model (a manifest, safetensors or MaAI\'s state\n' +
    'dict .pt) and ENC_WEIGHTS the encoder\'s own weights (optional for a .pt, which carries its encoder); every\n' +
    'stored tensor is compared (in "parts"), step counts, step_end_sample and cache_len_after_step exactly.\n\n' +
    '--golden runs every case of a golden folder (default: the fixtures shipped in test/fixtures/golden and\n' +
    'test/fixtures/golden-vap): the cases listed in index.json and the ONNX Runtime cases in onnx/, each with its\n' +
    'weights from weights/ (VAP cases: the encoder\'s from ../golden/weights), one JSON line per case and a summary;\n' +
    'exit 0 when all pass.',
  async run(argv) {
    const p = parseArgs(argv, {
      ...BACKEND_FLAG,
      ...NAME_MAP_FLAG,
      weights: { type: 'string' },
      'encoder-weights': { type: 'string' },
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
    registerVapParity();
    const c = loadCase(file);
    const isVap = c.meta.kind.startsWith('vap_');
    const store = isVap && !p.flags['name-map'] ? await openVapWeights(weightsFile) : await openWeights(weightsFile, { nameMap: nameMapFlag(p) });
    const encFile = str(p, 'encoder-weights');
    if (encFile !== undefined && !fs.existsSync(encFile)) throw new UsageError(`encoder weights file not found: ${encFile}`);
    const encoderWeights = encFile !== undefined ? await openVapEncoderWeights(encFile) : undefined;
    const r = await runParity(c, { weights: store, encoderWeights, signalsDir: p.flags.signals as string | undefined, tolerance });
    process.stdout.write(JSON.stringify(parityLine(r)) + '\n');
    return r.pass ? 0 : 1;
  },
};

/** The package root (dist/cli.js and src/cli/commands/*.ts both sit below it). */
export function packageRoot(): string {
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

/** A golden-vap case's weights: weights/<meta.vap_manifest>, and the encoder's manifest from the sibling golden folder. */
export function goldenVapWeightsFor(dir: string, meta: Record<string, unknown>, caseName: string): { weights: string; encoder: string } {
  const weights = path.join(dir, 'weights', String(meta.vap_manifest));
  const enc = meta.encoder === 'cpc' ? 'cpc_lstm' : meta.encoder === 'mimi_tiny' ? 'mimi_tiny' : null;
  if (!enc) throw new UsageError(`case ${caseName}: unknown encoder ${JSON.stringify(meta.encoder)}`);
  const encoder = goldenWeightsFor(path.join(dir, '..', 'golden'), enc);
  if (!fs.existsSync(weights)) throw new UsageError(`no weights for case ${caseName}: ${weights}`);
  return { weights, encoder };
}

async function runGoldenSuite(p: Parsed): Promise<number> {
  const given = str(p, 'dir');
  const root = path.join(packageRoot(), 'test', 'fixtures');
  const dirs = given !== undefined ? [given] : [path.join(root, 'golden'), path.join(root, 'golden-vap')].filter((d, i) => i === 0 || fs.existsSync(d));
  for (const dir of dirs) if (!fs.existsSync(path.join(dir, 'index.json'))) throw new UsageError(`not a golden folder (no index.json): ${dir}`);
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
  const files: Array<{ dir: string; file: string; meta: Record<string, unknown> }> = [];
  for (const dir of dirs) {
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    for (const [n, meta] of Object.entries(index)) files.push({ dir, file: path.join(dir, 'cases', `${n}.safetensors`), meta });
    const onnxDir = path.join(dir, 'onnx');
    if (fs.existsSync(onnxDir)) for (const f of fs.readdirSync(onnxDir).sort()) if (f.endsWith('.safetensors')) files.push({ dir, file: path.join(onnxDir, f), meta: {} });
  }
  const selected = files.filter((f) => !only || only.test(path.basename(f.file, '.safetensors')));
  if (selected.length === 0) throw new UsageError(`no golden case matches --only ${o}`);
  const backend = await useBackend(p);
  registerMimiParity();
  registerVapParity();
  const stores = new Map<string, WeightStore>();
  const open = async (f: string, enc = false) => {
    if (!stores.has(f)) stores.set(f, enc ? await openVapEncoderWeights(f) : await openWeights(f));
    return stores.get(f)!;
  };
  let passed = 0;
  const t0 = performance.now();
  for (const { dir, file, meta } of selected) {
    const name = path.basename(file, '.safetensors');
    const isVap = typeof meta.kind === 'string' && meta.kind.startsWith('vap_');
    const t = performance.now();
    let opts;
    if (isVap) {
      const w = goldenVapWeightsFor(dir, meta, name);
      opts = { weights: await open(w.weights), encoderWeights: await open(w.encoder, true) };
    } else opts = { weights: await open(goldenWeightsFor(dir, name)) };
    const r = await runParity(loadCase(file), { ...opts, signalsDir: path.join(dir, 'signals'), tolerance });
    if (r.pass) passed++;
    const line = { case: r.case, kind: r.kind, shape_ok: r.shape_ok, emitted_ok: r.emitted_ok, max_abs: r.max_abs, rel: r.rel, pass: r.pass };
    process.stdout.write(JSON.stringify({ ...line, seconds: +((performance.now() - t) / 1000).toFixed(2) }) + '\n');
  }
  const summary = { backend, cases: selected.length, passed, failed: selected.length - passed, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
  process.stdout.write(JSON.stringify({ summary }) + '\n');
  return passed === selected.length ? 0 : 1;
}
