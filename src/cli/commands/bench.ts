import { runBench } from '../../bench/bench';
import { UsageError, num, parseArgs, str } from '../args';
import { BACKEND_FLAG, useBackend } from './common';
import { wasmThreads } from '../../backend';
import type { Command } from './command';

export const bench: Command = {
  summary: 'benchmark the full-size encoders: streaming ms per call, offline RTF, load time, peak RSS',
  help:
    'Usage: maai-encoder bench [--backend B] [--encoder cpc|mimi|all] [--calls 100] [--runs 5] [--seconds 10] [--json]\n\n' +
    'Runs full-size CPC and Mimi (deterministic weights) on a synthetic signal: ms per streaming call (median,\n' +
    'p95, min, max; --runs runs of --calls calls after warm-up, the median of the run medians), offline real-time factor on --seconds of audio (median of\n' +
    '--runs), weight load time from safetensors, peak RSS. With --json the last line is one JSON object.',
  async run(argv) {
    const p = parseArgs(argv, { ...BACKEND_FLAG, json: { type: 'boolean' }, encoder: { type: 'string' }, calls: { type: 'string' }, runs: { type: 'string' }, seconds: { type: 'string' } });
    const which = str(p, 'encoder') ?? 'all';
    if (!['cpc', 'mimi', 'all'].includes(which)) throw new UsageError(`--encoder must be cpc, mimi or all, got "${which}"`);
    const backend = await useBackend(p);
    const log = (l: string) => process.stdout.write(l + '\n');
    const th = backend === 'wasm' ? await wasmThreads() : null;
    log(`backend ${backend}${th ? ` (${th.threads} thread${th.threads > 1 ? 's' : ''})` : ''}`);
    const r = await runBench({
      calls: num(p, 'calls', 100),
      runs: num(p, 'runs', 5),
      seconds: num(p, 'seconds', 10),
      encoders: which === 'all' ? ['cpc', 'mimi'] : [which as 'cpc' | 'mimi'],
      log,
    });
    if (th) r.wasm_threads = th.threads;
    if (p.flags.json) log(JSON.stringify(r));
    return 0;
  },
};
