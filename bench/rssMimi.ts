// Peak RSS of a user-like process holding the full Mimi: load its weights from a safetensors file, run 200 streaming
// steps, encode 10 s offline. Prints RSS after each phase.
// Usage: node scripts/run-ts.mjs bench/rssMimi.ts [MIMI.safetensors] [--backend wasm|tensorflow|...] (default wasm)
// Without a file, the deterministic full-size weights are written to a temporary safetensors file by a child
// process first, so that building them does not count in this process's RSS.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendName, setBackend } from '../src/backend';
import { EncoderMimi } from '../src/models/mimi/encoderMimi';
import { openWeights } from '../src/weights/store';
import { benchSignal } from '../src/bench/bench';
import { buildFromManifest, readManifest } from '../src/weights/detweights';
import { writeSafetensors } from '../src/weights/safetensors';

const MANIFEST = 'test/fixtures/golden/weights/mimi_full_manifest.json';
const rss = (l: string) =>
  console.log(`${l.padEnd(14)} rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB, peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

(async () => {
  if (process.argv[2] === '--write') {
    fs.writeFileSync(process.argv[3], writeSafetensors(buildFromManifest(readManifest(MANIFEST))));
    return;
  }
  let file = process.argv[2]?.startsWith('--') ? undefined : process.argv[2];
  let temp: string | null = null;
  if (!file) {
    temp = path.join(os.tmpdir(), `maai-rss-${process.pid}.safetensors`);
    const r = spawnSync(process.execPath, [process.argv[1], '--write', temp], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('could not write the weights');
    file = temp;
  }
  try {
    const b = process.argv.indexOf('--backend');
    console.log(`backend ${await setBackend((b > 0 ? process.argv[b + 1] : 'wasm') as BackendName)}`);
    rss('start');
    const enc = EncoderMimi.load(await openWeights(file), { frameHz: 12.5 });
    rss('loaded');
    const x = benchSignal(10);
    const s = enc.stream();
    for (let i = 0; i < 200; i++) s.step(x.subarray(((i * 1280) % 100000), ((i * 1280) % 100000) + 1600)).dispose();
    rss('200 steps');
    enc.forward(x).dispose();
    rss('offline 10 s');
    console.log(`${(tf.memory().numBytes / 2 ** 20).toFixed(1)} MB in tensors`);
  } finally {
    if (temp) fs.rmSync(temp, { force: true });
  }
})();
