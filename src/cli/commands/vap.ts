import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { buildVap } from '../../pipeline/buildVap';
import { Maai } from '../../pipeline/maai';
import { runVapOffline } from '../../pipeline/vapOffline';
import { disposeOutput } from '../../models/vap/vapModel';
import { writeSafetensors } from '../../weights/safetensors';
import { pyRound } from '../../util/pyRound';
import { Parsed, UsageError, num, parseArgs, str } from '../args';
import { BACKEND_FLAG, encoderFlag, mimiConfigFile, mimiConfigFlag, progress, readInputAudio, required, useBackend } from './common';
import { OutputTarget, checkOutput, writeOutput } from '../output';
import { vapPlotSvg } from '../vapPlot';
import type { Command } from './command';

/**
 * Two 16 kHz channels from a stereo file or two files (each mixed down), read as `encode` reads its input
 * (readInputAudio: resampling, the sample range check, --clip); the shorter is padded with zeros.
 */
function readTwoChannels(p: Parsed, files: string[], allowResample: boolean): [Float32Array, Float32Array] {
  let a: Float32Array;
  let b: Float32Array;
  if (files.length === 1) {
    a = readInputAudio(p, files[0], 0, allowResample);
    try {
      b = readInputAudio(p, files[0], 1, allowResample);
    } catch (e) {
      if (e instanceof RangeError && /channel 1 is out of range/.test(e.message)) {
        throw new UsageError(`${files[0]}: 1 channel; give a stereo file (one speaker per channel) or two mono files`);
      }
      throw e;
    }
  } else {
    a = readInputAudio(p, files[0], 'mix', allowResample);
    b = readInputAudio(p, files[1], 'mix', allowResample);
  }
  const n = Math.max(a.length, b.length);
  const pad = (x: Float32Array) => {
    if (x.length === n) return x;
    const y = new Float32Array(n);
    y.set(x);
    return y;
  };
  return [pad(a), pad(b)];
}

interface Row {
  t: number;
  p_now: [number, number];
  p_future: [number, number];
  vad: [number, number];
}

const pairs = (t: tf.Tensor): Array<[number, number]> => {
  const d = t.dataSync();
  return Array.from({ length: d.length / 2 }, (_, i) => [d[2 * i], d[2 * i + 1]] as [number, number]);
};

function writeTable(rows: Row[], out: OutputTarget | undefined, meta: Record<string, string>): void {
  const fmt = (v: number) => v.toFixed(6);
  const ext = out?.given.toLowerCase();
  if (out !== undefined && ext!.endsWith('.json')) {
    writeOutput(out, new TextEncoder().encode(JSON.stringify({ ...meta, frames: rows }) + '\n'));
  } else if (out !== undefined && ext!.endsWith('.safetensors')) {
    const T = rows.length;
    const flat = (k: 'p_now' | 'p_future' | 'vad') => Float32Array.from(rows.flatMap((r) => r[k]));
    writeOutput(
      out,
      writeSafetensors(
        [
          ['time', { dtype: 'F32', shape: [T], data: Float32Array.from(rows.map((r) => r.t)) }],
          ['p_now', { dtype: 'F32', shape: [T, 2], data: flat('p_now') }],
          ['p_future', { dtype: 'F32', shape: [T, 2], data: flat('p_future') }],
          ['vad', { dtype: 'F32', shape: [T, 2], data: flat('vad') }],
        ],
        meta,
      ),
    );
  } else {
    const lines = ['time_s,p_now_1,p_now_2,p_future_1,p_future_2,vad_1,vad_2'];
    for (const r of rows) lines.push([r.t.toFixed(4), ...r.p_now.map(fmt), ...r.p_future.map(fmt), ...r.vad.map(fmt)].join(','));
    const text = lines.join('\n') + '\n';
    if (out === undefined) process.stdout.write(text);
    else if (ext!.endsWith('.csv')) writeOutput(out, new TextEncoder().encode(text));
    else throw new UsageError(`-o ${out.given}: the output must end in .csv, .json or .safetensors`);
  }
}

export const vap: Command = {
  summary: "MaAI's VAP turn-taking model on two channels: vap IN.wav [IN2.wav] --encoder cpc|mimi --weights VAP",
  help:
    'Usage: maai-encoder vap IN.wav [IN2.wav] --encoder cpc|mimi --weights VAP [--encoder-weights ENC] [--stream]\n' +
    '         [-o OUT.csv|.json|.safetensors] [--plot OUT.svg] [--context-sec 20] [--frame-hz HZ]\n' +
    '         [--inference-chunk-frames N] [--mimi-config kyutai/mimi|tiny|CONFIG.json] [--no-resample] [--clip]\n' +
    '         [--backend B]\n\n' +
    'Runs the VAP model on a stereo WAV (channel 1 = speaker 1) or two mono WAVs (resampled to 16 kHz; the shorter\n' +
    'is padded with zeros). VAP is a MaAI VAP checkpoint (.pt state dict, safetensors or detweights manifest);\n' +
    'ENC the encoder\'s own weights (optional when VAP is a MaAI state dict, which carries its encoder).\n' +
    'Offline (default): both channels encoded whole, one forward over all frames. --stream: MaAI\'s realtime loop\n' +
    '(10 ms chunks, a VAP step every frame, KV cache trimmed to the context), one row per published step.\n' +
    'Writes a table of time_s, p_now, p_future and vad per speaker (CSV on stdout without -o); --plot draws\n' +
    'both waveforms with p_now, p_future and vad over time as SVG. --context-sec: Maai\'s context_len_sec\n' +
    '(context_limit = round(sec x frame_hz), Python rounding); --frame-hz defaults to the checkpoint\'s\n' +
    '(CPC: 100 / downsample kernel; Mimi 12.5). Inputs are read as `encode` reads them (samples outside ±65536 are\n' +
    'refused unless --clip); outputs are written atomically and never onto an input.',
  async run(argv) {
    const p = parseArgs(argv, {
      ...BACKEND_FLAG,
      encoder: { type: 'string' },
      weights: { type: 'string' },
      'encoder-weights': { type: 'string' },
      output: { type: 'string', short: 'o' },
      plot: { type: 'string' },
      stream: { type: 'boolean' },
      'context-sec': { type: 'string' },
      'frame-hz': { type: 'string' },
      'inference-chunk-frames': { type: 'string' },
      'mimi-config': { type: 'string' },
      'no-resample': { type: 'boolean' },
      clip: { type: 'boolean' },
    });
    if (p.positionals.length < 1 || p.positionals.length > 2) throw new UsageError(`expected one stereo WAV or two mono WAVs, got ${p.positionals.length} files`);
    const encoder = encoderFlag(p);
    const weights = required(p, 'weights');
    if (!fs.existsSync(weights)) throw new UsageError(`weights file not found: ${weights}`);
    const encWeights = str(p, 'encoder-weights');
    if (encWeights !== undefined && !fs.existsSync(encWeights)) throw new UsageError(`encoder weights file not found: ${encWeights}`);
    const contextSec = num(p, 'context-sec', 20)!;
    if (!(contextSec > 0)) throw new UsageError(`--context-sec must be positive, got ${contextSec}`);
    const frameHz = num(p, 'frame-hz');
    if (frameHz !== undefined && !(frameHz > 0)) throw new UsageError(`--frame-hz must be positive, got ${frameHz}`);
    const n = num(p, 'inference-chunk-frames', 1)!;
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--inference-chunk-frames must be a positive integer, got ${n}`);
    const out = str(p, 'output');
    if (out !== undefined && !/\.(csv|json|safetensors)$/i.test(out)) throw new UsageError(`-o ${out}: the output must end in .csv, .json or .safetensors`);
    const plot = str(p, 'plot');
    if (plot !== undefined && !plot.toLowerCase().endsWith('.svg')) throw new UsageError(`--plot ${plot}: only .svg is supported`);
    // Outputs are checked before any work: not a folder, not in a missing folder, not one of the inputs.
    const inputs: Array<[string, string | undefined]> = [...p.positionals.map((f): [string, string] => ['input', f]), ['weights file', weights], ['encoder weights', encWeights], ['Mimi config', mimiConfigFile(p)]];
    const outTarget = out === undefined ? undefined : checkOutput(out, inputs);
    const plotTarget = plot === undefined ? undefined : checkOutput(plot, out === undefined ? inputs : [...inputs, ['table output', out]]);
    const [w1, w2] = readTwoChannels(p, p.positionals, !p.flags['no-resample']);
    await useBackend(p);
    const built = await buildVap({ weights, encoderWeights: encWeights ?? null, encoder, frameHz, contextLenSec: contextSec, mimiConfig: mimiConfigFlag(p) });
    const { model } = built;
    const hz = model.config.frameHz;
    const spf = pyRound(16000 / hz);
    const rows: Row[] = [];
    try {
      if (p.flags.stream) {
        const m = new Maai(model, built.encoder, { inferenceChunkFrames: n });
        const tick = progress('vap');
        try {
          for (let pos = 0; pos < w1.length; pos += 160) {
            for (const r of m.process(w1.subarray(pos, pos + 160), w2.subarray(pos, pos + 160))) {
              rows.push({ t: r.endSample / 16000, p_now: r.pNow, p_future: r.pFuture, vad: r.vad });
            }
            tick(Math.min(w1.length, pos + 160), w1.length);
          }
        } finally {
          m.dispose();
        }
      } else {
        const r = runVapOffline(model, built.encoder, w1, w2);
        const [pn, pf, vd] = [pairs(r.out.pNow), pairs(r.out.pFuture), pairs(r.out.vad)];
        for (let i = 0; i < pn.length; i++) rows.push({ t: ((i + 1) * spf) / 16000, p_now: pn[i], p_future: pf[i], vad: vd[i] });
        disposeOutput(r.out);
        tf.dispose([r.enc, r.x1, r.x2]);
      }
    } finally {
      model.dispose();
      built.encoder.dispose();
    }
    const meta = { encoder, frame_hz: String(hz), context_limit: String(model.config.contextLimit), streaming: String(!!p.flags.stream), sources: p.positionals.join(',') };
    writeTable(rows, outTarget, meta);
    if (plot !== undefined) {
      const title = `VAP (${encoder}, ${hz} Hz${p.flags.stream ? ', streaming' : ''}): ${p.positionals.map((f) => path.basename(f)).join(' + ')}`;
      writeOutput(plotTarget!, new TextEncoder().encode(vapPlotSvg({ sampleRate: 16000, waves: [w1, w2], times: rows.map((r) => r.t), pNow: rows.map((r) => r.p_now), pFuture: rows.map((r) => r.p_future), vad: rows.map((r) => r.vad), title })));
    }
    process.stderr.write(`${rows.length} frames at ${hz} Hz${out ? ` -> ${out}` : ''}${plot ? `, plot ${plot}` : ''}\n`);
    return 0;
  },
};
