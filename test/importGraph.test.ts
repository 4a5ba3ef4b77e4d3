/**
 * The source tree's import graph (every import, export-from and dynamic import, type-only ones included):
 * layers never import models; nothing outside src/cli imports the CLI; nothing in src imports test code; no cycles.
 * And the public API: the root export carries no harness internals, the subpaths carry them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const SRC = path.join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative specifiers of a file's imports, resolved to files (repo-relative); packages are left out. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => {
      const base = path.resolve(path.dirname(file), s);
      const hit = [`${base}.ts`, path.join(base, 'index.ts'), base].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
      if (!hit) throw new Error(`${path.relative(ROOT, file)}: cannot resolve import "${s}"`);
      return path.relative(ROOT, hit);
    });
}

const graph = new Map(sourceFiles(SRC).map((f) => [path.relative(ROOT, f), importsOf(f)]));
const edges = [...graph].flatMap(([from, tos]) => tos.map((to) => [from, to] as const));

describe('import graph of src', () => {
  it('is read (sanity: known edges are seen)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('src/models/mimi/mimiStream.ts')).toContain('src/models/mimi/mimi.ts');
    expect(graph.get('src/cli/commands/index.ts')).toContain('src/cli/commands/command.ts');
  });

  it('layers never import models (or the pipeline, the CLI, the harness)', () => {
    const bad = edges.filter(([a, b]) => a.startsWith('src/layers/') && /^src\/(models|pipeline|cli|parity|bench)\//.test(b));
    expect(bad).toEqual([]);
  });

  it('nothing outside src/cli imports the CLI, and nothing imports test code', () => {
    expect(edges.filter(([a, b]) => !a.startsWith('src/cli/') && b.startsWith('src/cli/'))).toEqual([]);
    expect(edges.filter(([, b]) => !b.startsWith('src/'))).toEqual([]);
  });

  it('the parity harness imports nothing from the CLI, models nothing from the harness', () => {
    expect(edges.filter(([a, b]) => /^src\/(models|layers|audio|weights|pipeline)\//.test(a) && /^src\/(parity|bench)\//.test(b))).toEqual([]);
  });

  it('has no cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[][] = [];
    const visit = (f: string, stack: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(f)), f]);
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });
});

describe('public API', () => {
  it('the root export has the user API and no harness internals; the subpaths have those', () => {
    const root = require('../src/index');
    const parity = require('../src/subpaths/parity');
    const layers = require('../src/subpaths/layers');
    for (const k of ['EncoderCPC', 'EncoderMimi', 'CpcStream', 'MimiStream', 'EncoderSession', 'encodeStream', 'buildAudioEncoder', 'RealtimeLoop', 'runRealtime', 'openWeights', 'readSafetensors', 'readWav', 'readAudio16k', 'setBackend', 'compareArrays']) {
      expect([k, k in root]).toEqual([k, true]);
    }
    for (const k of ['runParity', 'loadCase', 'runBench', 'runLongStream', 'Conv1d', 'MimiAttention', 'sincResample']) expect([k, k in root]).toEqual([k, false]);
    for (const k of ['runParity', 'loadCase', 'registerMimiParity', 'compareArrays', 'runBench', 'runLongStream']) expect([k, k in parity]).toEqual([k, true]);
    for (const k of ['Conv1d', 'MimiAttention', 'SeanetEncoder', 'CausalStreamingResampler', 'sincResample']) expect([k, k in layers]).toEqual([k, true]);
  });
});
