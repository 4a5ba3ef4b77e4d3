// ms per streaming call of the full-size CPC and Mimi in headless Chromium, per backend, through /bench.html
// (deterministic weights generated in the page). Prints one JSON line per run; asserts nothing.
// Usage: node scripts/benchBrowser.mjs [--backends wasm,wasm:2,webgl,webgpu] [--encoders cpc,mimi]
//          [--calls 50] [--runs 3] [--warmup 5] [--gpu-calls 5]
// "wasm:N" runs wasm with N threads (the page is cross-origin isolated). webgl/webgpu use --gpu-calls (one run):
// on a machine without a GPU Chromium renders them in software (SwiftShader), which is slow.
import * as path from 'node:path';
import { launch, runPage, startServer, ROOT } from '../test/browser/chromium.mjs';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const backends = flag('backends', 'wasm,wasm:2,webgl,webgpu').split(',');
const encoders = flag('encoders', 'cpc,mimi').split(',');
const calls = Number(flag('calls', '50'));
const runs = Number(flag('runs', '3'));
const warmup = Number(flag('warmup', '5'));
const gpuCalls = Number(flag('gpu-calls', '5'));

const server = await startServer(path.join(ROOT, 'test', 'fixtures', 'golden'));
const browser = await launch();
try {
  for (const b of backends) {
    const [backend, threads] = b.split(':');
    for (const encoder of encoders) {
      const gpu = backend === 'webgl' || backend === 'webgpu';
      const q = new URLSearchParams({ encoder, backend, calls: String(gpu ? gpuCalls : calls), runs: String(gpu ? 1 : runs), warmup: String(gpu ? 2 : warmup) });
      if (threads) q.set('threads', threads);
      const r = await runPage(browser, `${server.url}bench.html?${q}`, 1_800_000);
      process.stdout.write(r.result + '\n');
    }
  }
} finally {
  await browser.close();
  server.stop();
}
