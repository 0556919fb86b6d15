/**
 * Typed errors. Every error thrown by lstm-vae on bad input is one of these, and its message says
 * what was wrong (the argument), what was expected and what was given.
 */

export interface ErrorDetails {
  /** The argument, option or file part that was wrong (e.g. `x.shape`, `options.batchSize`). */
  argument?: string;
  /** What was expected, in words or as a value. */
  expected?: unknown;
  /** What was given. */
  actual?: unknown;
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 200 ? s.slice(0, 197) + '...' : s;
  } catch {
    return String(v);
  }
}

/** Base class of every error lstm-vae throws on purpose. */
export class LstmVaeError extends Error {
  // spelled out (not new.target.name) so that the names survive a consumer's minifier
  override name = 'LstmVaeError';
  readonly argument?: string;
  readonly expected?: unknown;
  readonly actual?: unknown;
  constructor(message: string, details: ErrorDetails = {}) {
    let full = message;
    if (details.argument !== undefined || details.expected !== undefined || details.actual !== undefined) {
      const parts: string[] = [];
      if (details.argument !== undefined) parts.push(`argument: ${details.argument}`);
      if (details.expected !== undefined) parts.push(`expected: ${show(details.expected)}`);
      if (details.actual !== undefined) parts.push(`got: ${show(details.actual)}`);
      full = `${message} (${parts.join('; ')})`;
    }
    super(full);
    this.argument = details.argument;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** A tensor or array has the wrong shape, length or element type. */
export class ShapeError extends LstmVaeError {
  override readonly name = 'ShapeError';
}
/** A model or training option is missing, of the wrong type or out of range. */
export class ConfigError extends LstmVaeError {
  override readonly name = 'ConfigError';
}
/** Data is empty, malformed or holds values the model cannot take (NaN, Inf, unknown tokens). */
export class DataError extends LstmVaeError {
  override readonly name = 'DataError';
}
/** A computation produced a non-finite value (e.g. the loss diverged during training). */
export class NumericError extends LstmVaeError {
  override readonly name = 'NumericError';
}
/** A saved file is not a valid lstm-vae / safetensors file. */
export class FormatError extends LstmVaeError {
  override readonly name = 'FormatError';
}
/** The WebAssembly backend could not be loaded or used (not initialised, unsupported runtime). */
export class BackendError extends LstmVaeError {
  override readonly name = 'BackendError';
}
/** Reading or writing a file failed (the previous file, if any, is left intact). */
export class IOError extends LstmVaeError {
  override readonly name = 'IOError';
}
