/**
 * Property tests: hostile bytes never make decodeSafetensors throw anything but a FormatError, and
 * whatever it accepts is self-consistent.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors';
import { FormatError } from '../src/core/errors';
import { headerLength, rawSafetensors } from './shared/safetensors-bytes.js';

// ---------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------

interface Stats {
  ok: number;
  errors: number;
  kinds: Map<string, number>;
  slowestMs: number;
}

function newStats(): Stats {
  return { ok: 0, errors: 0, kinds: new Map(), slowestMs: 0 };
}

/** A short label for an error message (its text with numbers and names blanked out). */
function kindOf(message: string): string {
  return message
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\d+/g, '#')
    .slice(0, 60);
}

function fail(msg: string): never {
  throw new Error(`inconsistent decode: ${msg}`);
}

/**
 * Decodes `bytes`; either it throws a FormatError with a message, or the result is consistent:
 * F32 tensors whose data length is product(shape), that together exactly fill the data buffer, do
 * not alias the input, and survive a re-encode/decode round trip.
 */
function check(bytes: Uint8Array, stats: Stats): void {
  const t0 = performance.now();
  let out: ReturnType<typeof decodeSafetensors>;
  try {
    out = decodeSafetensors(bytes);
  } catch (e) {
    const ms = performance.now() - t0;
    stats.slowestMs = Math.max(stats.slowestMs, ms);
    if (!(e instanceof FormatError)) throw e;
    if (e.message.length < 10) fail(`uninformative message ${JSON.stringify(e.message)}`);
    stats.errors++;
    const k = kindOf(e.message);
    stats.kinds.set(k, (stats.kinds.get(k) ?? 0) + 1);
    return;
  }
  stats.slowestMs = Math.max(stats.slowestMs, performance.now() - t0);
  stats.ok++;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  let total = 0;
  for (const name of Object.keys(out.tensors)) {
    const t = Object.getOwnPropertyDescriptor(out.tensors, name)!.value as (typeof out.tensors)[string];
    if (t.dtype !== 'F32') fail(`dtype ${t.dtype}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`shape ${t.shape}`);
    const count = t.shape.reduce((p, d) => p * d, 1);
    if (!(t.data instanceof Float32Array) || t.data.length !== count) fail(`length ${t.data.length} vs ${count}`);
    if (t.data.buffer === bytes.buffer) fail('aliases the input');
    total += t.data.byteLength;
  }
  if (total !== bytes.length - 8 - n) fail(`tensors hold ${total} bytes, data buffer has ${bytes.length - 8 - n}`);
  for (const v of Object.values(out.metadata)) if (typeof v !== 'string') fail('metadata value not a string');
  const again = decodeSafetensors(encodeSafetensors(out.tensors, out.metadata));
  if (Object.keys(again.tensors).length !== Object.keys(out.tensors).length) fail('round trip lost tensors');
}

// ---------------------------------------------------------------------------------------------
// Valid files to mutate
// ---------------------------------------------------------------------------------------------

function seq(n: number, k: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * k) * 3);
}

const BASES: Uint8Array[] = [
  encodeSafetensors(
    {
      'encoder.lstm.weight_ih_l0': { shape: [8, 3], data: seq(24, 1) },
      'encoder.lstm.bias_ih_l0': { shape: [8], data: seq(8, 2) },
      'decoder.fc.weight': { shape: [3, 2], data: seq(6, 3) },
    },
    { format: 'lstm-vae', format_version: '1', config: '{"mode":"continuous","features":3,"hidden":2}' },
  ),
  encodeSafetensors({
    scalar: { shape: [], data: new Float32Array([1.5]) },
    empty: { shape: [0, 4], data: new Float32Array(0) },
    v: { shape: [3], data: seq(3, 4) },
  }),
  encodeSafetensors({ only: { shape: [2, 2, 2], data: seq(8, 5) } }),
  encodeSafetensors({}, { note: 'no tensors' }),
];

interface Pair {
  key: string;
  value: unknown;
}

/** A JSON number written verbatim (for literals JSON.stringify cannot produce). */
class Raw {
  constructor(readonly text: string) {}
}

function ser(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(ser).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function pairsOf(bytes: Uint8Array): Pair[] {
  const n = headerLength(bytes);
  const obj = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  return Object.entries(obj).map(([key, value]) => ({ key, value: structuredClone(value) }));
}

function rebuild(bytes: Uint8Array, pairs: Pair[], pad: boolean): Uint8Array {
  const n = headerLength(bytes);
  const data = bytes.subarray(8 + n);
  let text = `{${pairs.map((p) => `${JSON.stringify(p.key)}:${ser(p.value)}`).join(',')}}`;
  if (pad) text += ' '.repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8);
  return rawSafetensors(text, data);
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

const rawNumbers = ['1e2', '1.0', '-0', '-1', '0.5', '18446744073709551616', '9007199254740993', '1E400', '4', '0', '12'];
const intish = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: -8, max: -1 }),
  fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300),
  fc.constantFrom(...rawNumbers).map((t) => new Raw(t)),
);
const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    intish,
    fc.string({ maxLength: 6 }),
    fc.constantFrom(null, true, false, 'F32', 'F64', 'BF16'),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('dtype', 'shape', 'data_offsets', 'x', 'a'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const shapeLike = fc.oneof(fc.array(intish, { maxLength: 4 }), jsonish);
const offsetsLike = fc.oneof(
  fc.tuple(intish, intish),
  fc.array(intish, { maxLength: 4 }),
  fc.tuple(fc.integer({ min: 0, max: 160 }), fc.integer({ min: 0, max: 160 })),
  jsonish,
);
const dtypeLike = fc.oneof(fc.constantFrom('F32', 'F64', 'F16', 'BF16', 'I32', 'f32', '', 'F32 ', 'U8'), jsonish);

type JsonEdit =
  | { op: 'shape'; i: number; v: unknown }
  | { op: 'offsets'; i: number; v: unknown }
  | { op: 'offsetNudge'; i: number; which: 0 | 1; delta: number }
  | { op: 'dtype'; i: number; v: unknown }
  | { op: 'removeField'; i: number; field: string }
  | { op: 'addField'; i: number; field: string; v: unknown }
  | { op: 'removeKey'; i: number }
  | { op: 'duplicateKey'; i: number }
  | { op: 'renameKey'; i: number; to: string }
  | { op: 'setEntry'; i: number; v: unknown }
  | { op: 'metadata'; v: unknown }
  | { op: 'swapOffsets'; i: number; j: number };

const idx = fc.nat({ max: 7 });
const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  fc.record({ op: fc.constant('shape' as const), i: idx, v: shapeLike }),
  fc.record({ op: fc.constant('offsets' as const), i: idx, v: offsetsLike }),
  fc.record({
    op: fc.constant('offsetNudge' as const),
    i: idx,
    which: fc.constantFrom(0 as const, 1 as const),
    delta: fc.integer({ min: -12, max: 12 }),
  }),
  fc.record({ op: fc.constant('dtype' as const), i: idx, v: dtypeLike }),
  fc.record({ op: fc.constant('removeField' as const), i: idx, field: fc.constantFrom('dtype', 'shape', 'data_offsets') }),
  fc.record({ op: fc.constant('addField' as const), i: idx, field: fc.constantFrom('x', 'offsets', 'shape2'), v: jsonish }),
  fc.record({ op: fc.constant('removeKey' as const), i: idx }),
  fc.record({ op: fc.constant('duplicateKey' as const), i: idx }),
  fc.record({
    op: fc.constant('renameKey' as const),
    i: idx,
    to: fc.oneof(fc.constantFrom('__metadata__', 'v', 'only', '', '__proto__', 'scalar'), fc.string({ maxLength: 4 })),
  }),
  fc.record({ op: fc.constant('setEntry' as const), i: idx, v: jsonish }),
  fc.record({
    op: fc.constant('metadata' as const),
    v: fc.oneof(fc.dictionary(fc.string({ maxLength: 3 }), jsonish, { maxKeys: 3 }), jsonish),
  }),
  fc.record({ op: fc.constant('swapOffsets' as const), i: idx, j: idx }),
);

type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'splice'; pos: number; del: number; ins: Uint8Array }
  | { kind: 'headerLen'; value: bigint }
  | { kind: 'headerLenDelta'; delta: number }
  | { kind: 'headerChar'; pos: number; ch: string }
  | { kind: 'json'; edits: JsonEdit[]; pad: boolean };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.nat({ max: 7 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('splice' as const),
      pos: fc.nat(),
      del: fc.nat({ max: 8 }),
      ins: fc.uint8Array({ maxLength: 8 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('headerLen' as const),
      value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 400n })),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('headerLenDelta' as const), delta: fc.integer({ min: -16, max: 16 }) }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('headerChar' as const),
      pos: fc.nat(),
      ch: fc.constantFrom(...'{}[],:"0123456789-.eE \\u\u00e9\u{1F600}'.split('')),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('json' as const),
      edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
      pad: fc.boolean(),
    }),
    weight: 8,
  },
);

function applyEdit(pairs: Pair[], e: JsonEdit): void {
  if (e.op === 'metadata') {
    const m = pairs.find((p) => p.key === '__metadata__');
    if (m) m.value = e.v;
    else pairs.unshift({ key: '__metadata__', value: e.v });
    return;
  }
  if (pairs.length === 0) return;
  const p = pairs[e.i % pairs.length]!;
  const entry = (): Record<string, unknown> | undefined =>
    p.value !== null && typeof p.value === 'object' && !Array.isArray(p.value) ? (p.value as Record<string, unknown>) : undefined;
  switch (e.op) {
    case 'shape':
    case 'offsets':
    case 'dtype': {
      const ent = entry();
      if (ent) ent[e.op === 'offsets' ? 'data_offsets' : e.op] = e.v;
      break;
    }
    case 'offsetNudge': {
      const o = entry()?.data_offsets;
      if (Array.isArray(o) && typeof o[e.which] === 'number') o[e.which] = (o[e.which] as number) + e.delta;
      break;
    }
    case 'removeField':
      delete entry()?.[e.field];
      break;
    case 'addField': {
      const ent = entry();
      if (ent) ent[e.field] = e.v;
      break;
    }
    case 'removeKey':
      pairs.splice(e.i % pairs.length, 1);
      break;
    case 'duplicateKey':
      pairs.splice(e.i % pairs.length, 0, { key: p.key, value: structuredClone(p.value) });
      break;
    case 'renameKey':
      p.key = e.to;
      break;
    case 'setEntry':
      p.value = e.v;
      break;
    case 'swapOffsets': {
      const q = pairs[e.j % pairs.length]!;
      const a = entry();
      const b = q.value !== null && typeof q.value === 'object' ? (q.value as Record<string, unknown>) : undefined;
      if (a && b) [a.data_offsets, b.data_offsets] = [b.data_offsets, a.data_offsets];
      break;
    }
  }
}

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const len = bytes.length;
  switch (m.kind) {
    case 'flip': {
      if (len === 0) return bytes;
      const out = bytes.slice();
      out[m.pos % len]! ^= 1 << m.bit;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, m.keep % (len + 1));
    case 'append': {
      const out = new Uint8Array(len + m.bytes.length);
      out.set(bytes);
      out.set(m.bytes, len);
      return out;
    }
    case 'splice': {
      const pos = m.pos % (len + 1);
      const del = Math.min(m.del, len - pos);
      const out = new Uint8Array(len - del + m.ins.length);
      out.set(bytes.subarray(0, pos));
      out.set(m.ins, pos);
      out.set(bytes.subarray(pos + del), pos + m.ins.length);
      return out;
    }
    case 'headerLen':
    case 'headerLenDelta': {
      if (len < 8) return bytes;
      const out = bytes.slice();
      const dv = new DataView(out.buffer);
      const cur = dv.getBigUint64(0, true);
      const next = m.kind === 'headerLen' ? m.value : cur + BigInt(m.delta);
      dv.setBigUint64(0, BigInt.asUintN(64, next), true);
      return out;
    }
    case 'headerChar': {
      if (len < 9) return bytes;
      const n = Math.min(headerLength(bytes), len - 8);
      if (n <= 0) return bytes;
      const at = 8 + (m.pos % n);
      const ch = new TextEncoder().encode(m.ch);
      const out = new Uint8Array(len - 1 + ch.length);
      out.set(bytes.subarray(0, at));
      out.set(ch, at);
      out.set(bytes.subarray(at + 1), at + ch.length);
      // keep the header length consistent so that the JSON itself is what is tested
      new DataView(out.buffer).setBigUint64(0, BigInt(n - 1 + ch.length), true);
      return out;
    }
    case 'json': {
      let pairs: Pair[];
      try {
        pairs = pairsOf(bytes);
      } catch {
        return bytes; // an earlier mutation broke the header: nothing to edit
      }
      for (const e of m.edits) applyEdit(pairs, e);
      return rebuild(bytes, pairs, m.pad);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('decodeSafetensors under fuzzing', () => {
  it('random bytes only ever give FormatError', () => {
    const stats = newStats();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => check(bytes, stats)),
      { numRuns: 3000, seed: 11 },
    );
    expect(stats.errors + stats.ok).toBe(3000);
  });

  it('random bytes behind a plausible header length only ever give FormatError', () => {
    const stats = newStats();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 320 }), (body, n) => {
        check(rawSafetensors(body, 0, BigInt(n)), stats);
      }),
      { numRuns: 2000, seed: 12 },
    );
  });

  it('random JSON-ish headers only ever give FormatError', () => {
    const stats = newStats();
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constant('__metadata__')), jsonish, { maxKeys: 4 }),
        fc.nat({ max: 64 }),
        (obj, dataLen) => {
          check(rawSafetensors(ser(obj), dataLen), stats);
        },
      ),
      { numRuns: 2000, seed: 13 },
    );
  });

  it('12,000 mutated valid files: decode consistently or throw FormatError, never anything else', () => {
    const stats = newStats();
    const RUNS = 12_000;
    const t0 = performance.now();
    fc.assert(
      fc.property(fc.nat({ max: BASES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (b, muts) => {
        let bytes = BASES[b]!;
        for (const m of muts) bytes = mutate(bytes, m);
        check(bytes, stats);
      }),
      { numRuns: RUNS, seed: 20240602 },
    );
    const ms = performance.now() - t0;
    expect(stats.ok + stats.errors).toBe(RUNS);
    // The mutations must reach deep into validation, not just fail at the first byte.
    expect(stats.ok).toBeGreaterThan(RUNS * 0.02);
    expect(stats.kinds.size).toBeGreaterThan(25);
    // "Never hangs": no single decode of these small files takes long.
    expect(stats.slowestMs).toBeLessThan(1000);
    const top = [...stats.kinds.entries()].sort((a, b) => b[1] - a[1]);
    console.log(
      `fuzz: ${RUNS} mutated files in ${ms.toFixed(0)} ms; ${stats.ok} decoded, ${stats.errors} FormatError ` +
        `(${stats.kinds.size} distinct messages; slowest decode ${stats.slowestMs.toFixed(1)} ms); most common:\n  ` +
        top
          .slice(0, 8)
          .map(([k, c]) => `${c}× ${k}`)
          .join('\n  '),
    );
  });
});
