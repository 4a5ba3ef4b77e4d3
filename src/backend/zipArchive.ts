/**
 * A small reader for ZIP archives (Python wheels): the central directory, and entries streamed out through
 * zlib without loading the archive (a TensorFlow wheel is ~270 MB and holds a ~800 MB library).
 * Stored (0) and deflated (8) entries; ZIP64 sizes and offsets.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the entry's local header. */
  localOffset: number;
}

export class ZipError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ZipError';
  }
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, b, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return b.subarray(0, got);
}

/** Lists the entries of a ZIP archive from its central directory. */
export function listZip(file: string): ZipEntry[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    // End of central directory: 22 bytes plus a comment of at most 65535 bytes, at the end of the file.
    const tailLen = Math.min(size, 22 + 65535);
    const tail = readAt(fd, size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipError(file, 'not a ZIP archive (no end-of-central-directory record)');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      // ZIP64: the locator sits just before the end record and points at the ZIP64 end record.
      const loc = eocd - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) throw new ZipError(file, 'ZIP64 locator missing');
      const rec = readAt(fd, Number(tail.readBigUInt64LE(loc + 8)), 56);
      if (rec.length < 56 || rec.readUInt32LE(0) !== 0x06064b50) throw new ZipError(file, 'ZIP64 end record missing');
      count = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > size) throw new ZipError(file, 'central directory beyond the end of the file (truncated download?)');
    const cd = readAt(fd, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new ZipError(file, `central directory entry ${k} is corrupt`);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const e: ZipEntry = {
        name: cd.toString('utf8', p + 46, p + 46 + nameLen),
        method: cd.readUInt16LE(p + 10),
        crc32: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localOffset: cd.readUInt32LE(p + 42),
      };
      // ZIP64 extra field (id 1): the 64-bit values, in this order, for the fields that read 0xffffffff.
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (id === 1) {
          let q = x + 4;
          for (const f of ['size', 'compressedSize', 'localOffset'] as const) {
            if (e[f] === 0xffffffff && q + 8 <= x + 4 + len) {
              e[f] = Number(cd.readBigUInt64LE(q));
              q += 8;
            }
          }
        }
        x += 4 + len;
      }
      entries.push(e);
      p = xEnd + commentLen;
    }
    return entries;
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes one entry to `dest` (through a temporary file, renamed when complete and of the right size). */
export async function extractZipEntry(file: string, e: ZipEntry, dest: string): Promise<void> {
  const fd = fs.openSync(file, 'r');
  let dataStart: number;
  try {
    const lh = readAt(fd, e.localOffset, 30);
    if (lh.length < 30 || lh.readUInt32LE(0) !== 0x04034b50) throw new ZipError(file, `local header of ${e.name} is corrupt`);
    dataStart = e.localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
  } finally {
    fs.closeSync(fd);
  }
  if (e.method !== 0 && e.method !== 8) throw new ZipError(file, `${e.name}: unsupported compression method ${e.method}`);
  const tmp = `${dest}.part`;
  const source = fs.createReadStream(file, { start: dataStart, end: dataStart + Math.max(e.compressedSize, 1) - 1 });
  const sink = fs.createWriteStream(tmp);
  try {
    if (e.compressedSize === 0) {
      source.destroy();
      sink.end();
      await new Promise<void>((res) => sink.on('close', () => res()));
    } else if (e.method === 0) await pipeline(source, sink);
    else await pipeline(source, zlib.createInflateRaw(), sink);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new ZipError(file, `${e.name}: ${(err as Error).message}`);
  }
  const got = fs.statSync(tmp).size;
  if (got !== e.size) {
    fs.rmSync(tmp, { force: true });
    throw new ZipError(file, `${e.name}: extracted ${got} bytes, expected ${e.size}`);
  }
  fs.renameSync(tmp, dest);
}

/** Reads a small entry into memory. */
export function readZipEntry(file: string, e: ZipEntry): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const lh = readAt(fd, e.localOffset, 30);
    if (lh.length < 30 || lh.readUInt32LE(0) !== 0x04034b50) throw new ZipError(file, `local header of ${e.name} is corrupt`);
    const raw = readAt(fd, e.localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28), e.compressedSize);
    let out: Buffer;
    if (e.method === 0) out = raw;
    else if (e.method === 8) out = zlib.inflateRawSync(raw);
    else throw new ZipError(file, `${e.name}: unsupported compression method ${e.method}`);
    if (out.length !== e.size) throw new ZipError(file, `${e.name}: read ${out.length} bytes, expected ${e.size}`);
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
