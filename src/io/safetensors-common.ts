/**
 * Constants and small helpers shared by the safetensors writer, reader and header parser.
 */

export const METADATA_KEY = '__metadata__';

export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

export const MAX_JSON_DEPTH = 64;

export const F32_BYTES = 4;

/** dtypes the official format knows; they are recognised only to give a clearer error. */
export const KNOWN_DTYPES = new Set([
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
  'C64',
]);

export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** Sets an own, enumerable property, also for the key `__proto__` (which plain assignment would not). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** A name quoted for an error message (JSON-escaped, shortened if very long). */
export function q(name: string): string {
  const s = JSON.stringify(name.length > 120 ? name.slice(0, 117) + '...' : name);
  return s;
}

export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c >= 0xdc00) return false;
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

/**
 * Orders strings by Unicode code point, which is the byte order of their UTF-8 encodings (the order
 * of Rust's `String`, used by the official writer). Plain `<` on JS strings compares UTF-16 code
 * units, which differs for characters above U+FFFF versus U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca >= 0xd800 && cb >= 0xd800) {
        ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
        cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
      }
      return ca - cb;
    }
  }
  return a.length - b.length;
}

export function showShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function shortText(t: string): string {
  return t.length > 40 ? t.slice(0, 37) + '...' : t;
}
