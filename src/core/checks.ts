/**
 * Argument checks shared by every module: one spelling of "a whole number in a range".
 */

import { ConfigError, type LstmVaeError } from './errors.js';

/** True when `v` is an integer number with `min <= v <= max`. */
export function isInt(v: unknown, min: number, max = 1 << 20): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

type ErrorClass = new (message: string, details?: { argument?: string; expected?: unknown; actual?: unknown }) => LstmVaeError;

/**
 * Returns `v` when it is a whole number from `min` (to `max` when given); throws a typed error
 * (`ConfigError` unless another class is given) naming `argument` otherwise.
 */
export function checkInt(v: unknown, argument: string, min: number, max?: number, error: ErrorClass = ConfigError): number {
  if (isInt(v, min, max ?? Number.MAX_SAFE_INTEGER)) return v;
  const name = argument.replace(/^(options|config)\./, '');
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  throw new error(`${name} must be a whole number ${range}`, {
    argument,
    expected: max === undefined ? `an integer >= ${min}` : `${min}..${max}`,
    actual: v,
  });
}

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** Throws a ConfigError for a key of `options` that is not in `known`, naming the closest known key. */
export function checkKnownKeys(options: object, known: readonly string[], argument = 'options'): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    let best = known[0];
    for (const k of known)
      if (editDistance(key.toLowerCase(), k.toLowerCase()) < editDistance(key.toLowerCase(), best.toLowerCase())) best = k;
    const hint =
      editDistance(key.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(best.length / 3)) ? `; did you mean ${best}?` : '';
    throw new ConfigError(`unknown option ${key}${hint}`, {
      argument: `${argument}.${key}`,
      expected: `one of ${known.join(', ')}`,
      actual: key,
    });
  }
}
