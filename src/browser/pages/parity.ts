/**
 * /parity.html?case=URL&weights=URL&signals=URL&backend=B[&threads=N][&tolerance=T]: runs a golden case in the
 * browser and shows the JSON line of `maai-encoder parity` in #result (#info: backend, timings, cache use).
 * `signals` is the folder holding <signal>.safetensors. body[data-state] ends as "done" or "error".
 */
import { BrowserBackendName, caseFromBytes, fetchBytes, loadWeights, parityLine, registerMimiParity, runParity, setBackend, signalFromBytes } from '../index';

const $ = (id: string) => document.getElementById(id)!;

function need(q: URLSearchParams, key: string): string {
  const v = q.get(key);
  if (!v) throw new Error(`missing query parameter "${key}" (usage: /parity.html?case=URL&weights=URL&signals=URL&backend=wasm|webgl|webgpu|cpu)`);
  return v;
}

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const caseUrl = need(q, 'case');
  const weightsUrl = need(q, 'weights');
  const backend = (q.get('backend') ?? 'wasm') as BrowserBackendName;
  const threads = q.get('threads') ? Number(q.get('threads')) : undefined;
  const tolerance = q.get('tolerance') ? Number(q.get('tolerance')) : undefined;
  $('status').textContent = `starting ${backend}...`;
  const report = await setBackend(backend, { threads });
  const t0 = performance.now();
  const caseName = decodeURIComponent(new URL(caseUrl, location.href).pathname.split('/').pop() ?? 'case');
  const c = caseFromBytes((await fetchBytes(caseUrl, { cache: false })).bytes, caseName);
  const weights = await loadWeights(weightsUrl, {
    onProgress: (p) => ($('status').textContent = `weights ${(p.loaded / 1e6).toFixed(1)}${p.total ? ` / ${(p.total / 1e6).toFixed(1)}` : ''} MB${p.fromCache ? ' (cache)' : ''}`),
  });
  let signal: Float32Array | undefined;
  if (typeof c.meta.signal === 'string') {
    const base = need(q, 'signals').replace(/\/?$/, '/');
    const url = new URL(`${c.meta.signal}.safetensors`, new URL(base, location.href)).href;
    const s = signalFromBytes((await fetchBytes(url, { cache: false })).bytes, url);
    if (s.sampleRate !== 16000) throw new Error(`${url}: sample rate ${s.sampleRate}, expected 16000`);
    signal = s.samples;
  }
  registerMimiParity();
  $('status').textContent = `running ${c.name} on ${backend}...`;
  const t1 = performance.now();
  const r = await runParity(c, { weights, signal, tolerance });
  const seconds = (performance.now() - t1) / 1000;
  $('result').textContent = JSON.stringify(parityLine(r));
  $('info').textContent = JSON.stringify({ ...report, weights_from_cache: weights.fromCache ?? false, load_s: +((t1 - t0) / 1000).toFixed(3), run_s: +seconds.toFixed(3) });
  $('status').textContent = r.pass ? 'pass' : 'FAIL';
  document.body.dataset.state = 'done';
}

main().catch((e: Error) => {
  $('result').textContent = JSON.stringify({ error: e.message });
  $('status').textContent = `error: ${e.message}`;
  document.body.dataset.state = 'error';
});
