/** A small argument parser: flags `--name value`, `--name=value`, boolean switches, positionals. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** 'string' takes a value; 'boolean' is a switch. */
  type: 'string' | 'boolean';
  short?: string;
  repeat?: boolean;
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>): Parsed {
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).filter(([, s]) => s.short).map(([k, s]) => [s.short!, k]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      name = byShort.get(a.slice(1));
      if (!name) throw new UsageError(`unknown option ${a}`);
    } else {
      positionals.push(a);
      continue;
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name}`);
    let value: string | boolean;
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
      value = true;
    } else {
      value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    }
    if (s.repeat) ((flags[name] as string[] | undefined) ?? (flags[name] = [])) && (flags[name] as string[]).push(value as string);
    else flags[name] = value;
  }
  return { flags, positionals };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function num(p: Parsed, name: string, dflt?: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`option --${name} must be a number, got "${v}"`);
  return n;
}
