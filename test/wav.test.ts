import { readWav, readWavMono, writeWav, WAV_FORMATS, WavFormat } from '../src/audio/wav';
import { FormatError } from '../src/weights/types';
import { concatBytes } from '../src/util/concat';

// ---- helpers that build WAV files by hand -------------------------------------------------------------------

function chunk(id: string, body: Uint8Array, declared = body.length): Uint8Array {
  const pad = body.length & 1;
  const out = new Uint8Array(8 + body.length + pad);
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, declared, true);
  out.set(body, 8);
  return out;
}

function riff(chunks: Uint8Array[], magic = 'RIFF', form = 'WAVE'): Uint8Array {
  const body = concatBytes(...chunks);
  const out = new Uint8Array(12 + body.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = magic.charCodeAt(i);
  dv.setUint32(4, 4 + body.length, true);
  for (let i = 0; i < 4; i++) out[8 + i] = form.charCodeAt(i);
  out.set(body, 12);
  return out;
}

interface FmtOpts {
  code?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  blockAlign?: number;
  /** WAVE_FORMAT_EXTENSIBLE sub-format code (then `code` is forced to 0xFFFE). */
  sub?: number;
  guidTail?: number[];
}

const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

function fmtChunk(o: FmtOpts = {}): Uint8Array {
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const rate = o.rate ?? 16000;
  const blockAlign = o.blockAlign ?? (channels * bits) / 8;
  const ext = o.sub !== undefined;
  const body = new Uint8Array(ext ? 40 : 16);
  const dv = new DataView(body.buffer);
  dv.setUint16(0, ext ? 0xfffe : (o.code ?? 1), true);
  dv.setUint16(2, channels, true);
  dv.setUint32(4, rate, true);
  dv.setUint32(8, rate * blockAlign, true);
  dv.setUint16(12, blockAlign, true);
  dv.setUint16(14, bits, true);
  if (ext) {
    dv.setUint16(16, 22, true);
    dv.setUint16(18, bits, true);
    dv.setUint32(20, channels === 2 ? 3 : 4, true);
    dv.setUint16(24, o.sub!, true);
    body.set(o.guidTail ?? GUID_TAIL, 26);
  }
  return chunk('fmt ', body);
}

const int16Data = (...v: number[]) => {
  const b = new Uint8Array(v.length * 2);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setInt16(2 * i, x, true));
  return b;
};

function expectFormatError(bytes: Uint8Array, re: RegExp): void {
  let err: unknown;
  try {
    readWav(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(re);
}

/** Deterministic pseudo-random signal in [-1, 1). */
function signal(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

const PCM_BITS: Partial<Record<WavFormat, number>> = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32 };

// ---- round trips --------------------------------------------------------------------------------------------

describe('writeWav -> readWav round trips', () => {
  for (const format of WAV_FORMATS) {
    for (const nch of [1, 3]) {
      test(`${format}, ${nch} channel(s)`, () => {
        const chans = Array.from({ length: nch }, (_, c) => {
          const x = signal(1001, 7 + c); // odd length: pcm8/pcm24 mono data sizes are odd -> pad byte
          x[0] = -1;
          x[1] = 0;
          x[2] = 0.5;
          return x;
        });
        const bytes = writeWav(nch === 1 ? chans[0] : chans, 44100, format);
        const wav = readWav(bytes);
        expect(wav.sampleRate).toBe(44100);
        expect(wav.format).toBe(format);
        expect(wav.channels).toHaveLength(nch);
        const bits = PCM_BITS[format];
        for (let c = 0; c < nch; c++) {
          const got = wav.channels[c];
          expect(got).toHaveLength(1001);
          if (bits === undefined) {
            expect(got).toEqual(chans[c]); // float formats: bit exact
          } else {
            const lsb = 2 ** -(bits - 1);
            let worst = 0;
            for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - chans[c][i]));
            expect(worst).toBeLessThanOrEqual(lsb);
            // grid values come back exactly
            expect(got[0]).toBe(-1);
            expect(got[1]).toBe(0);
            expect(got[2]).toBe(0.5);
          }
        }
      });
    }
  }

  for (const [format, bits] of Object.entries(PCM_BITS) as [WavFormat, number][]) {
    test(`${format}: values on the grid k/2^${bits - 1} are exact`, () => {
      const scale = 2 ** (bits - 1);
      const ks = bits <= 16 ? Array.from({ length: 2 * scale }, (_, i) => i - scale) : [-scale, -scale + 256, -12345, -1, 0, 1, 777, 2 ** 20 + 3, bits === 32 ? scale - 256 : scale - 1] // pcm32: float32-representable codes;
      const x = Float32Array.from(ks, (k) => k / scale);
      const got = readWav(writeWav(x, 8000, format)).channels[0];
      expect(Array.from(got, (v) => Math.round(v * scale))).toEqual(ks);
      expect(got).toEqual(x);
    });
  }

  test('PCM clips out-of-range samples and maps +1 to the largest code; rounding is Math.round', () => {
    const x = new Float32Array([1, 1.5, -1.5, -1, 0.5 / 32768, -0.5 / 32768, 1.5 / 32768]);
    const got = readWav(writeWav(x, 16000, 'pcm16')).channels[0];
    expect(Array.from(got, (v) => v * 32768)).toEqual([32767, 32767, -32768, -32768, 1, 0, 2]);
  });

  test('float formats keep non-finite values', () => {
    const x = new Float32Array([NaN, Infinity, -Infinity, 2.5]);
    for (const f of ['float32', 'float64'] as const) {
      expect(readWav(writeWav(x, 16000, f)).channels[0]).toEqual(x);
    }
  });

  test('canonical pcm16 mono header is 44 bytes', () => {
    const b = writeWav(new Float32Array([0, 0.5]), 16000);
    expect(b.length).toBe(48);
    const dv = new DataView(b.buffer);
    expect(String.fromCharCode(...b.subarray(0, 4))).toBe('RIFF');
    expect(dv.getUint32(4, true)).toBe(40);
    expect(dv.getUint16(20, true)).toBe(1);
    expect(dv.getUint32(24, true)).toBe(16000);
    expect(dv.getUint32(28, true)).toBe(32000);
    expect(String.fromCharCode(...b.subarray(36, 40))).toBe('data');
    expect(dv.getUint32(40, true)).toBe(4);
    expect(dv.getInt16(46, true)).toBe(16384);
  });

  test('empty audio round trips', () => {
    const wav = readWav(writeWav([new Float32Array(0), new Float32Array(0)], 16000, 'pcm24'));
    expect(wav.channels.map((c) => c.length)).toEqual([0, 0]);
  });
});

// ---- reading details ----------------------------------------------------------------------------------------

describe('readWav', () => {
  test('8-bit PCM is unsigned with offset 128', () => {
    const w = readWav(riff([fmtChunk({ bits: 8 }), chunk('data', new Uint8Array([0, 128, 255, 64]))]));
    expect(w.format).toBe('pcm8');
    expect(Array.from(w.channels[0])).toEqual([-1, 0, 127 / 128, -0.5]);
  });

  test('24-bit PCM sign-extends', () => {
    const w = readWav(riff([fmtChunk({ bits: 24 }), chunk('data', new Uint8Array([0xff, 0xff, 0xff, 0x00, 0x00, 0x80, 0xff, 0xff, 0x7f]))]));
    expect(Array.from(w.channels[0], (v) => v * 2 ** 23)).toEqual([-1, -(2 ** 23), 2 ** 23 - 1]);
  });

  test('interleaved channels are split', () => {
    const w = readWav(riff([fmtChunk({ channels: 2 }), chunk('data', int16Data(1, -1, 2, -2, 3, -3))]));
    expect(Array.from(w.channels[0], (v) => v * 32768)).toEqual([1, 2, 3]);
    expect(Array.from(w.channels[1], (v) => v * 32768)).toEqual([-1, -2, -3]);
  });

  test('WAVE_FORMAT_EXTENSIBLE with PCM and float sub-formats', () => {
    const pcm = readWav(riff([fmtChunk({ sub: 1, bits: 16, channels: 2 }), chunk('data', int16Data(100, -200))]));
    expect(pcm.format).toBe('pcm16');
    expect([pcm.channels[0][0] * 32768, pcm.channels[1][0] * 32768]).toEqual([100, -200]);

    const f = new Uint8Array(8);
    new DataView(f.buffer).setFloat32(0, 0.25, true);
    new DataView(f.buffer).setFloat32(4, -0.75, true);
    const flt = readWav(riff([fmtChunk({ sub: 3, bits: 32 }), chunk('data', f)]));
    expect(flt.format).toBe('float32');
    expect(Array.from(flt.channels[0])).toEqual([0.25, -0.75]);

    const d = new Uint8Array(8);
    new DataView(d.buffer).setFloat64(0, 0.125, true);
    expect(readWav(riff([fmtChunk({ sub: 3, bits: 64 }), chunk('data', d)])).format).toBe('float64');
  });

  test('extensible: unsupported sub-format and GUID', () => {
    expectFormatError(riff([fmtChunk({ sub: 2, bits: 16 }), chunk('data', int16Data(1))]), /sub-format 0x0002/);
    const tail = [...GUID_TAIL];
    tail[13] = 0;
    expectFormatError(riff([fmtChunk({ sub: 1, bits: 16, guidTail: tail }), chunk('data', int16Data(1))]), /GUID/);
    const short = chunk('fmt ', fmtChunk({ sub: 1 }).subarray(8, 8 + 24));
    expectFormatError(riff([short, chunk('data', int16Data(1))]), /EXTENSIBLE fmt chunk is 24 bytes/);
  });

  test('unknown chunks (odd sizes with pad bytes) are skipped before and after fmt and after data', () => {
    const list = chunk('LIST', new Uint8Array([1, 2, 3, 4, 5])); // odd size -> pad byte
    expect(list.length).toBe(14);
    const fact = chunk('fact', new Uint8Array([3, 0, 0]));
    const bytes = riff([list, fmtChunk(), fact, chunk('data', int16Data(7, 8, 9)), chunk('junk', new Uint8Array(3))]);
    expect(Array.from(readWav(bytes).channels[0], (v) => v * 32768)).toEqual([7, 8, 9]);
  });

  test('odd-sized data chunk: pad byte and trailing chunk', () => {
    const bytes = riff([fmtChunk({ bits: 8, channels: 1 }), chunk('data', new Uint8Array([128, 129, 130])), chunk('LIST', new Uint8Array(4))]);
    expect(readWav(bytes).channels[0]).toHaveLength(3);
  });

  test('data before fmt is accepted', () => {
    const bytes = riff([chunk('data', int16Data(5)), fmtChunk()]);
    expect(readWav(bytes).channels[0][0] * 32768).toBe(5);
  });

  test('data size 0xFFFFFFFF (streaming writer) reads to the end of the file, dropping a partial frame', () => {
    const body = concatBytes(int16Data(1, 2, 3, 4), new Uint8Array([9])); // 2 frames of 2 channels + 1 stray byte
    const w = readWav(riff([fmtChunk({ channels: 2 }), chunk('data', body, 0xffffffff)])); // + chunk()'s pad byte
    expect(w.channels.map((c) => Array.from(c, (v) => v * 32768))).toEqual([[1, 3], [2, 4]]);
  });

  test('works on a subarray at an odd byte offset', () => {
    const b = writeWav(new Float32Array([0.25, -0.5]), 16000, 'float32');
    const host = new Uint8Array(b.length + 3);
    host.set(b, 3);
    expect(Array.from(readWav(host.subarray(3)).channels[0])).toEqual([0.25, -0.5]);
  });
});

// ---- errors -------------------------------------------------------------------------------------------------

describe('readWav errors', () => {
  const data = chunk('data', int16Data(1, 2));
  test('too small', () => expectFormatError(new Uint8Array(11), /11 bytes, too small/));
  test('bad RIFF magic', () => expectFormatError(riff([fmtChunk(), data], 'RIFX'), /not a RIFF file \(magic "RIFX"/));
  test('RF64', () => expectFormatError(riff([fmtChunk(), data], 'RF64'), /RF64/));
  test('not WAVE', () => expectFormatError(riff([fmtChunk(), data], 'RIFF', 'AVI '), /form type is "AVI ", expected "WAVE"/));
  test('missing fmt', () => expectFormatError(riff([data]), /no fmt chunk/));
  test('missing data', () => expectFormatError(riff([fmtChunk(), chunk('LIST', new Uint8Array(4))]), /no data chunk/));
  test('missing data (empty chunk list)', () => expectFormatError(riff([]), /no fmt chunk/));
  test('truncated data chunk names declared and available sizes', () => {
    const full = riff([fmtChunk(), chunk('data', int16Data(1, 2, 3, 4))]);
    expectFormatError(full.subarray(0, full.length - 3), /data chunk declares 8 bytes but only 5 bytes remain/);
    expectFormatError(riff([fmtChunk(), chunk('data', int16Data(1), 0x7fffffff)]), /declares 2147483647 bytes but only 2 bytes remain/);
  });
  test('truncated unknown chunk before data', () => {
    expectFormatError(riff([fmtChunk(), chunk('LIST', new Uint8Array(4), 1000), data]), /"LIST" chunk at byte 36 declares 1000 bytes but only/);
  });
  test('truncated fmt chunk', () => expectFormatError(riff([fmtChunk()]).subarray(0, 30), /"fmt " chunk at byte 12 declares 16 bytes but only 10/));
  test('fmt chunk too short', () => expectFormatError(riff([chunk('fmt ', new Uint8Array(14)), data]), /fmt chunk is 14 bytes/));
  test('data size not a multiple of the block align', () => {
    expectFormatError(riff([fmtChunk({ channels: 2 }), chunk('data', int16Data(1, 2, 3))]), /data chunk size 6 is not a multiple of the block align 4/);
  });
  test('unsupported format code is named', () => {
    expectFormatError(riff([fmtChunk({ code: 2 }), data]), /unsupported format code 0x0002 \(Microsoft ADPCM\)/);
    expectFormatError(riff([fmtChunk({ code: 0x1234 }), data]), /unsupported format code 0x1234/);
  });
  test('unsupported bit depth', () => {
    expectFormatError(riff([fmtChunk({ bits: 12, blockAlign: 2 }), data]), /unsupported bit depth 12 for integer PCM/);
    expectFormatError(riff([fmtChunk({ code: 3, bits: 16 }), data]), /unsupported bit depth 16 for IEEE float/);
  });
  test('zero channels', () => expectFormatError(riff([fmtChunk({ channels: 0, blockAlign: 2 }), data]), /0 channels/));
  test('zero sample rate', () => expectFormatError(riff([fmtChunk({ rate: 0 }), data]), /sample rate of 0/));
  test('block align mismatch', () => expectFormatError(riff([fmtChunk({ blockAlign: 4 }), data]), /block align 4 != 1 channel\(s\) x 2 bytes/));
});

// ---- readWavMono --------------------------------------------------------------------------------------------

describe('readWavMono', () => {
  const a = new Float32Array([0.5, -0.25, 0]);
  const b = new Float32Array([0.25, 0.25, -0.5]);
  const c = new Float32Array([0, 0.5, 1]);
  const bytes = writeWav([a, b, c], 22050, 'float32');

  test('picks a channel', () => {
    expect(readWavMono(bytes, 1)).toEqual({ sampleRate: 22050, samples: b });
    expect(readWavMono(bytes, 2).samples).toEqual(c);
  });
  test('mixes by averaging (default)', () => {
    const m = readWavMono(bytes);
    expect(m.sampleRate).toBe(22050);
    expect(Array.from(m.samples)).toEqual([0.25, 0.5 / 3, 0.5 / 3].map(Math.fround));
    expect(readWavMono(bytes, 'mix').samples).toEqual(m.samples);
  });
  test('mono file: mix is the channel', () => {
    expect(readWavMono(writeWav(a, 8000, 'float32')).samples).toEqual(a);
  });
  test('channel out of range is a RangeError naming the channel count', () => {
    expect(() => readWavMono(bytes, 3)).toThrow(RangeError);
    expect(() => readWavMono(bytes, 3)).toThrow(/channel 3 is out of range: the file has 3 channel\(s\)/);
    expect(() => readWavMono(bytes, -1)).toThrow(RangeError);
    expect(() => readWavMono(bytes, 0.5)).toThrow(RangeError);
  });
  test('file errors are still FormatErrors', () => {
    expect(() => readWavMono(new Uint8Array(20))).toThrow(FormatError);
  });
});

// ---- writeWav errors ----------------------------------------------------------------------------------------

describe('writeWav errors', () => {
  test('mismatched channel lengths', () => {
    expect(() => writeWav([new Float32Array(3), new Float32Array(2)], 16000)).toThrow(/channel 1 has 2 samples but channel 0 has 3/);
  });
  test('non-finite samples in PCM', () => {
    for (const f of ['pcm8', 'pcm16', 'pcm24', 'pcm32'] as const) {
      expect(() => writeWav(new Float32Array([0, NaN]), 16000, f)).toThrow(/sample 1 is NaN/);
      expect(() => writeWav([new Float32Array(1), new Float32Array([Infinity])], 16000, f)).toThrow(/channel 1 sample 0 is Infinity/);
    }
  });
  test('bad sample rate', () => {
    for (const r of [0, -16000, 16000.5, NaN, Infinity, 2 ** 32]) {
      expect(() => writeWav(new Float32Array(1), r)).toThrow(RangeError);
    }
  });
  test('no channels / unknown format', () => {
    expect(() => writeWav([], 16000)).toThrow(/no channels/);
    expect(() => writeWav(new Float32Array(1), 16000, 'pcm12' as WavFormat)).toThrow(/unknown format "pcm12"/);
  });
});
