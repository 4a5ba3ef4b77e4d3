/**
 * Name maps: turn the tensor names of a checkpoint into the names a model loads.
 *
 * Steps, in this order, on every name:
 * 1. `select`: keep only names that start with this prefix (the prefix stays; strip it with `strip`);
 * 2. `strip`: remove the first prefix of the list that the name starts with (names matching none are kept as they are);
 * 3. `add`: prepend this prefix;
 * 4. `rename`: replace the prefix FROM by TO, for the first pair whose FROM the name starts with.
 *
 * A `select` that keeps nothing, or two tensors mapped to the same name, is a FormatError.
 */
import { FormatError, RawTensor } from './types';

export interface NameMap {
  select?: string;
  strip?: string[];
  add?: string;
  rename?: Array<[string, string]>;
}

/**
 * The CPC training checkpoint (`{weights: {gEncoder.*, gAR.baseNet.*}, config, epoch}`, read by loadTorchStateDict as
 * `weights.gEncoder.*`, ...) onto EncoderCPC's `encoder.gEncoder.*` / `encoder.gAR.baseNet.*`. The downsample is
 * not in that file: it comes from a VAP state dict (see VAP_CPC_NAME_MAP) or another weights file.
 */
export const CPC_CHECKPOINT_NAME_MAP: NameMap = Object.freeze({ select: 'weights.', strip: ['weights.'], add: 'encoder.' });

/**
 * A MaAI VAP state dict onto the encoder's names: VAP keeps its encoder under `encoder.` (`encoder.downsample.*`,
 * `encoder.encoder.gEncoder.*`, `encoder.encoder.gAR.*`, and `encoder.frame_rate_conv.*` for Mimi models), so
 * selecting and stripping `encoder.` gives EncoderCPC's `downsample.*`, `encoder.gEncoder.*`, `encoder.gAR.*` (or
 * EncoderMimi's `frame_rate_conv.*`). The VAP transformer's own tensors are dropped.
 */
export const VAP_ENCODER_NAME_MAP: NameMap = Object.freeze({ select: 'encoder.', strip: ['encoder.'] });

/** Parses a `FROM=TO` rename rule (TO may be empty, which strips FROM). */
export function parseRename(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new FormatError(`rename rule "${spec}" must be FROM=TO`);
  const from = spec.slice(0, eq);
  const to = spec.slice(eq + 1);
  if (from === '') throw new FormatError(`rename rule "${spec}": FROM must not be empty`);
  return [from, to];
}

function checkMap(map: NameMap): void {
  if (map === null || typeof map !== 'object') throw new FormatError('name map must be an object {select?, strip?, add?, rename?}');
  for (const k of Object.keys(map)) {
    if (!['select', 'strip', 'add', 'rename'].includes(k)) throw new FormatError(`name map: unknown key "${k}" (expected select, strip, add, rename)`);
  }
  if (map.select !== undefined && typeof map.select !== 'string') throw new FormatError('name map: select must be a string');
  if (map.add !== undefined && typeof map.add !== 'string') throw new FormatError('name map: add must be a string');
  if (map.strip !== undefined && (!Array.isArray(map.strip) || !map.strip.every((s) => typeof s === 'string'))) {
    throw new FormatError('name map: strip must be a list of strings');
  }
  if (
    map.rename !== undefined &&
    (!Array.isArray(map.rename) || !map.rename.every((r) => Array.isArray(r) && r.length === 2 && typeof r[0] === 'string' && typeof r[1] === 'string' && r[0] !== ''))
  ) {
    throw new FormatError('name map: rename must be a list of [FROM, TO] string pairs with a non-empty FROM');
  }
}

/** The new name of one tensor, or undefined when `select` drops it. */
export function mapName(name: string, map: NameMap): string | undefined {
  if (map.select !== undefined && !name.startsWith(map.select)) return undefined;
  let n = name;
  const strip = map.strip?.find((p) => n.startsWith(p));
  if (strip !== undefined) n = n.slice(strip.length);
  if (map.add) n = map.add + n;
  const rule = map.rename?.find(([from]) => n.startsWith(from));
  if (rule) n = rule[1] + n.slice(rule[0].length);
  return n;
}

/** Applies a name map; keeps the input order. The tensors themselves are shared, not copied. */
export function applyNameMap(tensors: Map<string, RawTensor>, map: NameMap): Map<string, RawTensor> {
  checkMap(map);
  const out = new Map<string, RawTensor>();
  const from = new Map<string, string>();
  for (const [name, t] of tensors) {
    const n = mapName(name, map);
    if (n === undefined) continue;
    if (n === '') throw new FormatError(`name map: tensor "${name}" maps to an empty name`);
    const prev = from.get(n);
    if (prev !== undefined) throw new FormatError(`name map: tensors "${prev}" and "${name}" both map to "${n}"`);
    from.set(n, name);
    out.set(n, t);
  }
  if (out.size === 0) {
    const some = [...tensors.keys()].slice(0, 5).map((s) => `"${s}"`).join(', ');
    const what = map.select !== undefined ? `select "${map.select}" matches none of the ${tensors.size} tensors` : 'no tensors to map';
    throw new FormatError(`name map: ${what}${tensors.size ? ` (names look like ${some}${tensors.size > 5 ? ', ...' : ''})` : ''}`);
  }
  return out;
}
