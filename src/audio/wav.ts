/**
 * WAV (RIFF/WAVE) reader and writer.
 *
 * Reading: integer PCM (format 1) with 8, 16, 24 or 32 bits, IEEE float (format 3) with 32 or 64 bits, and
 * WAVE_FORMAT_EXTENSIBLE (0xFFFE) whose sub-format GUID is PCM or IEEE float. Samples come back as float32 in
 * [-1, 1): integer PCM is divided by 2^(bits-1) (8-bit PCM is unsigned, offset 128 first); float samples are taken
 * as they are (float64 is rounded to float32; NaN/Inf in a float file pass through unchanged).
 *
 * Layout rules (every violation is a FormatError):
 * - The RIFF size field at byte 4 is not checked (many writers get it wrong); chunks are walked to the end of the
 *   file. Fewer than 8 trailing bytes after the last chunk are ignored, as are chunks after the first `fmt ` and
 *   `data` chunks have both been seen. Unknown chunks (LIST, fact, cue, ...) are skipped, honouring the pad byte
 *   after an odd-sized chunk; an unknown chunk that runs past the end of the file before `fmt ` and `data` are
 *   found is an error.
 * - A `data` chunk whose declared size runs past the end of the file is an error (never silently truncated),
 *   except the size 0xFFFFFFFF, which streaming writers leave when they cannot seek back: that is read as "to the
 *   end of the file", and there (only) an incomplete trailing frame is dropped.
 * - The block align must equal channels x bytes per sample, and a data size that is not a multiple of it is an
 *   error.
 * Nothing is allocated beyond what the data chunk implies: the output is at most 4 bytes (one float32) per data
 * byte (the 8-bit PCM case), whatever sizes the headers declare.
 */
import { FormatError } from '../weights/types';

export type WavFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

export const WAV_FORMATS: readonly WavFormat[] = ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'];

export interface WavData {
  sampleRate: number;
  /** The file's sample encoding (for WAVE_FORMAT_EXTENSIBLE, the sub-format's). */
  format: WavFormat;
  /** One array per channel, all the same length (the number of frames). */
  channels: Float32Array[];
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of the KSDATAFORMAT_SUBTYPE_* GUIDs; bytes 0..1 hold the plain format code (little-endian). */
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
/** Data chunk size written by streaming writers that never patch it. */
const UNKNOWN_SIZE = 0xffffffff;

const FORMAT_NAMES: Record<number, string> = {
  0x0000: 'unknown',
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'mu-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MPEG Layer 3',
  0x00ff: 'AAC',
  0xf1ac: 'FLAC',
};

const BYTES: Record<WavFormat, number> = { pcm8: 1, pcm16: 2, pcm24: 3, pcm32: 4, float32: 4, float64: 8 };

function hex4(code: number): string {
  return '0x' + code.toString(16).toUpperCase().padStart(4, '0');
}

function fourCC(bytes: Uint8Array, pos: number): string {
  return String.fromCharCode(bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]);
}

interface Fmt {
  format: WavFormat;
  channels: number;
  sampleRate: number;
  blockAlign: number;
}

function parseFmt(view: DataView, body: number, size: number): Fmt {
  if (size < 16) throw new FormatError(`WAV: fmt chunk is ${size} bytes, need at least 16`);
  let code = view.getUint16(body, true);
  const channels = view.getUint16(body + 2, true);
  const sampleRate = view.getUint32(body + 4, true);
  const blockAlign = view.getUint16(body + 12, true);
  const bits = view.getUint16(body + 14, true);
  if (code === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) throw new FormatError(`WAV: WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, need at least 40`);
    const cbSize = view.getUint16(body + 16, true);
    if (cbSize < 22) throw new FormatError(`WAV: WAVE_FORMAT_EXTENSIBLE extension is ${cbSize} bytes, need at least 22`);
    const sub = view.getUint16(body + 24, true);
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (view.getUint8(body + 26 + i) !== GUID_TAIL[i]) {
        throw new FormatError('WAV: unsupported WAVE_FORMAT_EXTENSIBLE sub-format GUID (only PCM and IEEE float are read)');
      }
    }
    if (sub !== WAVE_FORMAT_PCM && sub !== WAVE_FORMAT_IEEE_FLOAT) {
      throw new FormatError(`WAV: unsupported WAVE_FORMAT_EXTENSIBLE sub-format ${hex4(sub)}${FORMAT_NAMES[sub] ? ` (${FORMAT_NAMES[sub]})` : ''}`);
    }
    code = sub;
  }
  let format: WavFormat;
  if (code === WAVE_FORMAT_PCM) {
    if (bits !== 8 && bits !== 16 && bits !== 24 && bits !== 32) {
      throw new FormatError(`WAV: unsupported bit depth ${bits} for integer PCM (8, 16, 24 or 32 are read)`);
    }
    format = `pcm${bits}` as WavFormat;
  } else if (code === WAVE_FORMAT_IEEE_FLOAT) {
    if (bits !== 32 && bits !== 64) throw new FormatError(`WAV: unsupported bit depth ${bits} for IEEE float (32 or 64 are read)`);
    format = `float${bits}` as WavFormat;
  } else {
    const name = FORMAT_NAMES[code];
    throw new FormatError(`WAV: unsupported format code ${hex4(code)}${name ? ` (${name})` : ''}; only PCM, IEEE float and WAVE_FORMAT_EXTENSIBLE are read`);
  }
  if (channels === 0) throw new FormatError('WAV: fmt chunk declares 0 channels');
  if (sampleRate === 0) throw new FormatError('WAV: fmt chunk declares a sample rate of 0');
  const frameBytes = channels * BYTES[format];
  if (blockAlign !== frameBytes) {
    throw new FormatError(`WAV: block align ${blockAlign} != ${channels} channel(s) x ${BYTES[format]} bytes`);
  }
  return { format, channels, sampleRate, blockAlign };
}

/** Parses a WAV file held in memory. Errors are FormatErrors naming the problem. */
export function readWav(bytes: Uint8Array): WavData {
  if (bytes.length < 12) throw new FormatError(`WAV: file is ${bytes.length} bytes, too small for a RIFF/WAVE header`);
  const magic = fourCC(bytes, 0);
  if (magic === 'RF64') throw new FormatError('WAV: RF64 (64-bit RIFF) files are not supported');
  if (magic !== 'RIFF') throw new FormatError(`WAV: not a RIFF file (magic ${JSON.stringify(magic)}, expected "RIFF")`);
  const form = fourCC(bytes, 8);
  if (form !== 'WAVE') throw new FormatError(`WAV: RIFF form type is ${JSON.stringify(form)}, expected "WAVE"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let fmt: Fmt | undefined;
  let dataStart = -1;
  let dataSize = 0;
  let unknownSize = false;
  let pos = 12;
  while (pos + 8 <= bytes.length && !(fmt && dataStart >= 0)) {
    const id = fourCC(bytes, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    const available = bytes.length - body;
    if (id === 'data' && dataStart < 0) {
      if (size === UNKNOWN_SIZE) {
        unknownSize = true;
        dataSize = available;
      } else if (size > available) {
        throw new FormatError(`WAV: data chunk declares ${size} bytes but only ${available} bytes remain in the file (truncated file?)`);
      } else {
        dataSize = size;
      }
      dataStart = body;
      pos = body + dataSize + (dataSize & 1);
      continue;
    }
    if (size > available) {
      throw new FormatError(`WAV: ${JSON.stringify(id)} chunk at byte ${pos} declares ${size} bytes but only ${available} bytes remain in the file`);
    }
    if (id === 'fmt ' && !fmt) fmt = parseFmt(view, body, size);
    pos = body + size + (size & 1);
  }
  if (!fmt) throw new FormatError('WAV: no fmt chunk');
  if (dataStart < 0) throw new FormatError('WAV: no data chunk');

  const { format, channels: nch, sampleRate, blockAlign } = fmt;
  if (dataSize % blockAlign !== 0) {
    if (!unknownSize) {
      throw new FormatError(`WAV: data chunk size ${dataSize} is not a multiple of the block align ${blockAlign}`);
    }
    dataSize -= dataSize % blockAlign;
  }
  const frames = dataSize / blockAlign;
  const channels: Float32Array[] = [];
  for (let c = 0; c < nch; c++) channels.push(new Float32Array(frames));
  const bps = BYTES[format];
  for (let c = 0; c < nch; c++) {
    const out = channels[c];
    let p = dataStart + c * bps;
    switch (format) {
      case 'pcm8':
        for (let i = 0; i < frames; i++, p += blockAlign) out[i] = (bytes[p] - 128) / 128;
        break;
      case 'pcm16':
        for (let i = 0; i < frames; i++, p += blockAlign) out[i] = view.getInt16(p, true) / 32768;
        break;
      case 'pcm24':
        for (let i = 0; i < frames; i++, p += blockAlign) {
          const u = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16);
          out[i] = ((u << 8) >> 8) / 8388608;
        }
        break;
      case 'pcm32':
        for (let i = 0; i < frames; i++, p += blockAlign) out[i] = view.getInt32(p, true) / 2147483648;
        break;
      case 'float32':
        for (let i = 0; i < frames; i++, p += blockAlign) out[i] = view.getFloat32(p, true);
        break;
      case 'float64':
        for (let i = 0; i < frames; i++, p += blockAlign) out[i] = view.getFloat64(p, true);
        break;
    }
  }
  return { sampleRate, format, channels };
}

/**
 * Reads a WAV file as one channel: `channel` picks one (0-based) or 'mix' averages all of them.
 * A channel out of range is a RangeError naming the file's channel count.
 */
export function readWavMono(bytes: Uint8Array, channel: number | 'mix' = 'mix'): { sampleRate: number; samples: Float32Array } {
  const wav = readWav(bytes);
  const n = wav.channels.length;
  if (channel === 'mix') {
    if (n === 1) return { sampleRate: wav.sampleRate, samples: wav.channels[0] };
    const frames = wav.channels[0].length;
    const samples = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += wav.channels[c][i];
      samples[i] = s / n;
    }
    return { sampleRate: wav.sampleRate, samples };
  }
  if (typeof channel !== 'number' || !Number.isInteger(channel) || channel < 0 || channel >= n) {
    throw new RangeError(`WAV: channel ${String(channel)} is out of range: the file has ${n} channel(s) (0..${n - 1}, or 'mix')`);
  }
  return { sampleRate: wav.sampleRate, samples: wav.channels[channel] };
}

/**
 * Serialises audio as a canonical WAV file: `RIFF` / `fmt ` / (`fact` for float) / `data`. Integer PCM uses
 * format 1 with a 16-byte fmt chunk; float uses format 3 with an 18-byte fmt chunk (cbSize 0) and a `fact` chunk.
 *
 * Integer PCM quantisation: x is clipped to [-1, 1], scaled by 2^(bits-1), rounded with Math.round (nearest,
 * ties towards +infinity) and clamped to [-2^(bits-1), 2^(bits-1) - 1], so +1.0 becomes the largest code and
 * values on the grid k / 2^(bits-1) are written exactly. 8-bit codes are stored unsigned (+128).
 * Float formats store the values unchanged (NaN and infinities included); PCM rejects non-finite samples.
 *
 * Bad arguments (no channels, unequal channel lengths, sample rate not an integer in 1..2^32-1, unknown format,
 * non-finite PCM sample, file over 4 GiB) are RangeErrors.
 */
export function writeWav(channels: Float32Array[] | Float32Array, sampleRate: number, format: WavFormat = 'pcm16'): Uint8Array {
  const chans = channels instanceof Float32Array ? [channels] : channels;
  if (!Object.prototype.hasOwnProperty.call(BYTES, format)) {
    throw new RangeError(`writeWav: unknown format ${JSON.stringify(format)} (expected one of ${WAV_FORMATS.join(', ')})`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffffff) {
    throw new RangeError(`writeWav: sample rate must be an integer in 1..4294967295, got ${sampleRate}`);
  }
  const nch = chans.length;
  if (nch === 0) throw new RangeError('writeWav: no channels');
  if (nch > 0xffff) throw new RangeError(`writeWav: ${nch} channels, at most 65535`);
  const frames = chans[0].length;
  for (let c = 1; c < nch; c++) {
    if (chans[c].length !== frames) {
      throw new RangeError(`writeWav: channel ${c} has ${chans[c].length} samples but channel 0 has ${frames}`);
    }
  }
  const bps = BYTES[format];
  const isFloat = format === 'float32' || format === 'float64';
  const blockAlign = nch * bps;
  if (blockAlign > 0xffff) throw new RangeError(`writeWav: block align ${blockAlign} (${nch} channels x ${bps} bytes) exceeds 65535`);
  const dataBytes = frames * blockAlign;
  const fmtSize = isFloat ? 18 : 16;
  const factSize = isFloat ? 12 : 0;
  const headerBytes = 12 + 8 + fmtSize + factSize + 8;
  const padded = dataBytes + (dataBytes & 1);
  if (headerBytes - 8 + padded > 0xffffffff) throw new RangeError(`writeWav: ${dataBytes} data bytes is too large for a RIFF file`);
  if (!isFloat) {
    for (let c = 0; c < nch; c++) {
      const ch = chans[c];
      for (let i = 0; i < frames; i++) {
        if (!Number.isFinite(ch[i])) throw new RangeError(`writeWav: channel ${c} sample ${i} is ${ch[i]}; ${format} needs finite samples`);
      }
    }
  }

  const out = new Uint8Array(headerBytes + padded);
  const view = new DataView(out.buffer);
  const ascii = (pos: number, s: string) => {
    for (let i = 0; i < 4; i++) out[pos + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM, true);
  view.setUint16(22, nch, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true); // byte rate (wraps modulo 2^32 for absurd rates)
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bps * 8, true);
  let pos = 36;
  if (isFloat) {
    view.setUint16(36, 0, true); // cbSize
    ascii(38, 'fact');
    view.setUint32(42, 4, true);
    view.setUint32(46, frames, true);
    pos = 50;
  }
  ascii(pos, 'data');
  view.setUint32(pos + 4, dataBytes, true);
  const start = pos + 8;

  const scale = 2 ** (bps * 8 - 1);
  const lo = -scale;
  const hi = scale - 1;
  for (let c = 0; c < nch; c++) {
    const ch = chans[c];
    let p = start + c * bps;
    for (let i = 0; i < frames; i++, p += blockAlign) {
      const x = ch[i];
      if (format === 'float32') {
        view.setFloat32(p, x, true);
        continue;
      }
      if (format === 'float64') {
        view.setFloat64(p, x, true);
        continue;
      }
      let q = Math.round((x < -1 ? -1 : x > 1 ? 1 : x) * scale);
      if (q > hi) q = hi;
      else if (q < lo) q = lo;
      switch (format) {
        case 'pcm8': out[p] = q + 128; break;
        case 'pcm16': view.setInt16(p, q, true); break;
        case 'pcm24': out[p] = q & 0xff; out[p + 1] = (q >> 8) & 0xff; out[p + 2] = (q >> 16) & 0xff; break;
        case 'pcm32': view.setInt32(p, q, true); break;
      }
    }
  }
  return out;
}
