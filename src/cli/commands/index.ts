import { info } from './info';
import { weights } from './weights';
import { parity } from './parity';
import { encode } from './encode';
import { bench } from './bench';
import { stream } from './stream';
import { convert } from './convert';
import type { Command } from './command';

export type { Command } from './command';

export const COMMANDS: Record<string, Command> = { info, weights, parity, encode, stream, convert, bench };
