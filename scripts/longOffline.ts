// Offline encoding of a long WAV through the CLI, in bounded memory, checked against the one-shot forward.
// Usage: node scripts/run-ts.mjs scripts/longOffline.ts [--encoder cpc|mimi|all] [--minutes 60] [--compare-minutes 2]
//          [--threads N] [--backend auto|wasm|tensorflow|...] [--ref-backend wasm|tensorflow|...] [--keep DIR]
// Builds first (node scripts/build.mjs), then per encoder:
//  1. writes a deterministic 16 kHz 16-bit WAV of --minutes (a tone mix with noise, as the bench uses) and the
//     full-size deterministic weights (Mimi: kyutai/mimi layout as a safetensors file; CPC: the LSTM manifest);
//  2. runs `maai-encoder encode` on it offline in a child process under /usr/bin/time: exit code, wall time and
//     peak RSS of that process (Mimi target: 1.5 GB);
//  3. encodes the first --compare-minutes plus a 2 s margin in one piece (EncoderX.forward with a chunk longer than
//     the signal) in this process and compares the frames of the first --compare-minutes with the same frames of the
//     long output: rel = max|y - ref| / rms(ref), bar 1e-5 (the margin keeps the one-shot's own end padding and
//     non-causal edge out of the compared frames).
// Prints one JSON line per encoder; exit 1 if a check fails.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, setBackend } from '../src/backend';
import { benchSignal } from '../src/bench/bench';
import { readWavMono, writeWav } from '../src/audio/wav';
import { EncoderCPC } from '../src/models/cpc/encoderCpc';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { compareArrays } from '../src/parity/compare';
import { buildFromManifest, readManifest } from '../src/weights/detweights';
import { readSafetensors, writeSafetensors } from '../src/weights/safetensors';
import { openWeights } from '../src/weights/store';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}

const which = flag('encoder', 'all');
const minutes = Number(flag('minutes', '60'));
const compareMinutes = Number(flag('compare-minutes', '2'));
const threads = flag('threads', '2');
// Backend of the `encode` child process (default: the CLI's own default, auto) and of the one-shot reference in
// this process (default wasm; a 2-minute one-shot full Mimi needs ~4 GB and is several times faster on tensorflow).
const backend = flag('backend', '');
const refBackend = flag('ref-backend', 'wasm');
const keep = flag('keep', '');
if (!['cpc', 'mimi', 'all'].includes(which) || !(minutes > 0) || !(compareMinutes > 0) || compareMinutes > minutes) {
  console.error('usage: longOffline.ts [--encoder cpc|mimi|all] [--minutes M] [--compare-minutes C <= M] [--threads N] [--backend B] [--ref-backend B] [--keep DIR]');
  process.exit(2);
}

async function main(): Promise<number> {
  const dir = keep || fs.mkdtempSync(path.join(os.tmpdir(), 'maai-long-'));
  fs.mkdirSync(dir, { recursive: true });
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
  const wavFile = path.join(dir, `signal_${minutes}min.wav`);
  if (!fs.existsSync(wavFile)) fs.writeFileSync(wavFile, writeWav(benchSignal(minutes * 60), 16000, 'pcm16'));
  // The samples exactly as `encode` reads them (16-bit quantised).
  const head = readWavMono(new Uint8Array(fs.readFileSync(wavFile))).samples.slice(0, Math.round((compareMinutes * 60 + 2) * 16000));
  await setBackend(refBackend as BackendName, { threads: Number(threads) });
  let failed = false;
  for (const kind of which === 'all' ? (['cpc', 'mimi'] as const) : [which as 'cpc' | 'mimi']) {
    let weights = 'src/bench/data/cpc_lstm_manifest.json';
    if (kind === 'mimi') {
      weights = path.join(dir, 'mimi_full.safetensors');
      if (!fs.existsSync(weights)) fs.writeFileSync(weights, writeSafetensors(buildFromManifest(readManifest('src/bench/data/mimi_full_manifest.json'))));
    }
    const out = path.join(dir, `${kind}_features.safetensors`);
    fs.rmSync(out, { force: true });
    const args = ['-f', '%M %e', process.execPath, 'dist/cli.js', 'encode', '--encoder', kind, '--weights', weights, '--threads', threads, wavFile, '-o', out, ...(backend ? ['--backend', backend] : [])];
    const r = spawnSync('/usr/bin/time', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    const lines = r.stderr.trim().split('\n');
    const [kb, wall] = lines[lines.length - 1].split(' ').map(Number);
    const report: Record<string, unknown> = { encoder: kind, backend: backend || 'auto', ref_backend: refBackend, minutes, exit: r.status, peak_rss_mb: Math.round(kb / 1024), wall_s: wall, rtf: +(wall / (minutes * 60)).toFixed(4) };
    if (r.status !== 0) {
      console.error(r.stderr);
      failed = true;
      console.log(JSON.stringify(report));
      continue;
    }
    console.error(`${kind}: encode exit ${r.status}, peak RSS ${report.peak_rss_mb} MB, wall ${wall} s; comparing with the one-shot forward...`);
    const feats = readSafetensors(new Uint8Array(fs.readFileSync(out))).tensors.get('features')!;
    const [frames, dim] = feats.shape;
    report.frames = frames;
    const finite = (feats.data as Float32Array).every(Number.isFinite);
    const enc = kind === 'mimi' ? EncoderMimi.load(await openWeights(weights), { frameHz: 12.5 }) : EncoderCPC.load(await openWeights(weights));
    const t0 = Date.now();
    const y = enc.forward(head, { chunkSamples: head.length + 16000 });
    report.one_shot_s = (Date.now() - t0) / 1000;
    const ref = (y.dataSync() as Float32Array).slice();
    y.dispose();
    enc.dispose();
    const n = Math.floor(compareMinutes * 60 * (kind === 'mimi' ? 12.5 : 50));
    const c = compareArrays((feats.data as Float32Array).subarray(0, n * dim), [n, dim], ref.subarray(0, n * dim), [n, dim]);
    Object.assign(report, { compared_frames: n, rel_first_minutes: c.rel, all_finite: finite, tensors_left: tf.memory().numTensors });
    const ok = finite && c.rel <= 1e-5 && (kind !== 'mimi' || kb / 1024 <= 1536);
    report.pass = ok;
    failed ||= !ok;
    console.log(JSON.stringify(report));
  }
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code));
