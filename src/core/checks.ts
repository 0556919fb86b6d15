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
