/** CLI-only error handling: usage errors (exit 2) and one-line messages. */

/** A wrong command line (bad option value, missing argument, option that does not apply): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Collapses a message to one line. */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Error classes thrown on purpose by lstm-vae (any copy of them: matched by name). */
const KNOWN = new Set([
  'LstmVaeError',
  'ShapeError',
  'ConfigError',
  'DataError',
  'NumericError',
  'FormatError',
  'BackendError',
  'IOError',
  'UsageError',
  'AbortError',
]);

export function isKnownError(e: unknown): e is Error {
  return e instanceof Error && KNOWN.has(e.name);
}

/** The message printed for an error (one line, without the `lstm-vae: ` prefix). */
export function errorMessage(e: unknown): string {
  if (isKnownError(e)) return oneLine(e.message);
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return oneLine(e.message);
    return oneLine(`internal error: ${e.message || e.name} (run with LSTM_VAE_DEBUG=1 to see the stack trace)`);
  }
  return oneLine(`internal error: ${String(e)}`);
}
