/**
 * Reading and writing the safetensors format (pure TypeScript, no WebAssembly).
 *
 * Layout: an 8-byte little-endian unsigned integer N, N bytes of UTF-8 JSON (the header), then the
 * byte buffer that holds the raw little-endian tensor data. The header maps tensor names to
 * `{ "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }` (offsets relative to the start of
 * the byte buffer) plus an optional `"__metadata__"` object mapping strings to strings.
 *
 * Only `F32` tensors are read and written: that is what lstm-vae stores.
 */

import { ConfigError, FormatError, ShapeError } from '../core/errors';

/** A tensor to write: a row-major shape and its `product(shape)` values. */
export interface TensorInput {
  shape: readonly number[];
  data: Float32Array;
}

/** A tensor read from a safetensors file. `data` is a fresh copy that does not alias the input. */
export interface DecodedTensor {
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

export interface DecodedSafetensors {
  metadata: Record<string, string>;
  tensors: Record<string, DecodedTensor>;
}

export interface DecodeOptions {
  /** Largest header (in bytes) accepted; default 100 MB (100,000,000 bytes, the official limit). */
  maxHeaderBytes?: number;
}

const METADATA_KEY = '__metadata__';
const DEFAULT_MAX_HEADER_BYTES = 100_000_000;
const MAX_JSON_DEPTH = 64;
const F32_BYTES = 4;

/** dtypes the official format knows; they are recognised only to give a clearer error. */
const KNOWN_DTYPES = new Set([
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'I16', 'U16', 'F16',
  'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64', 'C64',
]);

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** Sets an own, enumerable property, also for the key `__proto__` (which plain assignment would not). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** A name quoted for an error message (JSON-escaped, shortened if very long). */
function q(name: string): string {
  const s = JSON.stringify(name.length > 120 ? name.slice(0, 117) + '...' : name);
  return s;
}

function isWellFormed(s: string): boolean {
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

function showShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/**
 * Encodes F32 tensors (and optional string → string metadata) as a safetensors file.
 *
 * Matches the official writer: tensors are laid out in sorted name order (Unicode code point order,
 * i.e. UTF-8 byte order), `data_offsets` are relative to the start of the byte buffer, and the JSON
 * header is padded with spaces to a multiple of 8 bytes so that the data stays aligned. Metadata keys
 * are written in sorted order; `__metadata__` is written only when `metadata` is given. The output is
 * deterministic.
 *
 * @throws ShapeError when a shape is not an array of non-negative integers or does not match the
 *   data length, or data is not a Float32Array.
 * @throws FormatError when a name or metadata entry cannot be stored (the reserved name
 *   `__metadata__`, strings with unpaired surrogates, non-string metadata values).
 */
export function encodeSafetensors(
  tensors: Record<string, TensorInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') {
    throw new ShapeError('tensors must be an object mapping names to { shape, data }', {
      argument: 'tensors',
      actual: tensors === null ? 'null' : typeof tensors,
    });
  }
  const names = Object.keys(tensors).sort(compareCodePoints);
  const parts: string[] = [];

  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new FormatError('metadata must be an object mapping strings to strings', {
        argument: 'metadata',
        actual: metadata === null ? 'null' : Array.isArray(metadata) ? 'array' : typeof metadata,
      });
    }
    const entries: string[] = [];
    for (const key of Object.keys(metadata).sort(compareCodePoints)) {
      const value: unknown = metadata[key];
      if (typeof value !== 'string') {
        throw new FormatError(`metadata value of ${q(key)} must be a string, got ${typeof value}`, {
          argument: `metadata[${q(key)}]`,
        });
      }
      if (!isWellFormed(key) || !isWellFormed(value)) {
        throw new FormatError(`metadata entry ${q(key)} contains an unpaired UTF-16 surrogate, which UTF-8 cannot store`);
      }
      entries.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    parts.push(`"${METADATA_KEY}":{${entries.join(',')}}`);
  }

  const views: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) {
      throw new FormatError(`"${METADATA_KEY}" is reserved for metadata and cannot be a tensor name`, {
        argument: 'tensors',
      });
    }
    if (!isWellFormed(name)) {
      throw new FormatError(`tensor name ${q(name)} contains an unpaired UTF-16 surrogate, which UTF-8 cannot store`);
    }
    const t = tensors[name] as TensorInput | null | undefined;
    if (t === null || typeof t !== 'object') {
      throw new ShapeError(`tensor ${q(name)} must be an object { shape, data }`, { argument: `tensors[${q(name)}]` });
    }
    const { shape, data } = t;
    if (!(data instanceof Float32Array)) {
      throw new ShapeError(`tensor ${q(name)}: data must be a Float32Array`, {
        argument: `tensors[${q(name)}].data`,
        expected: 'Float32Array',
        actual: data === null ? 'null' : (data as object)?.constructor?.name ?? typeof data,
      });
    }
    if (!Array.isArray(shape)) {
      throw new ShapeError(`tensor ${q(name)}: shape must be an array of non-negative integers`, {
        argument: `tensors[${q(name)}].shape`,
      });
    }
    let count = 1;
    for (let i = 0; i < shape.length; i++) {
      const d: unknown = shape[i];
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        throw new ShapeError(
          `tensor ${q(name)}: shape must be an array of non-negative integers, but element ${i} is ${String(d)}`,
          { argument: `tensors[${q(name)}].shape` },
        );
      }
      count *= d;
      if (count > Number.MAX_SAFE_INTEGER) {
        throw new ShapeError(`tensor ${q(name)}: shape ${showShape(shape)} has more than 2^53-1 elements`);
      }
    }
    if (count !== data.length) {
      throw new ShapeError(`tensor ${q(name)}: shape ${showShape(shape)} needs ${count} values but data has ${data.length}`, {
        argument: `tensors[${q(name)}]`,
        expected: count,
        actual: data.length,
      });
    }
    const nbytes = data.length * F32_BYTES;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"F32","shape":${showShape(shape)},"data_offsets":[${offset},${offset + nbytes}]}`,
    );
    views.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    offset += nbytes;
  }

  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen >>> 0, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const v of views) {
    if (LITTLE_ENDIAN_HOST) {
      out.set(v, pos);
    } else {
      const src = new DataView(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i < v.byteLength; i += 4) dv.setFloat32(pos + i, src.getFloat32(i, false), true);
    }
    pos += v.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A strict, lean JSON parser for the header
// ---------------------------------------------------------------------------------------------
// JSON.parse is not used: it silently keeps the last of duplicated keys, turns 1e2 / 1.0 /
// 9007199254740993 into (rounded) integers, and builds a full object tree, which for a hostile
// 100 MB header such as `{"__metadata__":{"x":[0,0,0,...]}}` costs many times the header size.
// This parser follows RFC 8259 but reads the header against the safetensors schema: it keeps only
// names, dtype strings, shape / offset integers and metadata strings, and validates everything else
// (unknown fields, non-string metadata values) without materialising it. Duplicate keys (top level,
// inside an entry, inside __metadata__) and unpaired surrogate escapes are rejected, and nesting is
// limited so that hostile headers cannot exhaust the stack. JSON syntax is checked for the whole
// header before any schema error is reported.

/** A JSON array read as a list of non-negative safe integers. */
interface IntList {
  /** What the value was: 'an array', 'a string', ... */
  kind: string;
  /** Number of elements (arrays only). */
  count: number;
  /** The elements, while all are valid. */
  values: number[];
  /** The first invalid element: its index and what is wrong with it (e.g. `is negative (-1)`). */
  badIndex?: number;
  badText?: string;
}

interface RawEntry {
  name: string;
  /** Set when the entry is not an object. */
  notObject?: string;
  /** The dtype string, or the kind of the non-string value. */
  dtype?: { value?: string; kind: string };
  shape?: IntList;
  offsets?: IntList;
}

interface RawHeader {
  metadata: Map<string, string>;
  /** First problem in __metadata__, if any. */
  metadataProblem?: string;
  /** Position (in entries) at which the metadata problem was met, to report problems in order. */
  metadataProblemAt: number;
  entries: RawEntry[];
  /** Set when the whole header is not a JSON object. */
  notObject?: string;
}

const KIND_BY_CHAR: Record<string, string> = {
  '"': 'a string',
  '[': 'an array',
  '{': 'an object',
  t: 'a boolean',
  f: 'a boolean',
  n: 'null',
};

function shortText(t: string): string {
  return t.length > 40 ? t.slice(0, 37) + '...' : t;
}

class HeaderParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  private fail(what: string): never {
    throw new FormatError(`header is not valid JSON: ${what} at character ${this.pos}`);
  }

  private unexpected(): never {
    if (this.pos >= this.src.length) this.fail('unexpected end of header');
    const c = this.src.charCodeAt(this.pos);
    const shown = c >= 0x20 && c < 0x7f ? this.src[this.pos] : `\\u${c.toString(16).padStart(4, '0')}`;
    this.fail(`unexpected character '${shown}'`);
  }

  private ws(): void {
    const s = this.src;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  private expect(code: number): void {
    if (this.src.charCodeAt(this.pos) !== code) this.unexpected();
    this.pos++;
  }

  /** The kind of the value starting here ('a number', 'an array', ...); fails on a non-value. */
  private kindHere(): string {
    const ch = this.src[this.pos];
    if (ch === undefined) this.unexpected();
    const k = KIND_BY_CHAR[ch];
    if (k !== undefined) return k;
    const c = ch.charCodeAt(0);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'a number';
    this.unexpected();
  }

  /**
   * Iterates the members of an object starting at `{`, rejecting duplicate keys; `member` must
   * consume the value (the position is just after the colon and whitespace).
   */
  private members(member: (key: string) => void): void {
    this.expect(0x7b);
    this.ws();
    if (this.src.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return;
    }
    // Most objects have a few keys: a short list is cheaper than a Set until it grows.
    let few: string[] | undefined = [];
    let many: Set<string> | undefined;
    for (;;) {
      if (this.src.charCodeAt(this.pos) !== 0x22) this.unexpected();
      const keyPos = this.pos;
      const key = this.string(true);
      if (few !== undefined ? few.includes(key) : many!.has(key)) {
        this.pos = keyPos;
        this.fail(`duplicate key ${q(key)}`);
      }
      if (few !== undefined && few.length < 8) {
        few.push(key);
      } else {
        if (few !== undefined) {
          many = new Set(few);
          few = undefined;
        }
        many!.add(key);
      }
      this.ws();
      this.expect(0x3a);
      this.ws();
      member(key);
      this.ws();
      const c = this.src.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.ws();
      } else if (c === 0x7d) {
        this.pos++;
        return;
      } else {
        this.unexpected();
      }
    }
  }

  /** Iterates the elements of an array starting at `[`; `element` must consume each value. */
  private elements(element: (index: number) => void): number {
    this.expect(0x5b);
    this.ws();
    if (this.src.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return 0;
    }
    for (let i = 0; ; i++) {
      element(i);
      this.ws();
      const c = this.src.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.ws();
      } else if (c === 0x5d) {
        this.pos++;
        return i + 1;
      } else {
        this.unexpected();
      }
    }
  }

  /** Validates and skips any JSON value without keeping it. */
  private skip(depth: number): void {
    const c = this.src.charCodeAt(this.pos);
    if (c === 0x22) {
      this.string(false);
    } else if (c === 0x7b || c === 0x5b) {
      if (depth >= MAX_JSON_DEPTH) this.fail(`values nested more than ${MAX_JSON_DEPTH} levels deep`);
      // Keys of ignored objects are not checked for duplicates (the official reader ignores them too).
      if (c === 0x5b) this.elements(() => this.skip(depth + 1));
      else this.skipObject(depth + 1);
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.number();
    } else {
      this.literal();
    }
  }

  private skipObject(depth: number): void {
    this.expect(0x7b);
    this.ws();
    if (this.src.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      if (this.src.charCodeAt(this.pos) !== 0x22) this.unexpected();
      this.string(false);
      this.ws();
      this.expect(0x3a);
      this.ws();
      this.skip(depth);
      this.ws();
      const c = this.src.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.ws();
      } else if (c === 0x7d) {
        this.pos++;
        return;
      } else {
        this.unexpected();
      }
    }
  }

  private literal(): true | false | null {
    const s = this.src;
    if (s.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (s.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (s.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    this.unexpected();
  }

  parseHeader(): RawHeader {
    const header: RawHeader = { metadata: new Map(), metadataProblemAt: -1, entries: [] };
    this.ws();
    if (this.src.charCodeAt(this.pos) !== 0x7b) {
      header.notObject = this.kindHere();
      this.skip(0);
    } else {
      this.members((key) => {
        if (key === METADATA_KEY) this.metadata(header);
        else header.entries.push(this.entry(key));
      });
    }
    this.ws();
    if (this.pos !== this.src.length) this.fail('unexpected text after the JSON value');
    return header;
  }

  private metadata(header: RawHeader): void {
    const problem = (p: string): void => {
      if (header.metadataProblem === undefined) {
        header.metadataProblem = p;
        header.metadataProblemAt = header.entries.length;
      }
    };
    const c = this.src.charCodeAt(this.pos);
    if (c === 0x6e && this.src.startsWith('null', this.pos)) {
      this.pos += 4; // accepted by the official reader as "no metadata"
      return;
    }
    if (c !== 0x7b) {
      problem(`${METADATA_KEY} must be an object mapping strings to strings, got ${this.kindHere()}`);
      this.skip(1);
      return;
    }
    this.members((key) => {
      if (this.src.charCodeAt(this.pos) === 0x22) {
        header.metadata.set(key, this.string(true));
      } else {
        problem(`${METADATA_KEY} must map strings to strings, but the value of ${q(key)} is ${this.kindHere()}`);
        this.skip(2);
      }
    });
  }

  private entry(name: string): RawEntry {
    const e: RawEntry = { name };
    if (this.src.charCodeAt(this.pos) !== 0x7b) {
      e.notObject = this.kindHere();
      this.skip(1);
      return e;
    }
    this.members((field) => {
      if (field === 'dtype') {
        if (this.src.charCodeAt(this.pos) === 0x22) e.dtype = { value: this.string(true), kind: 'a string' };
        else {
          e.dtype = { kind: this.kindHere() };
          this.skip(2);
        }
      } else if (field === 'shape') {
        e.shape = this.intList();
      } else if (field === 'data_offsets') {
        e.offsets = this.intList();
      } else {
        this.skip(2); // unknown fields are ignored, as the official reader does
      }
    });
    return e;
  }

  private intList(): IntList {
    const list: IntList = { kind: this.kindHere(), count: 0, values: [] };
    if (list.kind !== 'an array') {
      this.skip(2);
      return list;
    }
    list.count = this.elements((i) => {
      const c = this.src.charCodeAt(this.pos);
      let bad: string | undefined;
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        const v = this.plainInteger();
        if (v >= 0) {
          if (list.badIndex === undefined) list.values.push(v);
        } else {
          const t = this.number();
          if (/^-(0|[1-9][0-9]*)$/.test(t)) bad = `is negative (${shortText(t)})`;
          else if (/^(0|[1-9][0-9]*)$/.test(t)) bad = `is larger than 2^53-1 (${shortText(t)})`;
          else bad = `is not an integer (${shortText(t)})`;
        }
      } else if (c === 0x22) {
        bad = `is ${q(this.string(true))}`;
      } else if (c === 0x5b || c === 0x7b) {
        bad = `is ${this.kindHere()}`;
        this.skip(3);
      } else {
        bad = `is ${String(this.literal())}`;
      }
      if (bad !== undefined && list.badIndex === undefined) {
        list.badIndex = i;
        list.badText = bad;
        list.values = [];
      }
    });
    return list;
  }

  private hex4(at: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.src.charCodeAt(at + i);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else {
        this.pos = at + i;
        this.fail('invalid \\u escape');
      }
      v = v * 16 + d;
    }
    return v;
  }

  /** Reads a string starting at `"`; returns its value when `keep`, else '' (validated only). */
  private string(keep: boolean): string {
    const s = this.src;
    let p = this.pos + 1;
    let out = '';
    let start = p;
    for (;;) {
      if (p >= s.length) {
        this.pos = p;
        this.fail('unterminated string');
      }
      const c = s.charCodeAt(p);
      if (c === 0x22) {
        if (keep) out += s.slice(start, p);
        this.pos = p + 1;
        return out;
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail('control character in string');
      }
      if (c !== 0x5c) {
        p++;
        continue;
      }
      if (keep) out += s.slice(start, p);
      let piece: string;
      switch (s.charCodeAt(p + 1)) {
        case 0x22: piece = '"'; p += 2; break;
        case 0x5c: piece = '\\'; p += 2; break;
        case 0x2f: piece = '/'; p += 2; break;
        case 0x62: piece = '\b'; p += 2; break;
        case 0x66: piece = '\f'; p += 2; break;
        case 0x6e: piece = '\n'; p += 2; break;
        case 0x72: piece = '\r'; p += 2; break;
        case 0x74: piece = '\t'; p += 2; break;
        case 0x75: {
          const u = this.hex4(p + 2);
          if (u >= 0xdc00 && u <= 0xdfff) {
            this.pos = p;
            this.fail('unpaired surrogate in \\u escape');
          }
          if (u >= 0xd800 && u <= 0xdbff) {
            const lo = s.charCodeAt(p + 6) === 0x5c && s.charCodeAt(p + 7) === 0x75 ? this.hex4(p + 8) : -1;
            if (!(lo >= 0xdc00 && lo <= 0xdfff)) {
              this.pos = p;
              this.fail('unpaired surrogate in \\u escape');
            }
            piece = String.fromCharCode(u, lo);
            p += 12;
          } else {
            piece = String.fromCharCode(u);
            p += 6;
          }
          break;
        }
        default:
          this.pos = p;
          this.fail('invalid escape in string');
      }
      if (keep) out += piece;
      start = p;
    }
  }

  /**
   * Fast path for the common case: a number written as plain digits (no sign, fraction or exponent)
   * whose value is at most 2^53-1. Returns the value and moves past it, or returns -1 and leaves the
   * position unchanged (the caller then reads the number in full to say what is wrong with it).
   */
  private plainInteger(): number {
    const s = this.src;
    let p = this.pos;
    let v = 0;
    const first = s.charCodeAt(p);
    if (first === 0x30) {
      p++;
    } else {
      for (let c = first; c >= 0x30 && c <= 0x39; c = s.charCodeAt(++p)) {
        v = v * 10 + (c - 0x30);
      }
      if (p === this.pos || !(v <= Number.MAX_SAFE_INTEGER)) return -1;
    }
    const next = s.charCodeAt(p);
    if (next === 0x2e || next === 0x65 || next === 0x45 || (next >= 0x30 && next <= 0x39)) return -1;
    this.pos = p;
    return v;
  }

  /** Reads a number (RFC 8259 grammar) and returns its text. */
  private number(): string {
    const s = this.src;
    const begin = this.pos;
    let p = begin;
    const digits = (): void => {
      const d0 = p;
      while (p < s.length && s.charCodeAt(p) >= 0x30 && s.charCodeAt(p) <= 0x39) p++;
      if (p === d0) {
        this.pos = p;
        this.unexpected();
      }
    };
    if (s.charCodeAt(p) === 0x2d) p++;
    if (s.charCodeAt(p) === 0x30) p++;
    else digits();
    if (s.charCodeAt(p) === 0x2e) {
      p++;
      digits();
    }
    const e = s.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      p++;
      const sign = s.charCodeAt(p);
      if (sign === 0x2b || sign === 0x2d) p++;
      digits();
    }
    this.pos = p;
    return s.slice(begin, p);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

function checkEntry(raw: RawEntry, dataLen: number): Entry {
  const { name } = raw;
  const where = `tensor ${q(name)}`;
  if (raw.notObject !== undefined) {
    throw new FormatError(`${where}: header entry must be an object with dtype, shape and data_offsets, got ${raw.notObject}`);
  }
  const dtype = raw.dtype;
  if (dtype === undefined) throw new FormatError(`${where}: missing "dtype" (supported: F32)`);
  if (dtype.value === undefined) {
    throw new FormatError(`${where}: dtype must be a string, got ${dtype.kind} (supported: F32)`);
  }
  if (dtype.value !== 'F32') {
    const details = { argument: `${name}.dtype`, expected: 'F32', actual: dtype.value };
    if (KNOWN_DTYPES.has(dtype.value)) {
      throw new FormatError(
        `${where}: dtype ${dtype.value} is not supported; lstm-vae stores F32 tensors only (supported: F32)`,
        details,
      );
    }
    throw new FormatError(`${where}: unknown dtype ${q(dtype.value)} (supported: F32)`, details);
  }

  const rawShape = raw.shape;
  if (rawShape === undefined) throw new FormatError(`${where}: missing "shape"`);
  if (rawShape.kind !== 'an array') {
    throw new FormatError(`${where}: shape must be an array of non-negative integers, got ${rawShape.kind}`);
  }
  if (rawShape.badIndex !== undefined) {
    throw new FormatError(
      `${where}: shape must be an array of non-negative integers, but element ${rawShape.badIndex} ${rawShape.badText}`,
    );
  }
  const shape = rawShape.values;

  const off = raw.offsets;
  if (off === undefined) throw new FormatError(`${where}: missing "data_offsets"`);
  if (off.kind !== 'an array' || off.count !== 2) {
    throw new FormatError(
      `${where}: data_offsets must be [begin, end] (two non-negative integers), got ${
        off.kind === 'an array' ? `an array of ${off.count} elements` : off.kind
      }`,
    );
  }
  if (off.badIndex !== undefined) {
    throw new FormatError(
      `${where}: data_offsets ${off.badIndex === 0 ? 'begin' : 'end'} ${off.badText}; expected a non-negative integer`,
    );
  }
  const [begin, end] = off.values as [number, number];
  if (end < begin) throw new FormatError(`${where}: data_offsets [${begin},${end}] end before they begin`);
  if (end > dataLen) {
    throw new FormatError(
      `${where}: data_offsets [${begin},${end}] end beyond the data buffer, which has ${dataLen} bytes`,
    );
  }

  // Element count, multiplied left to right; like the official reader's checked multiplication, an
  // intermediate product that overflows (here: exceeds 2^53-1) is an error even if a later dimension is 0.
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count > Number.MAX_SAFE_INTEGER) {
      throw new FormatError(`${where}: the element count of shape ${showShape(shape)} overflows (more than 2^53-1)`);
    }
  }
  const need = count * F32_BYTES; // exact: count <= 2^53-1 and the factor is a power of two
  if (need !== end - begin) {
    throw new FormatError(
      `${where}: shape ${showShape(shape)} of F32 needs ${need} bytes, but data_offsets [${begin},${end}] span ${end - begin}`,
    );
  }
  return { name, shape, begin, end };
}

/**
 * Decodes a safetensors file holding F32 tensors.
 *
 * Robust against hostile input: every problem is a {@link FormatError} saying what is wrong, nothing
 * is allocated for tensors beyond the size of the input, the header is read without building a tree
 * of it (memory stays a small multiple of the header size), and the work is linear in the input size. Rules enforced:
 * - at least 8 bytes; the little-endian u64 header length N is at most `maxHeaderBytes`
 *   (default 100,000,000, the official limit) and 8 + N is at most the file size;
 * - the header is valid UTF-8 (no BOM) and one valid JSON object (surrounding JSON whitespace,
 *   such as the writer's space padding, is allowed), with no duplicate keys;
 * - `__metadata__`, if present and not null, is an object mapping strings to strings;
 * - every other key is a tensor: an object with `dtype` (only `F32` is supported), `shape` (an array
 *   of non-negative integers written as plain digits, at most 2^53-1, whose product does not overflow)
 *   and `data_offsets` ([begin, end], non-negative integers, begin <= end <= data buffer length),
 *   where end - begin = product(shape) * 4; other fields in an entry are ignored;
 * - as in the official `safetensors` library (`Metadata::validate` plus its "file not fully covered"
 *   check): the tensors, sorted by data_offsets, tile the byte buffer exactly — the first begins at 0,
 *   each begins where the previous one ends (no overlaps, no holes), and the last ends at the end of
 *   the file. Zero-size tensors are allowed anywhere on that chain.
 *
 * The returned tensors are ordered by their position in the file; their data are fresh, aligned
 * copies that do not alias `bytes`.
 */
export function decodeSafetensors(bytes: Uint8Array, options: DecodeOptions = {}): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new FormatError('a safetensors file must be given as a Uint8Array', {
      argument: 'bytes',
      expected: 'Uint8Array',
      actual: bytes === null ? 'null' : typeof bytes,
    });
  }
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (typeof maxHeaderBytes !== 'number' || !(maxHeaderBytes >= 0) || Number.isNaN(maxHeaderBytes)) {
    throw new ConfigError('options.maxHeaderBytes must be a non-negative number', {
      argument: 'options.maxHeaderBytes',
      actual: maxHeaderBytes,
    });
  }
  const size = bytes.length;
  if (size < 8) {
    throw new FormatError(
      `file is too short: ${size} bytes, but a safetensors file starts with an 8-byte header length`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const n = hi * 2 ** 32 + lo; // exact below 2^53; anything larger fails the checks below anyway
  if (n > maxHeaderBytes) {
    throw new FormatError(
      `header length ${dv.getBigUint64(0, true)} is absurdly large (limit: maxHeaderBytes = ${maxHeaderBytes})`,
    );
  }
  if (n > size - 8) {
    throw new FormatError(
      `header length ${n} is larger than the file allows: the file has ${size} bytes, so at most ${size - 8} are left after the 8-byte length (truncated file?)`,
    );
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new FormatError('header is not valid UTF-8');
  }
  if (text.length === 0) throw new FormatError('header is not valid JSON: the header is empty');
  const header = new HeaderParser(text).parseHeader();
  if (header.notObject !== undefined) throw new FormatError(`header must be a JSON object, got ${header.notObject}`);

  const dataStart = 8 + n;
  const dataLen = size - dataStart;
  // Schema problems are reported in header order.
  const entries: Entry[] = [];
  for (let i = 0; i <= header.entries.length; i++) {
    if (i === header.metadataProblemAt) throw new FormatError(header.metadataProblem!);
    if (i < header.entries.length) entries.push(checkEntry(header.entries[i]!, dataLen));
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of header.metadata) setOwn(metadata, k, v);

  // Coverage: sorted by offsets, the tensors must tile [0, dataLen) exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end || compareCodePoints(a.name, b.name));
  let cursor = 0;
  let last: Entry | undefined;
  for (const e of entries) {
    if (e.begin < cursor) {
      throw new FormatError(
        `tensors ${q(last!.name)} (data_offsets [${last!.begin},${last!.end}]) and ${q(e.name)} (data_offsets [${e.begin},${e.end}]) overlap`,
      );
    }
    if (e.begin > cursor) {
      throw new FormatError(
        `bytes ${cursor}..${e.begin} of the data buffer are not covered by any tensor (a gap before ${q(e.name)}); the tensors must cover the data buffer contiguously`,
      );
    }
    cursor = e.end;
    last = e;
  }
  if (cursor !== dataLen) {
    throw new FormatError(
      `the last ${dataLen - cursor} bytes of the data buffer (from offset ${cursor}) are not covered by any tensor; the tensors must cover the data buffer up to the end of the file`,
    );
  }

  // Everything checked: copy out. The total allocated equals dataLen <= bytes.length.
  const tensors: Record<string, DecodedTensor> = {};
  for (const e of entries) {
    const len = e.end - e.begin;
    const data = new Float32Array(len / F32_BYTES);
    const from = dataStart + e.begin;
    if (LITTLE_ENDIAN_HOST) {
      new Uint8Array(data.buffer).set(bytes.subarray(from, from + len));
    } else {
      for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(from + i * 4, true);
    }
    setOwn(tensors, e.name, { dtype: 'F32', shape: e.shape, data });
  }
  return { metadata, tensors };
}

/**
 * Checks that a state dict has exactly the expected keys and shapes. Throws one {@link FormatError}
 * listing every problem, e.g. `missing: a, b; unexpected: c; shape of k is [2,3], expected [3,2]`.
 */
export function validateStateDict(
  tensors: Record<string, { shape: readonly number[] }>,
  expected: Record<string, readonly number[]>,
): void {
  const have = Object.keys(tensors);
  const want = Object.keys(expected);
  const missing = want.filter((k) => !Object.prototype.hasOwnProperty.call(tensors, k)).sort(compareCodePoints);
  const unexpected = have.filter((k) => !Object.prototype.hasOwnProperty.call(expected, k)).sort(compareCodePoints);
  const mismatched: string[] = [];
  for (const k of want.slice().sort(compareCodePoints)) {
    if (!Object.prototype.hasOwnProperty.call(tensors, k)) continue;
    const got = tensors[k]!.shape;
    const exp = expected[k]!;
    if (got.length !== exp.length || got.some((d, i) => d !== exp[i])) {
      mismatched.push(`shape of ${k} is ${showShape(got)}, expected ${showShape(exp)}`);
    }
  }
  const parts: string[] = [];
  if (missing.length) parts.push(`missing: ${missing.join(', ')}`);
  if (unexpected.length) parts.push(`unexpected: ${unexpected.join(', ')}`);
  parts.push(...mismatched);
  if (parts.length) throw new FormatError(`state dict does not match the model: ${parts.join('; ')}`);
}
