/**
 * /bench.html?encoder=cpc|mimi&backend=B[&threads=N][&calls=100][&runs=3][&warmup=10]: ms per streaming call of
 * the full-size encoder (deterministic weights of the kyutai/mimi and CPC checkpoint layouts, generated in the
 * page) through MaAI's windows (320 context + 100 ms for CPC, + 80 ms for Mimi at 12.5 Hz), timed as the Node
 * bench times them (src/bench/bench.ts). Prints one JSON object in #result; asserts nothing.
 */
import { fullManifests } from '../../bench/manifests';
import { benchSignal, timeStream } from '../../bench/bench';
import { BrowserBackendName, EncoderCPC, EncoderMimi, MIMI_CONFIG, WeightStore, buildFromManifest, setBackend } from '../index';

const $ = (id: string) => document.getElementById(id)!;

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const encoder = q.get('encoder') ?? 'cpc';
  if (encoder !== 'cpc' && encoder !== 'mimi') throw new Error(`encoder must be cpc or mimi, got "${encoder}"`);
  const backend = (q.get('backend') ?? 'wasm') as BrowserBackendName;
  const num = (k: string, d: number) => {
    const v = q.get(k) === null ? d : Number(q.get(k));
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer`);
    return v;
  };
  const calls = num('calls', 100);
  const runs = num('runs', 3);
  const warmup = num('warmup', 10);
  const report = await setBackend(backend, { threads: q.get('threads') ? Number(q.get('threads')) : undefined });
  $('status').textContent = `building full-size ${encoder} weights...`;
  await new Promise((r) => setTimeout(r, 0));
  const manifests = fullManifests();
  const t0 = performance.now();
  const store = WeightStore.fromTensors(buildFromManifest(encoder === 'cpc' ? manifests.cpc : manifests.mimi), `${encoder} detweights`);
  const enc = encoder === 'cpc' ? EncoderCPC.load(store) : EncoderMimi.load(store, { frameHz: 12.5, config: { ...MIMI_CONFIG } });
  const loadS = (performance.now() - t0) / 1000;
  const callMs = encoder === 'cpc' ? 100 : 80;
  const shift = (16000 * callMs) / 1000;
  const W = 320 + shift;
  const signal = benchSignal(10);
  const window = (k: number) => {
    const off = (k * shift) % (signal.length - W);
    return signal.subarray(off, off + W);
  };
  $('status').textContent = `timing ${runs} x ${calls} calls after ${warmup} warm-up calls...`;
  await new Promise((r) => setTimeout(r, 0));
  const st = timeStream(enc.stream(), 1, W, window, warmup, runs, calls);
  enc.dispose();
  const result = { encoder, call_ms: callMs, ms_median: st.median, ms_p95: st.p95, ms_min: st.min, ms_max: st.max, runs, calls, build_s: loadS, ...report };
  $('result').textContent = JSON.stringify(result);
  $('status').textContent = 'done';
  document.body.dataset.state = 'done';
}

main().catch((e: Error) => {
  $('result').textContent = JSON.stringify({ error: e.message });
  $('status').textContent = `error: ${e.message}`;
  document.body.dataset.state = 'error';
});
