// Shared by the browser tests and the browser bench: start `maai-encoder serve`, launch the system Chromium
// (headless, through puppeteer-core), open pages and wait for their result element.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

export const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Chromium executable: $CHROMIUM, else the first of the usual names on PATH. */
export function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      /* next */
    }
  }
  throw new Error('no Chromium found: install it (Debian: apt-get install -y chromium) or set CHROMIUM=/path/to/chrome');
}

/** Starts `maai-encoder serve --port 0 --data DIR`; resolves with { url, stop }. */
export async function startServer(dataDir) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'maai-encoder.js'), 'serve', '--port', '0', '--quiet', '--data', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      const m = text.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) resolve(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`maai-encoder serve exited with ${code}: ${text}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** Headless Chromium; `fakeAudio` (a WAV path) becomes the fake microphone. */
export async function launch({ fakeAudio } = {}) {
  const args = [
    '--no-sandbox', // CI runs as root
    '--headless=new',
    '--disable-dev-shm-usage',
    '--autoplay-policy=no-user-gesture-required',
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-angle=swiftshader',
    '--enable-unsafe-swiftshader',
  ];
  if (fakeAudio) args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${fakeAudio}`);
  return puppeteer.launch({ executablePath: chromiumPath(), args, headless: true, protocolTimeout: 600_000 });
}

/** Opens `url`, waits until body[data-state] is done or error; returns the text of #result and #info. */
export async function runPage(browser, url, timeoutMs = 300_000) {
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) logs.push(`http ${r.status()}: ${r.url()}`);
  });
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', { timeout: timeoutMs, polling: 200 });
    const [result, info, state] = await page.evaluate(() => [document.getElementById('result')?.textContent ?? '', document.getElementById('info')?.textContent ?? '', document.body.dataset.state]);
    return { result, info, state, logs };
  } finally {
    await page.close();
  }
}

export function writeTemp(name, bytes) {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'maai-browser-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
}
