/** The `vap` command on a stereo WAV of two espeak-ng voices taking turns; `parity` on the VAP golden cases; inspect. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readWavMono, writeWav } from '../src/audio/wav';
import { resample } from '../src/audio/resample';
import { goldenVapPath } from './helpers/goldenVap';
import { goldenPath } from './helpers/golden';

const CLI = path.join(__dirname, '..', 'bin', 'maai-encoder.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maai-vap-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 900_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** espeak-ng speech at 16 kHz. */
function speak(voice: string, text: string): Float32Array {
  const f = path.join(tmp, `${voice.replace(/\W/g, '_')}.wav`);
  const r = spawnSync('espeak-ng', ['-v', voice, '-w', f, text], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`espeak-ng failed (is it installed? apt-get install espeak-ng): ${r.error ?? r.stderr}`);
  const w = readWavMono(new Uint8Array(fs.readFileSync(f)));
  return resample(w.samples, w.sampleRate, 16000);
}

/** Speaker 1 talks, speaker 2 answers, speaker 1 again: one speaker per channel of a stereo WAV. */
function dialogue(): string {
  const a1 = speak('en+m3', 'Hello, how are you doing today? I wanted to ask about the meeting.');
  const b1 = speak('en+f3', 'I am fine, thanks. The meeting is at three.');
  const a2 = speak('en+m3', 'Great, see you there.');
  const gap = 4000;
  const n = a1.length + gap + b1.length + gap + a2.length;
  const ch1 = new Float32Array(n);
  const ch2 = new Float32Array(n);
  ch1.set(a1, 0);
  ch2.set(b1, a1.length + gap);
  ch1.set(a2, a1.length + 2 * gap + b1.length);
  const f = path.join(tmp, 'dialogue.wav');
  fs.writeFileSync(f, writeWav([ch1, ch2], 16000, 'pcm16'));
  return f;
}

function readCsv(file: string): number[][] {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  expect(lines[0]).toBe('time_s,p_now_1,p_now_2,p_future_1,p_future_2,vad_1,vad_2');
  return lines.slice(1).map((l) => l.split(',').map(Number));
}

describe('maai-encoder vap', () => {
  let wav: string;
  beforeAll(() => {
    wav = dialogue();
  });

  it('turn-taking table and plot from a stereo dialogue (CPC, MaAI state dict alone, offline)', () => {
    const csv = path.join(tmp, 'cpc.csv');
    const svg = path.join(tmp, 'cpc.svg');
    const r = cli('vap', wav, '--encoder', 'cpc', '--weights', goldenVapPath('pt', 'vap_cpc_state_dict.pt'), '--context-sec', '3', '-o', csv, '--plot', svg);
    expect(r.err).toMatch(/frames at 10 Hz/);
    expect(r.code).toBe(0);
    const rows = readCsv(csv);
    const seconds = fs.statSync(wav).size / 2 / 2 / 16000;
    expect(rows.length).toBe(Math.floor((seconds * 16000) / 1600));
    for (const row of rows) {
      expect(row).toHaveLength(7);
      for (const v of row.slice(1)) expect(v >= 0 && v <= 1).toBe(true);
      expect(row[1] + row[2]).toBeCloseTo(1, 3);
    }
    const plot = fs.readFileSync(svg, 'utf8');
    expect(plot.startsWith('<svg')).toBe(true);
    expect((plot.match(/<path /g) ?? []).length).toBe(2 + 6);
    expect(plot).toContain('p_now');
  });

  it('streams with Mimi from two mono files into JSON', () => {
    const s = readWavMono(new Uint8Array(fs.readFileSync(wav)), 0).samples;
    const t = readWavMono(new Uint8Array(fs.readFileSync(wav)), 1).samples;
    const f1 = path.join(tmp, 'a.wav');
    const f2 = path.join(tmp, 'b.wav');
    fs.writeFileSync(f1, writeWav(s.subarray(0, 48000), 16000, 'float32'));
    fs.writeFileSync(f2, writeWav(t.subarray(0, 48000), 16000, 'float32'));
    const json = path.join(tmp, 'm.json');
    const r = cli('vap', f1, f2, '--encoder', 'mimi', '--weights', goldenVapPath('weights', 'vap_mimi_tiny_manifest.json'), '--encoder-weights', goldenPath('weights', 'mimi_tiny_weights.safetensors'), '--mimi-config', 'tiny', '--stream', '--inference-chunk-frames', '2', '-o', json);
    expect(r.code).toBe(0);
    const o = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(o).toMatchObject({ encoder: 'mimi', frame_hz: '12.5', streaming: 'true' });
    // 3 s at 12.5 Hz with 2 frames per step: 18 steps, published at the end of each 2560-sample step.
    expect(o.frames.map((f: { t: number }) => f.t)).toEqual(Array.from({ length: 18 }, (_, i) => ((i + 1) * 2560) / 16000));
    for (const f of o.frames) for (const v of [...f.p_now, ...f.p_future, ...f.vad]) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('exits 2 with one line on bad usage', () => {
    const mono = path.join(tmp, 'a.wav');
    for (const args of [
      ['vap', wav, '--weights', 'x.pt'],
      ['vap', mono, '--encoder', 'cpc', '--weights', goldenVapPath('pt', 'vap_cpc_state_dict.pt')],
      ['vap', wav, '--encoder', 'mimi', '--weights', goldenVapPath('pt', 'vap_cpc_state_dict.pt')],
      ['vap', wav, '--encoder', 'cpc', '--weights', goldenVapPath('pt', 'vap_cpc_state_dict.pt'), '-o', 'x.txt'],
      ['vap', wav, '--encoder', 'cpc', '--weights', goldenVapPath('weights', 'vap_cpc_manifest.json')],
    ]) {
      const r = cli(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('parity and inspect on VAP', () => {
  it('parity --golden runs every golden-vap case, all pass', () => {
    const r = cli('parity', '--golden', '--dir', goldenVapPath());
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    const cases = lines.filter((l) => l.case);
    expect(cases.map((c) => c.case).sort()).toEqual(Object.keys(require(goldenVapPath('index.json'))).sort());
    for (const c of cases) expect({ case: c.case, pass: c.pass, emitted_ok: c.emitted_ok, shape_ok: c.shape_ok }).toEqual({ case: c.case, pass: true, emitted_ok: true, shape_ok: true });
    expect(lines[lines.length - 1].summary).toMatchObject({ cases: 9, passed: 9 });
    expect(r.code).toBe(0);
  });

  it('parity CASE with --encoder-weights: one JSON line with every part; a wrong model fails', () => {
    const c = goldenVapPath('cases', 'vap_mimi_tiny_offline_duo_short.safetensors');
    const args = ['--signals', goldenVapPath('signals'), '--encoder-weights', goldenPath('weights', 'mimi_tiny_weights.safetensors'), '--json'];
    const r = cli('parity', c, '--weights', goldenVapPath('weights', 'vap_mimi_tiny_manifest.json'), ...args);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o.pass).toBe(true);
    expect(Object.keys(o.parts)).toEqual(expect.arrayContaining(['x1', 'enc1', 'logits', 'p_now', 'p_future', 'vad']));
    const bad = cli('parity', c, '--weights', goldenVapPath('weights', 'vap_cpc_manifest.json'), ...args);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/a mimi case but the weights are a cpc VAP checkpoint/);
  });

  it('weights inspect reports a VAP checkpoint configuration', () => {
    const r = cli('weights', 'inspect', goldenVapPath('pt', 'vap_cpc_state_dict.pt'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).vap).toMatchObject({ encoder: 'cpc', frameHz: 10, downsampleKernel: 10, dim: 256, channelLayers: 1, crossLayers: 3, numHeads: 4, ffnDim: 768 });
    const m = cli('weights', 'inspect', goldenVapPath('weights', 'vap_mimi_tiny_manifest.json'));
    expect(m.out).toMatch(/VAP checkpoint: encoder mimi .*12\.5 Hz.*dim 256/);
  });
});
