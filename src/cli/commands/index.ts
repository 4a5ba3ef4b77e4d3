import { info } from './info';
import { weights } from './weights';
import { parity } from './parity';
import { encode } from './encode';
import { bench } from './bench';
import { stream } from './stream';
import { convert } from './convert';
import { setupBackend } from './setupBackend';

export interface Command {
  summary: string;
  help: string;
  run(argv: string[]): Promise<number>;
}

export const COMMANDS: Record<string, Command> = { info, weights, parity, encode, stream, convert, bench, 'setup-backend': setupBackend };
