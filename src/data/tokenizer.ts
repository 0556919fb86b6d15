import { DataError, FormatError } from '../core/errors.js';

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const UNK = 3;

/** Token batch: ids `[B, T]` (padded with 0), per-sequence lengths (through EOS). */
export interface TokenBatch {
  data: Int32Array;
  shape: [number, number];
  lengths: Int32Array;
}

/** Character tokenizer: ids 0 pad, 1 begin, 2 end, 3 unknown, then one id per character seen. */
export class CharTokenizer {
  readonly chars: string[];
  private index: Map<string, number>;
  constructor(chars: string[]) {
    this.chars = chars;
    this.index = new Map(chars.map((c, i) => [c, i + 4]));
  }
  /** Learns the character set of `texts` (sorted, so the ids do not depend on the order of texts). */
  static fit(texts: string[]): CharTokenizer {
    if (!Array.isArray(texts) || texts.length === 0)
      throw new DataError('no texts to fit the tokenizer on', {
        argument: 'texts',
        expected: 'a non-empty array of strings',
        actual: texts,
      });
    const set = new Set<string>();
    for (const t of texts) {
      if (typeof t !== 'string')
        throw new DataError('texts must be strings', { argument: 'texts[i]', expected: 'string', actual: typeof t });
      for (const c of t) set.add(c);
    }
    return new CharTokenizer([...set].sort());
  }
  get vocabSize(): number {
    return this.chars.length + 4;
  }
  /** Ids of one text followed by EOS. Unknown characters become UNK unless `strict`. */
  encode(text: string, strict = false): number[] {
    const out: number[] = [];
    for (const c of text) {
      const id = this.index.get(c);
      if (id === undefined) {
        if (strict)
          throw new DataError(`unknown character ${JSON.stringify(c)} in ${JSON.stringify(text)}`, {
            argument: 'text',
            expected: 'characters seen by CharTokenizer.fit',
            actual: c,
          });
        out.push(UNK);
      } else out.push(id);
    }
    out.push(EOS);
    return out;
  }
  /** Pads the encoded texts into one batch (T = the longest, or `maxLength`, truncating). */
  encodeBatch(texts: string[], maxLength?: number): TokenBatch {
    const seqs = texts.map((t) => this.encode(t));
    const T = maxLength ?? Math.max(1, ...seqs.map((s) => s.length));
    const data = new Int32Array(texts.length * T);
    const lengths = new Int32Array(texts.length);
    seqs.forEach((s, b) => {
      const n = Math.min(s.length, T);
      for (let t = 0; t < n; t++) data[b * T + t] = s[t];
      lengths[b] = n;
    });
    return { data, shape: [texts.length, T], lengths };
  }
  /** Text of ids, stopping at EOS or PAD (UNK as '?'). */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === EOS || id === PAD) break;
      if (id === BOS) continue;
      s += id === UNK ? '?' : (this.chars[id - 4] ?? '?');
    }
    return s;
  }
  toJSON(): { type: 'char'; chars: string[] } {
    return { type: 'char', chars: this.chars };
  }
  static fromJSON(j: unknown): CharTokenizer {
    const o = j as { type?: unknown; chars?: unknown };
    if (o?.type !== 'char' || !Array.isArray(o.chars) || !o.chars.every((c) => typeof c === 'string')) {
      throw new FormatError('tokenizer in the file is not a character tokenizer', {
        argument: 'metadata.tokenizer',
        expected: '{ type: "char", chars: string[] }',
        actual: j,
      });
    }
    return new CharTokenizer(o.chars as string[]);
  }
}
