/** The `maai-encoder` command, run as users run it (the bundled dist/cli.js, rebuilt by globalSetup). */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readWav, readWavMono, writeWav } from '../src/audio/wav';
import { resample } from '../src/audio/resample';
import { readSafetensors, writeSafetensors } from '../src/weights/safetensors';
import { goldenPath, goldenSignal } from './helpers/golden';

const CLI = path.join(__dirname, '..', 'bin', 'maai-encoder.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maai-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const TINY = goldenPath('weights', 'mimi_tiny_weights.safetensors');

describe('maai-encoder basics', () => {
  it('prints help, version and info', () => {
    expect(cli('--help').code).toBe(0);
    expect(cli('--version').out).toMatch(/^\d+\.\d+\.\d+/);
    const info = cli('info');
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/wasm/);
    for (const c of ['info', 'weights', 'parity', 'encode', 'stream', 'convert', 'bench']) {
      const h = cli(c, '--help');
      expect(h.code).toBe(0);
      expect(h.out).toMatch(/Usage: maai-encoder/);
    }
  });

  it('exits 2 with one line on bad usage', () => {
    for (const args of [['nope'], ['parity'], ['encode', 'x.wav'], ['weights', 'inspect'], ['info', '--backend', 'bogus']]) {
      const r = cli(...args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('weights inspect', () => {
  it('lists every tensor of the tiny Mimi weights', () => {
    const r = cli('weights', 'inspect', TINY);
    expect(r.code).toBe(0);
    const { tensors } = readSafetensors(new Uint8Array(fs.readFileSync(TINY)));
    for (const name of tensors.keys()) expect(r.out).toContain(name);
    expect(tensors.size).toBe(55);
  });

  it('exits 2 naming the problem for a file truncated by one byte', () => {
    const f = path.join(tmp, 'trunc.safetensors');
    const b = fs.readFileSync(TINY);
    fs.writeFileSync(f, b.subarray(0, b.length - 1));
    const r = cli('weights', 'inspect', f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/trunc\.safetensors/);
    expect(r.err).toMatch(/data|offsets|bytes/i);
  });

  it('exits 2 naming the problem for a corrupted header length', () => {
    const f = path.join(tmp, 'hdr.safetensors');
    const b = Buffer.from(fs.readFileSync(TINY));
    b.writeBigUInt64LE(BigInt(b.length) * 4n, 0);
    fs.writeFileSync(f, b);
    const r = cli('weights', 'inspect', f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/header/i);
  });

  it('inspects a manifest and a PyTorch checkpoint', () => {
    const m = cli('weights', 'inspect', goldenPath('weights', 'cpc_lstm_manifest.json'));
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/encoder\.gAR\.baseNet\.weight_ih_l0/);
    const p = cli('weights', 'inspect', goldenPath('pt', 'encoder_cpc_state_dict.pt'));
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/downsample\.1\.weight/);
  });
});

describe('parity', () => {
  const args = [goldenPath('cases', 'cpc_lstm_stream_short_mix.safetensors'), '--signals', goldenPath('signals')];
  it('passes a golden case with exit 0 and one JSON line', () => {
    const r = cli('parity', ...args, '--weights', goldenPath('weights', 'cpc_lstm_manifest.json'));
    expect(r.code).toBe(0);
    const line = JSON.parse(r.out.trim());
    expect(line).toMatchObject({ case: 'cpc_lstm_stream_short_mix', kind: 'cpc_stream', shape_ok: true, emitted_ok: true, pass: true });
    expect(line.rel).toBeLessThanOrEqual(1e-4);
  });
  it('exits 1 when the numbers are out of tolerance', () => {
    const r = cli('parity', ...args, '--weights', goldenPath('weights', 'cpc_lstm_manifest.json'), '--tolerance', '1e-9');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out.trim()).pass).toBe(false);
  });
  it('exits 2 on weights of the wrong model', () => {
    const r = cli('parity', ...args, '--weights', goldenPath('weights', 'cpc_gru_manifest.json'), '--backend', 'cpu');
    // GRU weights for an LSTM case: the case's ar_mode does not match the weight shapes.
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/gAR|LSTM|GRU/);
  });
});

describe('encode', () => {
  it('gives the same features for a 44.1 kHz stereo WAV as for its 16 kHz mono version', () => {
    const x16 = goldenSignal('short_mix');
    const x44 = resample(x16, 16000, 44100);
    const stereo = [x44, x44.map((v) => 0.5 * v)];
    const wav44 = path.join(tmp, 'in44.wav');
    fs.writeFileSync(wav44, writeWav(stereo, 44100, 'float32'));
    // The 16 kHz mono version, made by the same mix-down and resampler the command uses.
    const mono = readWavMono(new Uint8Array(fs.readFileSync(wav44)), 'mix');
    const wav16 = path.join(tmp, 'in16.wav');
    fs.writeFileSync(wav16, writeWav(resample(mono.samples, 44100, 16000), 16000, 'float32'));
    const outs = [wav44, wav16].map((w, i) => {
      const o = path.join(tmp, `f${i}.safetensors`);
      const r = cli('encode', '--encoder', 'mimi', '--mimi-config', 'tiny', '--weights', TINY, '--stream', '--frame-hz', '12.5', w, '-o', o);
      expect(r.code).toBe(0);
      return readSafetensors(new Uint8Array(fs.readFileSync(o)));
    });
    const [a, b] = outs.map((o) => o.tensors.get('features')!);
    expect(a.shape).toEqual(b.shape);
    expect(a.shape[1]).toBe(64);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(b.data as Float32Array));
    expect(outs[0].metadata).toMatchObject({ encoder: 'mimi', frame_rate: '12.5', frames: String(a.shape[0]), streaming: 'true' });
  });

  it('encodes offline with CPC and writes metadata', () => {
    const wav = path.join(tmp, 'cpc.wav');
    fs.writeFileSync(wav, writeWav(goldenSignal('short_mix'), 16000, 'pcm16'));
    const o = path.join(tmp, 'cpc.safetensors');
    const r = cli('encode', '--encoder', 'cpc', '--weights', goldenPath('weights', 'cpc_lstm_manifest.json'), wav, '-o', o);
    expect(r.code).toBe(0);
    const f = readSafetensors(new Uint8Array(fs.readFileSync(o)));
    expect(f.tensors.get('features')!.shape[1]).toBe(256);
    expect(f.metadata.encoder).toBe('cpc');
  });

  it('exits 2 with a clear message on a broken WAV', () => {
    const good = writeWav(new Float32Array(1600), 16000, 'pcm16');
    const broken = path.join(tmp, 'broken.wav');
    fs.writeFileSync(broken, good.subarray(0, good.length - 100));
    const r = cli('encode', '--encoder', 'cpc', '--weights', goldenPath('weights', 'cpc_lstm_manifest.json'), broken, '-o', path.join(tmp, 'x.safetensors'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken\.wav|data chunk|truncated/i);
    expect(readWav(good).sampleRate).toBe(16000);
  });
});

// Issue 13, class 9: a float WAV far outside the audio range, and weights that overflow, never give features
// written with exit 0.
describe('encode and stream: out-of-range input, non-finite features', () => {
  const burstWav = () => {
    const x = goldenSignal('short_mix').slice(0, 32000);
    x.fill(3e38, 16000, 16160); // 10 ms
    const f = path.join(tmp, 'burst.wav');
    fs.writeFileSync(f, writeWav(x, 16000, 'float32'));
    return f;
  };

  it('refuses a burst of 3e38 with exit 2 and one line naming it, and encodes it with --clip', () => {
    const wav = burstWav();
    const o = path.join(tmp, 'burst.safetensors');
    for (const args of [['encode', '--encoder', 'mimi', '--mimi-config', 'tiny', '--frame-hz', '12.5', '--weights', TINY, wav, '-o', o], ['stream', wav, '--encoder', 'mimi', '--mimi-config', 'tiny', '--weights', TINY, '-o', o]]) {
      const r = cli(...args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/burst\.wav: sample 16000 \(1\.000 s\) is 3e\+38, outside the accepted range ±65536 \(full scale is ±1\); --clip clips the input to \[-1, 1\]/);
      expect(fs.existsSync(o)).toBe(false);
    }
    const r = cli('encode', '--encoder', 'mimi', '--mimi-config', 'tiny', '--frame-hz', '12.5', '--weights', TINY, '--clip', wav, '-o', o);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/160 samples clipped to \[-1, 1\]/);
    const feats = readSafetensors(new Uint8Array(fs.readFileSync(o))).tensors.get('features')!;
    expect(feats.shape).toEqual([25, 64]);
    expect((feats.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('exits 2 without writing when the weights make the features non-finite (offline, --stream, stream -o)', () => {
    const { tensors } = readSafetensors(new Uint8Array(fs.readFileSync(TINY)));
    const w = tensors.get('downsample.conv.weight')!;
    tensors.set('downsample.conv.weight', { ...w, data: new Float32Array(w.data.length).fill(3e38) });
    const bad = path.join(tmp, 'overflow.safetensors');
    fs.writeFileSync(bad, writeSafetensors(tensors));
    const wav = path.join(tmp, 'ok.wav');
    fs.writeFileSync(wav, writeWav(goldenSignal('short_mix').slice(0, 32000), 16000, 'float32'));
    const o = path.join(tmp, 'overflow_out.safetensors');
    const base = ['--encoder', 'mimi', '--mimi-config', 'tiny', '--frame-hz', '12.5', '--weights', bad];
    for (const args of [['encode', ...base, wav, '-o', o], ['encode', ...base, '--stream', wav, '-o', o], ['stream', wav, ...base, '-o', o]]) {
      const r = cli(...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/(encode|stream|EncoderMimi\.forward): the output is non-finite \(row 0, frame \d+, channel \d+: -?(Infinity|NaN)\); the weights or the config make the model overflow/);
      expect(fs.existsSync(o)).toBe(false);
    }
  });
});

describe('convert', () => {
  it('converts a .pt state dict to safetensors with a name map', () => {
    const o = path.join(tmp, 'conv.safetensors');
    const r = cli('convert', goldenPath('pt', 'encoder_cpc_state_dict.pt'), '-o', o, '--select', 'downsample.');
    expect(r.code).toBe(0);
    const f = readSafetensors(new Uint8Array(fs.readFileSync(o)));
    expect([...f.tensors.keys()].every((n) => n.startsWith('downsample.'))).toBe(true);
    expect(f.tensors.size).toBeGreaterThan(0);
  });
});

describe('wasm threads', () => {
  it('gives bit-identical features with 1 and 2 threads, and the process exits by itself', () => {
    const wav = path.join(tmp, 'thr.wav');
    fs.writeFileSync(wav, writeWav(goldenSignal('short_mix'), 16000, 'float32'));
    for (const [enc, weights, extra] of [
      ['cpc', goldenPath('weights', 'cpc_lstm_manifest.json'), []],
      ['mimi', goldenPath('weights', 'mimi_full_manifest.json'), ['--stream', '--frame-hz', '12.5']],
    ] as Array<[string, string, string[]]>) {
      const files = ['1', '2'].map((t) => {
        const o = path.join(tmp, `thr-${enc}-${t}.safetensors`);
        const r = cli('encode', '--encoder', enc, '--weights', weights, ...extra, '--threads', t, wav, '-o', o);
        expect(r.code).toBe(0); // spawnSync returns only once the process has exited
        return fs.readFileSync(o);
      });
      expect(Buffer.compare(files[0], files[1])).toBe(0);
    }
  });

  it('refuses a bad thread count', () => {
    const r = cli('encode', '--encoder', 'cpc', '--weights', 'x.json', 'x.wav', '-o', 'y', '--threads', '0');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--threads must be an integer in 1\.\.8/);
  });
});

describe('convert then parity', () => {
  it('runs the cpc_lstm golden cases from the CPC checkpoint, its downsample merged from the EncoderCPC state dict', () => {
    const ds = path.join(tmp, 'ds.safetensors');
    const cpc = path.join(tmp, 'cpc_from_pt.safetensors');
    expect(cli('convert', goldenPath('pt', 'encoder_cpc_state_dict.pt'), '-o', ds, '--select', 'downsample.').code).toBe(0);
    const r = cli('convert', goldenPath('pt', 'cpc_lstm_checkpoint.pt'), '-o', cpc, '--select', 'weights.', '--strip', 'weights.', '--add', 'encoder.', '--merge', ds);
    expect(r.code).toBe(0);
    for (const name of ['cpc_lstm_offline_short_mix', 'cpc_lstm_stream_short_mix']) {
      const p = cli('parity', goldenPath('cases', `${name}.safetensors`), '--signals', goldenPath('signals'), '--weights', cpc);
      expect(p.code).toBe(0);
      expect(JSON.parse(p.out.trim())).toMatchObject({ case: name, shape_ok: true, emitted_ok: true, pass: true });
    }
    const clash = cli('convert', goldenPath('pt', 'encoder_cpc_state_dict.pt'), '-o', path.join(tmp, 'c.safetensors'), '--merge', ds);
    expect(clash.code).toBe(2);
    expect(clash.err).toMatch(/already in the output/);
  });
});

describe('weights from .pt with --name-map', () => {
  const args = [goldenPath('cases', 'cpc_lstm_stream_short_mix.safetensors'), '--signals', goldenPath('signals')];
  it('runs a golden case straight from a PyTorch state dict', () => {
    const r = cli('parity', ...args, '--weights', goldenPath('pt', 'encoder_cpc_state_dict.pt'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.trim()).pass).toBe(true);
  });
  it('applies the name map (here one that drops the downsample) and names what is missing', () => {
    const r = cli('parity', ...args, '--weights', goldenPath('pt', 'encoder_cpc_state_dict.pt'), '--name-map', '{"select":"encoder."}');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/downsample/);
    const bad = cli('parity', ...args, '--weights', goldenPath('pt', 'encoder_cpc_state_dict.pt'), '--name-map', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--name-map must be cpc-checkpoint, vap or a JSON name map/);
  });
});

describe('shared flag checks', () => {
  it('stream and encode refuse a bad --channel, --encoder or --frame-hz the same way', () => {
    const wav = path.join(tmp, 'flags.wav');
    fs.writeFileSync(wav, writeWav(new Float32Array(3200), 16000, 'pcm16'));
    const w = goldenPath('weights', 'cpc_lstm_manifest.json');
    for (const cmd of [['stream', wav], ['encode', wav, '-o', path.join(tmp, 'f.safetensors')]]) {
      const ch = cli(...cmd, '--encoder', 'cpc', '--weights', w, '--channel', 'left');
      expect(ch.code).toBe(2);
      expect(ch.err).toMatch(/--channel must be a channel index or "mix", got "left"/);
      expect(cli(...cmd, '--encoder', 'wav2vec', '--weights', w).err).toMatch(/--encoder must be cpc or mimi/);
      expect(cli(...cmd, '--encoder', 'cpc', '--weights', w, '--frame-hz', '7').err).toMatch(/--frame-hz must divide 16000 for cpc/);
    }
  });
});
