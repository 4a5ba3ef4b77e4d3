/**
 * Files the CLI reads and writes. Every command output goes through `writeOutput`:
 * - an output that is the same file as one of the command's inputs (same device and inode, after following
 *   symbolic links: `x.wav -o x.wav`, a hard link or a symlink to the input, `-o` onto the weights file) is refused
 *   before anything is computed or written;
 * - an output naming a folder, or a path in a missing folder, is refused up front (exit 2, one line);
 * - a regular file is written atomically: into a temporary file in the same folder, fsync'd, optionally checked
 *   (convert reads its output back), then renamed over the destination. A failure (disk full, EFBIG, a failed
 *   check, a crash) leaves an earlier file of that name intact and removes the temporary file;
 * - an existing device or FIFO (/dev/null, /dev/stdout, a pipe) is written in place: it cannot be replaced, and a
 *   write error (/dev/full: ENOSPC) is exit 2 too.
 * `readInput` reads an input file with the same one-line errors (missing, a folder, unreadable).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from './args';

/** An input of a command: what the user calls it (for messages) and its path; undefined entries are skipped. */
export type NamedInput = [label: string, file: string | undefined];

/** A checked output: where the bytes go, and how. */
export interface OutputTarget {
  /** As the user wrote it (for messages). */
  readonly given: string;
  /** The file written: `given`, or the file a symbolic link points to. */
  readonly file: string;
  /** An existing device or FIFO: written in place, not replaced. */
  readonly inPlace: boolean;
  readonly inputs: NamedInput[];
}

function systemMessage(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0];
}

function sameFile(a: fs.Stats, b: fs.Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Refuses an output that is one of the inputs; `st` is the output's stat (following links). */
function checkNotAnInput(given: string, st: fs.Stats, inputs: NamedInput[]): void {
  for (const [label, file] of inputs) {
    if (file === undefined) continue;
    let ist: fs.Stats;
    try {
      ist = fs.statSync(file);
    } catch {
      continue; // a missing input is reported by whoever reads it
    }
    if (sameFile(st, ist)) {
      throw new UsageError(`output ${given} is the same file as the ${label} ${file}; write to another file`);
    }
  }
}

/**
 * Checks an output path before any work: not a folder, its folder exists, not the same file as an input (device
 * and inode, through symbolic and hard links).
 */
export function checkOutput(given: string, inputs: NamedInput[]): OutputTarget {
  if (given === '') throw new UsageError('the output path is empty');
  let file = given;
  let lst: fs.Stats | undefined;
  try {
    lst = fs.lstatSync(given);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`cannot use ${given} as the output: ${systemMessage(e)}`);
  }
  if (lst?.isSymbolicLink()) {
    try {
      file = fs.realpathSync(given);
    } catch {
      throw new UsageError(`output ${given} is a symbolic link to a missing file`);
    }
  }
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`cannot use ${given} as the output: ${systemMessage(e)}`);
  }
  if (st) {
    if (st.isDirectory()) throw new UsageError(`output ${given} is a folder; give a file name`);
    checkNotAnInput(given, st, inputs);
    if (!st.isFile()) return { given, file, inPlace: true, inputs };
  } else {
    const dir = path.dirname(path.resolve(file));
    let dst: fs.Stats;
    try {
      dst = fs.statSync(dir);
    } catch {
      throw new UsageError(`cannot write ${given}: folder ${dir} does not exist`);
    }
    if (!dst.isDirectory()) throw new UsageError(`cannot write ${given}: ${dir} is not a folder`);
  }
  return { given, file, inPlace: false, inputs };
}

export interface WriteOptions {
  /** Runs on the complete, fsync'd temporary file before it replaces the destination; throw to refuse it. */
  verify?(tempFile: string): void;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 30));
}

/**
 * Writes a command's output (see the module comment): re-checks the target, then writes atomically (temporary file,
 * fsync, rename) or, for a device or FIFO, in place. Every failure is a one-line UsageError (exit 2).
 */
export function writeOutput(target: OutputTarget | string, bytes: Uint8Array, opts: WriteOptions = {}): void {
  const t = typeof target === 'string' ? checkOutput(target, []) : checkOutput(target.given, target.inputs);
  if (t.inPlace) {
    try {
      const fd = fs.openSync(t.file, 'w');
      try {
        writeAll(fd, bytes);
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      throw new UsageError(`cannot write ${t.given}: ${systemMessage(e)}`);
    }
    return;
  }
  const dir = path.dirname(path.resolve(t.file));
  const tmp = path.join(dir, `.${path.basename(t.file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o666);
    // Keep the permissions of the file being replaced.
    try {
      fs.fchmodSync(fd, fs.statSync(t.file).mode & 0o7777);
    } catch {
      // no earlier file
    }
    writeAll(fd, bytes);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    opts.verify?.(tmp);
    fs.renameSync(tmp, t.file);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // not created, or already renamed
    }
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException)?.code === undefined && opts.verify) {
      throw new UsageError(`${t.given} was not written: ${systemMessage(e)}`);
    }
    throw new UsageError(`cannot write ${t.given}: ${systemMessage(e)}`);
  }
  // The rename itself is durable once the folder is synced (not possible everywhere: best effort).
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // e.g. Windows
  }
}

/**
 * Reads an input file of a command: a missing file, a folder or an unreadable file is a one-line UsageError naming
 * `what` (e.g. "input WAV file").
 */
export function readInput(file: string, what: string): Uint8Array {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${what} not found: ${file}`);
    throw new UsageError(`cannot read ${what} ${file}: ${systemMessage(e)}`);
  }
  if (st.isDirectory()) throw new UsageError(`${what} ${file} is a folder, not a file`);
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${systemMessage(e)}`);
  }
}
