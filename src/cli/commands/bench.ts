import { runBench } from '../../bench/bench';
import { UsageError, num, parseArgs, str } from '../args';
import { BACKEND_FLAG, useBackend } from './common';
import * as os from 'node:os';
import { tensorflowThreads, wasmThreads } from '../../backend';
import { tracedStepsUnavailable } from '../../backend/tfFunction';
import type { Command } from './command';

export const bench: Command = {
  summary: 'benchmark the full-size encoders: streaming ms per call, offline RTF, load time, peak RSS',
  help:
    'Usage: maai-encoder bench [--backend B] [--encoder cpc|mimi|vap|all] [--calls 100] [--runs 5] [--seconds 10] [--json]\n\n' +
    'Runs full-size CPC and Mimi (deterministic weights) on a synthetic signal: ms per streaming call (median,\n' +
    'p95, min, max; --runs runs of --calls calls after warm-up, the median of the run medians; Mimi after the 130 calls\n' +
    'that fill its KV buffer, whose mean is mimi_stream_first10s_ms_mean), offline real-time factor on --seconds of audio (median of\n' +
    '--runs), weight load time from safetensors, peak RSS. With --json the last line is one JSON object.\n' +
    '--encoder vap (part of all): MaAI\'s two-channel VAP pipeline (CPC + VAP, full Mimi + VAP, Maai\'s default 20 s\n' +
    'context, timed once the cache is full), ms per 100 ms of audio on both channels (vap_cpc_stream_ms_median,\n' +
    'vap_mimi_stream_ms_median, p95) and offline RTF.',
  async run(argv) {
    const p = parseArgs(argv, { ...BACKEND_FLAG, json: { type: 'boolean' }, encoder: { type: 'string' }, calls: { type: 'string' }, runs: { type: 'string' }, seconds: { type: 'string' } });
    const which = str(p, 'encoder') ?? 'all';
    if (!['cpc', 'mimi', 'vap', 'all'].includes(which)) throw new UsageError(`--encoder must be cpc, mimi, vap or all, got "${which}"`);
    const backend = await useBackend(p);
    const log = (l: string) => process.stdout.write(l + '\n');
    const th = backend === 'wasm' ? await wasmThreads() : null;
    // TensorFlow's intra-op pool: as asked (--threads / TF_NUM_INTRAOP_THREADS), else its default, the CPU count.
    const native = backend === 'tensorflow' || backend === 'cuda';
    const tfThreads = native ? (tensorflowThreads() ?? os.cpus().length) : null;
    const traced = native ? tracedStepsUnavailable() : null;
    log(
      `backend ${backend}${th ? ` (${th.threads} thread${th.threads > 1 ? 's' : ''})` : ''}` +
        (tfThreads ? ` (${tfThreads} intra-op threads; traced steps ${traced ? `off: ${traced}` : 'on'})` : ''),
    );
    const r = await runBench({
      calls: num(p, 'calls', 100),
      runs: num(p, 'runs', 5),
      seconds: num(p, 'seconds', 10),
      encoders: which === 'all' ? ['cpc', 'mimi', 'vap'] : [which as 'cpc' | 'mimi' | 'vap'],
      log,
    });
    if (th) r.wasm_threads = th.threads;
    if (tfThreads) {
      r.tf_threads = tfThreads;
      r.tf_traced_steps = traced ? 'off' : 'on';
    }
    if (p.flags.json) log(JSON.stringify(r));
    return 0;
  },
};
