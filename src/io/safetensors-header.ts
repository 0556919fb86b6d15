/**
 * A strict, lean JSON parser for the safetensors header.
 */

// JSON.parse is not used: it silently keeps the last of duplicated keys, turns 1e2 / 1.0 /
// 9007199254740993 into (rounded) integers, and builds a full object tree, which for a hostile
// 100 MB header such as `{"__metadata__":{"x":[0,0,0,...]}}` costs many times the header size.
// This parser follows RFC 8259 but reads the header against the safetensors schema: it keeps only
// names, dtype strings, shape / offset integers and metadata strings, and validates everything else
// (unknown fields, non-string metadata values) without materialising it. Duplicate keys (top level,
// inside an entry, inside __metadata__) and unpaired surrogate escapes are rejected, and nesting is
// limited so that hostile headers cannot exhaust the stack. JSON syntax is checked for the whole
// header before any schema error is reported.

import { FormatError } from '../core/errors.js';
import { MAX_JSON_DEPTH, METADATA_KEY, q, shortText } from './safetensors-common.js';

/** A JSON array read as a list of non-negative safe integers. */
export interface IntList {
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

export interface RawEntry {
  name: string;
  /** Set when the entry is not an object. */
  notObject?: string;
  /** The dtype string, or the kind of the non-string value. */
  dtype?: { value?: string; kind: string };
  shape?: IntList;
  offsets?: IntList;
}

export interface RawHeader {
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

export class HeaderParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  private fail(what: string): never {
    throw new FormatError(`not a safetensors file: header is not valid JSON: ${what} at character ${this.pos}`);
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
        case 0x22:
          piece = '"';
          p += 2;
          break;
        case 0x5c:
          piece = '\\';
          p += 2;
          break;
        case 0x2f:
          piece = '/';
          p += 2;
          break;
        case 0x62:
          piece = '\b';
          p += 2;
          break;
        case 0x66:
          piece = '\f';
          p += 2;
          break;
        case 0x6e:
          piece = '\n';
          p += 2;
          break;
        case 0x72:
          piece = '\r';
          p += 2;
          break;
        case 0x74:
          piece = '\t';
          p += 2;
          break;
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
