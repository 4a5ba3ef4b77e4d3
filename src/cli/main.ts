/** `maai-encoder`: command-line entry. Exit 0 on success, 1 on a failed check, 2 on bad usage or bad input. */
import { UsageError } from './args';
import { FormatError } from '../weights/types';
import { WeightError } from '../weights/store';
import { BackendError } from '../backend';
import { AudioInputError } from '../audio/readAudio';
import { COMMANDS } from './commands';

const HELP = `maai-encoder: MaAI's audio encoders (CPC, Mimi) on TensorFlow.js

Usage: maai-encoder <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(13)} ${c.summary}`)
  .join('\n')}

Run \`maai-encoder <command> --help\` for a command's options.
Common options: --backend auto|wasm|cpu|tensorflow|cuda (default MAAI_BACKEND, else auto: tensorflow when
  installed (setup-backend), else wasm), --threads N (wasm or TensorFlow threads), --verbose (TensorFlow's logs)
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(`${(await import('./version')).VERSION}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`maai-encoder: unknown command "${cmd}" (try --help)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(c.help + '\n');
    return 0;
  }
  try {
    return await c.run(rest);
  } catch (e) {
    if (
      e instanceof UsageError || e instanceof FormatError || e instanceof WeightError || e instanceof BackendError || e instanceof AudioInputError ||
      e instanceof RangeError || e instanceof TypeError || isSystemError(e)
    ) {
      const msg = (e.message || String(e)).split('\n')[0];
      process.stderr.write(`maai-encoder ${cmd}: ${msg}\n`);
      if (process.env.MAAI_DEBUG) process.stderr.write(`${e.stack}\n`);
      return 2;
    }
    throw e;
  }
}

/**
 * An operating-system error on a file the user named (EISDIR, ENOENT, EACCES, ENOSPC, EFBIG, ...): bad input or a
 * full disk, reported in one line with exit 2 like any other bad input, never as an internal error.
 */
function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return e instanceof Error && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

// Run when executed as the CLI bundle (not when imported by tests).
const isEntry = typeof process !== 'undefined' && process.argv[1] && /(?:maai-encoder(?:\.js)?|cli\.js)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`maai-encoder: internal error: ${(e as Error)?.stack ?? e}\n`);
      process.exitCode = 70;
    },
  );
}
