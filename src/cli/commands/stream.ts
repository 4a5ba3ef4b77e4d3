import { EncoderSession } from '../../pipeline/encoderSession';
import { writeSafetensors } from '../../weights/safetensors';
import { stats } from '../../bench/stats';
import { UsageError, num, parseArgs, str } from '../args';
import { ENCODE_FLAGS, channelFlag, encoderFlag, frameHzFlag, loadEncoder, mimiConfigFile, onePositional, readInputAudio, required, useBackend } from './common';
import { assertFiniteFeatures } from '../../models/offline';
import { checkOutput, writeOutput } from '../output';
import type { Command } from './command';
import { concatRows } from '../../util/concat';

export const stream: Command = {
  summary: "run MaAI's realtime loop over a WAV file and report per-call latency and real-time factor",
  help:
    'Usage: maai-encoder stream IN.wav --encoder cpc|mimi --weights FILE [--frame-hz HZ] [--realtime]\n' +
    '         [--chunk 160] [-o OUT.safetensors] [--channel N|mix] [--clip] [--backend B] [--json]\n' +
    '         [--mimi-config kyutai/mimi|tiny|CONFIG.json] [--name-map cpc-checkpoint|vap|JSON]\n\n' +
    'Feeds the audio in --chunk-sample pieces (10 ms) through an encoder session, as fast as possible or, with\n' +
    '--realtime, at the pace the audio would arrive. Prints per-call latency (median, p95, max) and the real-time\n' +
    'factor (processing time / audio time). -o writes the features. Samples outside ±65536 are refused unless\n' +
    '--clip clips the input to [-1, 1]; non-finite features are an error.',
  async run(argv) {
    const p = parseArgs(argv, { ...ENCODE_FLAGS, realtime: { type: 'boolean' }, chunk: { type: 'string' }, json: { type: 'boolean' } });
    const input = onePositional(p, 'input WAV file');
    const kind = encoderFlag(p);
    const weightsFile = required(p, 'weights');
    const chunk = num(p, 'chunk', 160)!;
    if (!Number.isInteger(chunk) || chunk < 1) throw new UsageError(`--chunk must be a positive integer, got ${chunk}`);
    const channel = channelFlag(p);
    const outFlag = str(p, 'output');
    const out = outFlag === undefined ? undefined : checkOutput(outFlag, [['input', input], ['weights file', weightsFile], ['Mimi config', mimiConfigFile(p)]]);
    await useBackend(p);
    const wave = readInputAudio(p, input, channel, true);
    const frameHz = frameHzFlag(p, kind);
    const encoder = await loadEncoder(p, kind, weightsFile, frameHz);
    const session = new EncoderSession(encoder, { callHz: frameHz });
    const latencies: number[] = [];
    const parts: Float32Array[] = [];
    let frames = 0;
    const t0 = performance.now();
    for (let pos = 0; pos < wave.length; pos += chunk) {
      if (p.flags.realtime) {
        const due = t0 + (pos / 16000) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const callsBefore = session.calls;
      const t = performance.now();
      const r = session.push(wave.subarray(pos, Math.min(pos + chunk, wave.length)));
      if (session.calls > callsBefore) latencies.push((performance.now() - t) / (session.calls - callsBefore));
      if (r.frames) {
        parts.push(r.data);
        frames += r.frames;
      }
    }
    const last = session.flush();
    if (last.frames) {
      parts.push(last.data);
      frames += last.frames;
    }
    const elapsed = (performance.now() - t0) / 1000;
    const busy = latencies.reduce((a, b) => a + b, 0) / 1000;
    const audioS = wave.length / 16000;
    const st = latencies.length ? stats(latencies) : null;
    const report = {
      encoder: kind,
      calls: latencies.length,
      frames,
      audio_s: audioS,
      elapsed_s: elapsed,
      rtf: busy / audioS,
      call_ms_median: st?.median ?? null,
      call_ms_p95: st?.p95 ?? null,
      call_ms_max: st?.max ?? null,
    };
    if (p.flags.json) process.stdout.write(JSON.stringify(report) + '\n');
    else {
      process.stdout.write(
        `${kind}: ${report.calls} calls, ${frames} frames from ${audioS.toFixed(2)} s of audio\n` +
          (st ? `per call ms: median ${st.median.toFixed(2)}  p95 ${st.p95.toFixed(2)}  max ${st.max.toFixed(2)}\n` : '') +
          `real-time factor ${report.rtf.toFixed(4)} (encoder time / audio time)${p.flags.realtime ? `, wall ${elapsed.toFixed(2)} s` : ''}\n`,
      );
    }
    const data = concatRows(parts);
    assertFiniteFeatures(data, frames, encoder.dim, 'stream');
    if (out) {
      writeOutput(out, writeSafetensors([['features', { dtype: 'F32', shape: [frames, encoder.dim], data }]], { encoder: kind, streaming: 'true', frames: String(frames), source: input }));
    }
    encoder.dispose();
    return 0;
  },
};
