import { BackendName, setBackend } from '../../backend';
import { FlagSpec, Parsed, UsageError, str } from '../args';

export const BACKEND_FLAG: Record<string, FlagSpec> = { backend: { type: 'string' } };

export async function useBackend(p: Parsed): Promise<BackendName> {
  return setBackend((str(p, 'backend') ?? 'wasm') as BackendName);
}

export function required(p: Parsed, name: string): string {
  const v = str(p, name);
  if (v === undefined) throw new UsageError(`missing required option --${name}`);
  return v;
}

export function onePositional(p: Parsed, what: string): string {
  if (p.positionals.length !== 1) throw new UsageError(`expected exactly one ${what}, got ${p.positionals.length}`);
  return p.positionals[0];
}

/** A progress bar on stderr when it is a terminal; silent otherwise. */
export function progress(label: string): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => {};
  let last = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    if (pct === last && done !== total) return;
    last = pct;
    const width = 30;
    const fill = Math.round((width * pct) / 100);
    process.stderr.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${pct}% (${done}/${total})`);
    if (done >= total) process.stderr.write('\n');
  };
}
