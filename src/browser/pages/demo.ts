/**
 * The demo page (/): an encoder on the microphone or a WAV file through MaAI's streaming loop (EncoderSession),
 * with a scrolling heat-map of the features, per-call latency and real-time factor. body[data-state] is
 * idle | loading | running | stopped | error, for people and for the browser test.
 */
import {
  BrowserBackendName,
  EncoderCPC,
  EncoderMimi,
  EncoderSession,
  FeatureHeatmap,
  MIMI_CONFIG,
  MIMI_TINY_OVERRIDES,
  MicrophoneInput,
  PacedSource,
  TimedSession,
  WeightStore,
  fetchBytes,
  loadWeights,
  mimiConfig,
  playPaced,
  readWavMono,
  resample,
  setBackend,
  startMicrophone,
  tf,
} from '../index';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const value = (id: string) => ($(id) as HTMLInputElement | HTMLSelectElement).value;

const DEFAULT_WEIGHTS: Record<string, string> = {
  cpc: '/data/weights/cpc_lstm_manifest.json',
  'mimi-tiny': '/data/weights/mimi_tiny_weights.safetensors',
  'mimi-full': '/data/weights/mimi_full_manifest.json',
};

interface Running {
  timed: TimedSession;
  encoder: EncoderCPC | EncoderMimi;
  input: MicrophoneInput | PacedSource;
  startedAt: number;
  timer: ReturnType<typeof setInterval>;
}

let running: Running | null = null;
const heatmap = new FeatureHeatmap($<HTMLCanvasElement>('heatmap'));

function setState(state: string, status: string): void {
  document.body.dataset.state = state;
  $('status').textContent = status;
}

function showError(message: string): void {
  const el = $('error');
  el.textContent = message;
  el.hidden = false;
  setState('error', 'stopped after an error');
}

function weightsKey(): string {
  return value('encoder') === 'cpc' ? 'cpc' : `mimi-${value('mimiConfig')}`;
}

function syncForm(): void {
  const mimi = value('encoder') === 'mimi';
  document.querySelectorAll<HTMLElement>('.mimi-only').forEach((el) => (el.hidden = !mimi));
  const url = $<HTMLInputElement>('weightsUrl');
  if (!url.value || Object.values(DEFAULT_WEIGHTS).includes(url.value)) url.value = DEFAULT_WEIGHTS[weightsKey()];
}

/** Presets the form from the query string (?encoder=&config=&hz=&backend=&weights=&source=&wav=&autostart=1). */
function applyQuery(q: URLSearchParams): void {
  const set = (id: string, v: string | null) => {
    if (v !== null) ($(id) as HTMLInputElement).value = v;
  };
  set('encoder', q.get('encoder'));
  set('mimiConfig', q.get('config'));
  set('frameHz', q.get('hz'));
  set('backend', q.get('backend'));
  syncForm();
  set('weightsUrl', q.get('weights'));
  set('wavUrl', q.get('wav'));
  const source = q.get('source') ?? (q.get('wav') ? 'file' : null);
  if (source) document.querySelectorAll<HTMLInputElement>('input[name=source]').forEach((r) => (r.checked = r.value === source));
}

async function loadStore(): Promise<WeightStore> {
  const file = $<HTMLInputElement>('weightsFile').files?.[0];
  const bar = $<HTMLProgressElement>('weightsProgress');
  const onProgress = (p: { loaded: number; total: number | null; fromCache: boolean }) => {
    if (p.total) bar.value = p.loaded / p.total;
    setState('loading', `weights: ${(p.loaded / 1e6).toFixed(1)}${p.total ? ` of ${(p.total / 1e6).toFixed(1)}` : ''} MB${p.fromCache ? ' (from the browser cache)' : ''}`);
  };
  if (file) return loadWeights(file, { onProgress });
  const url = value('weightsUrl').trim();
  if (!url) throw new Error('no weights: give a weights URL or choose a file');
  return loadWeights(url, { onProgress });
}

function buildEncoder(store: WeightStore): EncoderCPC | EncoderMimi {
  const kind = value('encoder');
  try {
    if (kind === 'cpc') return EncoderCPC.load(store);
    const config = value('mimiConfig') === 'tiny' ? mimiConfig(MIMI_TINY_OVERRIDES) : mimiConfig({ ...MIMI_CONFIG });
    return EncoderMimi.load(store, { frameHz: Number(value('frameHz')), config });
  } catch (e) {
    throw new Error(`these weights do not fit the ${kind === 'cpc' ? 'CPC' : `Mimi (${value('mimiConfig')})`} encoder: ${(e as Error).message}`);
  }
}

/** The chosen WAV (file input, else URL) as 16 kHz mono. */
async function loadWav(): Promise<Float32Array> {
  const file = $<HTMLInputElement>('wavFile').files?.[0];
  const url = value('wavUrl').trim();
  if (!file && !url) throw new Error('no WAV file: choose one, or pick the microphone');
  const bytes = file ? new Uint8Array(await file.arrayBuffer()) : (await fetchBytes(url, { cache: false })).bytes;
  let wav: { sampleRate: number; samples: Float32Array };
  try {
    wav = readWavMono(bytes, 'mix');
  } catch (e) {
    throw new Error(`${file ? file.name : url} is not a WAV file this page can read: ${(e as Error).message}`);
  }
  return wav.sampleRate === 16000 ? wav.samples : resample(wav.samples, wav.sampleRate, 16000);
}

function showFigures(r: Running): void {
  const f = r.timed.figures();
  $('audioS').textContent = `${f.audioSeconds.toFixed(1)} s`;
  $('calls').textContent = String(f.calls);
  $('frames').textContent = String(f.frames);
  $('median').textContent = f.latency ? `${f.latency.median.toFixed(1)} ms` : '-';
  $('p95').textContent = f.latency ? `${f.latency.p95.toFixed(1)} ms` : '-';
  $('rtf').textContent = f.rtf === null ? '-' : f.rtf.toFixed(3);
  const stats = $('stats');
  stats.dataset.frames = String(f.frames);
  stats.dataset.calls = String(f.calls);
  stats.dataset.audioSeconds = f.audioSeconds.toFixed(3);
  stats.dataset.elapsedSeconds = ((performance.now() - r.startedAt) / 1000).toFixed(3);
  if (f.latency) stats.dataset.medianMs = f.latency.median.toFixed(3);
  if (f.latency) stats.dataset.p95Ms = f.latency.p95.toFixed(3);
  if (f.rtf !== null) stats.dataset.rtf = f.rtf.toFixed(4);
  // Live tensors: flat while streaming (every tensor a step makes is disposed).
  stats.dataset.tensors = String(tf.memory().numTensors);
}

async function start(): Promise<void> {
  if (running) return;
  $('error').hidden = true;
  $<HTMLButtonElement>('start').disabled = true;
  let encoder: EncoderCPC | EncoderMimi | null = null;
  try {
    const backend = value('backend') as BrowserBackendName;
    setState('loading', `starting the ${backend} backend...`);
    const report = await setBackend(backend);
    $('backend').title = JSON.stringify(report);
    const store = await loadStore();
    setState('loading', 'building the encoder...');
    encoder = buildEncoder(store);
    const timed = new TimedSession(new EncoderSession(encoder));
    heatmap.clear();
    const onChunk = (chunk: Float32Array) => {
      if (!running) return;
      try {
        const out = timed.push(chunk);
        heatmap.push(out.data, out.frames, out.dim);
      } catch (e) {
        void stop();
        showError(`encoding failed: ${(e as Error).message}`);
      }
    };
    const source = document.querySelector<HTMLInputElement>('input[name=source]:checked')?.value ?? 'mic';
    let input: MicrophoneInput | PacedSource;
    if (source === 'mic') {
      setState('loading', 'waiting for the microphone...');
      input = await startMicrophone(onChunk);
    } else {
      const samples = await loadWav();
      input = playPaced(samples, onChunk);
      void input.done.then(() => running && stop());
    }
    const startedAt = performance.now();
    running = { timed, encoder, input, startedAt, timer: setInterval(() => running && showFigures(running), 250) };
    encoder = null;
    $<HTMLButtonElement>('stop').disabled = false;
    const where = backend === 'wasm' ? `wasm, ${report.threads} thread${report.threads === 1 ? '' : 's'}` : `${backend}${report.renderer ? ` (${report.renderer})` : ''}`;
    setState('running', `running ${value('encoder')} on ${where}, input: ${source === 'mic' ? 'microphone' : 'WAV file'}`);
  } catch (e) {
    encoder?.dispose();
    $<HTMLButtonElement>('start').disabled = false;
    showError((e as Error).message);
  }
}

async function stop(): Promise<void> {
  const r = running;
  if (!r) return;
  running = null;
  clearInterval(r.timer);
  await r.input.stop();
  showFigures(r);
  r.timed.close();
  r.encoder.dispose();
  $<HTMLButtonElement>('start').disabled = false;
  $<HTMLButtonElement>('stop').disabled = true;
  if (document.body.dataset.state !== 'error') setState('stopped', 'stopped');
}

$('encoder').addEventListener('change', syncForm);
$('mimiConfig').addEventListener('change', syncForm);
$('start').addEventListener('click', () => void start());
$('stop').addEventListener('click', () => void stop());
const query = new URLSearchParams(location.search);
applyQuery(query);
if (query.get('autostart') === '1') void start();
