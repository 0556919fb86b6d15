import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeSafetensors, encodeSafetensors, validateStateDict, type TensorInput } from '../src/io/safetensors';
import { ConfigError, FormatError, ShapeError } from '../src/core/errors';
import { PYTHON, pythonProblem, removeTmpDirs, tmpDir as sharedTmpDir } from './shared/node.js';
import { mulberry32 } from './shared/numeric.js';
import { rawSafetensors } from './shared/safetensors-bytes.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A file from raw header text or bytes (not padded unless asked) and a data buffer. */
const fileOf = rawSafetensors;
const fileOfBytes = rawSafetensors;

/** A header with one F32 tensor entry per argument. */
function header(entries: Record<string, unknown>): string {
  return JSON.stringify(entries);
}

function f32(name = 'a', shape: unknown = [2], offsets: unknown = [0, 8], dtype: unknown = 'F32'): Record<string, unknown> {
  return { [name]: { dtype, shape, data_offsets: offsets } };
}

function expectFormatError(fn: () => unknown, fragment: string | RegExp): FormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a FormatError to be thrown').toBeInstanceOf(FormatError);
  const err = caught as FormatError;
  if (typeof fragment === 'string') expect(err.message).toContain(fragment);
  else expect(err.message).toMatch(fragment);
  return err;
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function hexOf(a: Float32Array): string {
  return Buffer.from(bytesOf(a)).toString('hex');
}

function product(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

const rng = mulberry32;

// ---------------------------------------------------------------------------------------------
// Round trips and layout
// ---------------------------------------------------------------------------------------------

const nameArb = fc
  .oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'grapheme', maxLength: 6 }),
    fc.constantFrom('encoder.lstm.weight_ih_l0', '__proto__', 'constructor', '0', '10', '', 'a\u0000b', '\u{1F600}', '\uFFFD'),
  )
  .filter((s) => s !== '__metadata__');

const shapeArb = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 });

const tensorsArb = fc
  .uniqueArray(fc.tuple(nameArb, shapeArb), { selector: ([n]) => n, maxLength: 6 })
  .chain((pairs) =>
    fc.tuple(
      ...pairs.map(([name, shape]) =>
        fc
          .array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: product(shape), maxLength: product(shape) })
          .map((bits) => [name, { shape, data: new Float32Array(new Uint32Array(bits).buffer) }] as const),
      ),
    ),
  );

const metadataArb = fc.option(
  fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 16 }), {
    maxKeys: 4,
  }),
  { nil: undefined },
);

function toRecord(entries: readonly (readonly [string, TensorInput])[]): Record<string, TensorInput> {
  const rec: Record<string, TensorInput> = {};
  for (const [k, v] of entries) Object.defineProperty(rec, k, { value: v, enumerable: true, writable: true, configurable: true });
  return rec;
}

describe('encodeSafetensors / decodeSafetensors round trip', () => {
  it('round-trips random tensors (incl. scalars [], empty tensors, any bit pattern) and metadata', () => {
    fc.assert(
      fc.property(tensorsArb, metadataArb, (entries, metadata) => {
        const tensors = toRecord(entries);
        const bytes = encodeSafetensors(tensors, metadata);
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        const out = decodeSafetensors(bytes);
        expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(tensors).sort());
        for (const [name, t] of entries) {
          const d = Object.getOwnPropertyDescriptor(out.tensors, name)!.value as (typeof out.tensors)[string];
          expect(d.dtype).toBe('F32');
          expect(d.shape).toEqual([...t.shape]);
          expect(d.data.length).toBe(product(t.shape));
          expect(hexOf(d.data)).toBe(hexOf(t.data)); // bitwise, NaN payloads included
        }
        expect({ ...out.metadata }).toEqual({ ...(metadata ?? {}) });
        // Deterministic: the same input always gives the same bytes, whatever the key order.
        const reversed = toRecord([...entries].reverse());
        expect(encodeSafetensors(reversed, metadata)).toEqual(bytes);
      }),
      { numRuns: 300, seed: 20240601 },
    );
  });

  it('round-trips an empty file with and without metadata', () => {
    expect(decodeSafetensors(encodeSafetensors({}))).toEqual({ metadata: {}, tensors: {} });
    expect(Array.from(encodeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const withMeta = encodeSafetensors({}, { framework: 'pt' });
    expect(new TextDecoder().decode(withMeta.subarray(8))).toBe('{"__metadata__":{"framework":"pt"}}     ');
    expect(decodeSafetensors(withMeta).metadata).toEqual({ framework: 'pt' });
  });

  it('keeps a tensor named __proto__ as an own property without touching prototypes', () => {
    const bytes = encodeSafetensors(toRecord([['__proto__', { shape: [1], data: new Float32Array([7]) }]]));
    const out = decodeSafetensors(bytes);
    expect(Object.getPrototypeOf(out.tensors)).toBe(Object.prototype);
    expect(Object.keys(out.tensors)).toEqual(['__proto__']);
    expect(Array.from(Object.getOwnPropertyDescriptor(out.tensors, '__proto__')!.value.data)).toEqual([7]);
  });

  it('returns copies that do not alias the input, and reads unaligned input', () => {
    const bytes = encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } });
    // Place the file at an odd offset so that the tensor bytes are not 4-byte aligned.
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    const view = host.subarray(3);
    const out = decodeSafetensors(view);
    expect(Array.from(out.tensors.w!.data)).toEqual([1, 2, 3, 4]);
    expect(out.tensors.w!.data.buffer).not.toBe(host.buffer);
    expect(out.tensors.w!.data.byteOffset).toBe(0);
    host.fill(0);
    expect(Array.from(out.tensors.w!.data)).toEqual([1, 2, 3, 4]);
  });

  it('orders tensors by code point (UTF-8 byte order), like the official writer', () => {
    // U+FF5E sorts before U+1F600 by code point but after it by UTF-16 code unit.
    const t = (v: number): TensorInput => ({ shape: [], data: new Float32Array([v]) });
    const bytes = encodeSafetensors({ '\u{1F600}': t(2), '\uFF5E': t(1), b: t(0) });
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + Number(bytes[0])));
    const hdr = JSON.parse(text) as Record<string, { data_offsets: number[] }>;
    expect(hdr.b!.data_offsets).toEqual([0, 4]);
    expect(hdr['\uFF5E']!.data_offsets).toEqual([4, 8]);
    expect(hdr['\u{1F600}']!.data_offsets).toEqual([8, 12]);
  });
});

describe('byte-exact layout', () => {
  it('writes the official test vector for one [1,2,3] tensor', () => {
    const bytes = encodeSafetensors({ 'attn.0': { shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(64); // already a multiple of 8: no padding
    const dv = new DataView(bytes.buffer);
    expect(dv.getBigUint64(0, true)).toBe(64n);
    expect(new TextDecoder().decode(bytes.subarray(8, 72))).toBe(json);
    expect(bytes.length).toBe(8 + 64 + 24);
    expect(Array.from(bytes.subarray(72))).toEqual([0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64]);
  });

  it('pads the header with spaces to a multiple of 8 so that data are aligned', () => {
    const bytes = encodeSafetensors({
      attn0: { shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) },
      bb: { shape: [2], data: new Float32Array([-1, 0.5]) },
    });
    const json =
      '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]},"bb":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}';
    const dv = new DataView(bytes.buffer);
    const n = Number(dv.getBigUint64(0, true));
    expect(n).toBe(Math.ceil(json.length / 8) * 8);
    expect(n % 8).toBe(0);
    expect(n).toBeGreaterThan(json.length);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n))).toBe(json + ' '.repeat(n - json.length));
    const dataStart = 8 + n;
    expect(dataStart % 8).toBe(0);
    expect(bytes.length - dataStart).toBe(32);
    expect(dv.getFloat32(dataStart + 4, true)).toBe(1);
    expect(dv.getFloat32(dataStart + 24, true)).toBe(-1);
    expect(dv.getFloat32(dataStart + 28, true)).toBe(0.5);
  });

  it('writes __metadata__ first with sorted keys', () => {
    const bytes = encodeSafetensors({ x: { shape: [], data: new Float32Array([1]) } }, { z: '1', a: '2' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd()).toBe(
      '{"__metadata__":{"a":"2","z":"1"},"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
    );
  });
});

describe('encodeSafetensors argument errors', () => {
  it('rejects data whose length does not match the shape', () => {
    expect(() => encodeSafetensors({ a: { shape: [2, 3], data: new Float32Array(5) } })).toThrow(ShapeError);
    expect(() => encodeSafetensors({ a: { shape: [2, 3], data: new Float32Array(5) } })).toThrow(/needs 6 values but data has 5/);
  });
  it('rejects bad shapes and non-Float32Array data', () => {
    expect(() => encodeSafetensors({ a: { shape: [-1], data: new Float32Array(0) } })).toThrow(ShapeError);
    expect(() => encodeSafetensors({ a: { shape: [1.5], data: new Float32Array(0) } })).toThrow(/non-negative integers/);
    expect(() => encodeSafetensors({ a: { shape: [2], data: new Float64Array(2) as unknown as Float32Array } })).toThrow(/Float32Array/);
  });
  it('rejects the reserved name __metadata__ and non-string metadata', () => {
    expect(() => encodeSafetensors({ __metadata__: { shape: [], data: new Float32Array(1) } })).toThrow(FormatError);
    expect(() => encodeSafetensors({}, { a: 1 as unknown as string })).toThrow(/must be a string/);
    expect(() => encodeSafetensors({ '\uD800': { shape: [], data: new Float32Array(1) } })).toThrow(/surrogate/);
  });
});

// ---------------------------------------------------------------------------------------------
// Interoperability with Python's official `safetensors`
// ---------------------------------------------------------------------------------------------

function requirePython(): void {
  const problem = pythonProblem(['numpy', 'safetensors']);
  if (problem) throw new Error(problem);
}

function python(script: string, args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.error?.message ?? ''}\n${r.stderr}`);
  return r.stdout;
}

const tmpDir = () => sharedTmpDir('lstm-vae-st-');
afterAll(removeTmpDirs);

const PY_WRITE = String.raw`
import sys, json
import numpy as np
from safetensors.numpy import save_file
out, with_meta = sys.argv[1], sys.argv[2] == '1'
rng = np.random.default_rng(1234)
t = {
    'encoder.lstm.weight_ih_l0': rng.standard_normal((8, 3)).astype(np.float32),
    'encoder.fc_mu.bias': rng.standard_normal((2,)).astype(np.float32),
    'decoder.scale': np.array(2.5, dtype=np.float32),
    'empty': np.zeros((0, 3), dtype=np.float32),
    'special': np.array([np.inf, -np.inf, -0.0, 1e-45, 3.4028235e38], dtype=np.float32),
    'zz.last': np.arange(24, dtype=np.float32).reshape(2, 3, 4),
}
save_file(t, out, metadata={'format': 'lstm-vae'} if with_meta else None)
print(json.dumps({k: {'shape': list(v.shape), 'hex': v.astype('<f4').tobytes().hex()} for k, v in t.items()}))
`;

const PY_READ = String.raw`
import sys, json
from safetensors import safe_open
from safetensors.numpy import load_file
path = sys.argv[1]
with safe_open(path, framework='np') as f:
    meta = f.metadata()
t = load_file(path)
print(json.dumps({
    'metadata': meta,
    'tensors': {k: {'dtype': str(v.dtype), 'shape': list(v.shape), 'hex': v.astype('<f4').tobytes().hex()} for k, v in t.items()},
}))
`;

const PY_CHECK = String.raw`
import sys, json
from safetensors.numpy import load
res = {}
for p in sys.argv[1:]:
    try:
        load(open(p, 'rb').read())
        res[p] = 'ok'
    except Exception as e:
        res[p] = 'error: ' + str(e)
print(json.dumps(res))
`;

describe("interoperability with Python's official safetensors", () => {
  it('reads files written by safetensors.numpy.save_file, byte-identical to our writer', () => {
    requirePython();
    const dir = tmpDir();
    try {
      for (const withMeta of [true, false]) {
        const file = path.join(dir, `py-${withMeta}.safetensors`);
        const expected = JSON.parse(python(PY_WRITE, [file, withMeta ? '1' : '0'])) as Record<string, { shape: number[]; hex: string }>;
        const bytes = new Uint8Array(fs.readFileSync(file));
        const out = decodeSafetensors(bytes);
        expect(out.metadata).toEqual(withMeta ? { format: 'lstm-vae' } : {});
        expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(expected).sort());
        for (const [k, v] of Object.entries(expected)) {
          expect(out.tensors[k]!.shape).toEqual(v.shape);
          expect(hexOf(out.tensors[k]!.data)).toBe(v.hex);
        }
        // Our writer produces exactly the bytes of the official writer.
        const again = encodeSafetensors(out.tensors, withMeta ? { format: 'lstm-vae' } : undefined);
        expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes files that Python reads back with the same values and metadata', () => {
    requirePython();
    const dir = tmpDir();
    try {
      const r = rng(7);
      const big = new Float32Array(3 * 5 * 7).map(() => r() * 2 - 1);
      const nanBits = new Float32Array(new Uint32Array([0x7fc00001, 0xffc00000]).buffer);
      const tensors: Record<string, TensorInput> = {
        'encoder.weight': { shape: [3, 5, 7], data: big },
        scalar: { shape: [], data: new Float32Array([Math.PI]) },
        empty: { shape: [4, 0], data: new Float32Array(0) },
        special: { shape: [6], data: new Float32Array([Infinity, -Infinity, -0, 1e-45, 3.4028234663852886e38, -1.5]) },
        nan: { shape: [2], data: nanBits },
        'ünïcödé.名前': { shape: [1, 1], data: new Float32Array([42]) },
      };
      const metadata = {
        format: 'lstm-vae',
        format_version: '1',
        config: JSON.stringify({ mode: 'continuous', features: 3, hidden: 5, latent: 2 }),
        note: 'héllo "quoted" \\ back\nslash ✓ \u{1F600}',
      };
      const file = path.join(dir, 'js.safetensors');
      fs.writeFileSync(file, encodeSafetensors(tensors, metadata));
      const got = JSON.parse(python(PY_READ, [file])) as {
        metadata: Record<string, string>;
        tensors: Record<string, { dtype: string; shape: number[]; hex: string }>;
      };
      expect(got.metadata).toEqual(metadata);
      expect(Object.keys(got.tensors).sort()).toEqual(Object.keys(tensors).sort());
      for (const [k, t] of Object.entries(tensors)) {
        expect(got.tensors[k]!.dtype).toBe('float32');
        expect(got.tensors[k]!.shape).toEqual(t.shape);
        expect(got.tensors[k]!.hex).toBe(hexOf(t.data));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts and rejects the same layouts as the official reader', () => {
    requirePython();
    const cases: Record<string, Uint8Array> = {
      valid: fileOf(header({ ...f32('a', [2], [0, 8]), ...f32('b', [], [8, 12]) }), 12),
      validZeroSizeAtStart: fileOf(header({ ...f32('a', [0], [0, 0]), ...f32('b', [1], [0, 4]) }), 4),
      validZeroSizeAtEnd: fileOf(header({ ...f32('a', [1], [0, 4]), ...f32('b', [0, 5], [4, 4]) }), 4),
      validLeadingSpace: fileOf(' ' + header(f32('a', [1], [0, 4])), 4),
      validMetadataNull: fileOf('{"__metadata__":null,"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4),
      validExtraField: fileOf('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":[1,{"y":null}]}}', 4),
      validOutOfOrder: fileOf(header({ ...f32('z', [1], [0, 4]), ...f32('a', [1], [4, 8]) }), 8),
      gap: fileOf(header(f32('a', [1], [4, 8])), 8),
      trailing: fileOf(header(f32('a', [1], [0, 4])), 8),
      overlap: fileOf(header({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [4, 12]) }), 12),
      zeroSizeInside: fileOf(header({ ...f32('a', [2], [0, 8]), ...f32('b', [0], [4, 4]) }), 8),
      wrongSize: fileOf(header(f32('a', [3], [0, 8])), 8),
      endBeforeBegin: fileOf(header(f32('a', [0], [8, 4])), 8),
      beyond: fileOf(header(f32('a', [4], [0, 16])), 8),
      floatShape: fileOf('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', 4),
      negativeShape: fileOf('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4),
      threeOffsets: fileOf('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}', 4),
      metaNumber: fileOf('{"__metadata__":{"x":1}}'),
      nulPadding: fileOf(header(f32('a', [1], [0, 4])) + '\u0000', 4),
      bom: fileOf('\uFEFF{}'),
      overflow: fileOf(header(f32('a', [2 ** 32, 2 ** 32, 0], [0, 0]))),
      shortHeader: fileOf('{}', 0, 100n),
      tooShort: new Uint8Array(5),
    };
    const dir = tmpDir();
    try {
      const files = Object.entries(cases).map(([name, bytes]) => {
        const p = path.join(dir, `${name}.safetensors`);
        fs.writeFileSync(p, bytes);
        return [name, p] as const;
      });
      const official = JSON.parse(
        python(
          PY_CHECK,
          files.map(([, p]) => p),
        ),
      ) as Record<string, string>;
      for (const [name, p] of files) {
        let ours = 'ok';
        try {
          decodeSafetensors(cases[name]!);
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
          ours = 'error: ' + (e as Error).message;
        }
        expect({ name, ok: ours === 'ok' }, `ours: ${ours}; official: ${official[p]}`).toEqual({
          name,
          ok: official[p] === 'ok',
        });
        expect(official[p] === 'ok').toBe(name.startsWith('valid'));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed files: each gives a FormatError that says what is wrong
// ---------------------------------------------------------------------------------------------

describe('decodeSafetensors rejects malformed files with a FormatError', () => {
  const ok = (h: string, data: number | Uint8Array = 0) => fileOf(h, data);

  it('input that is not a Uint8Array', () => {
    expectFormatError(() => decodeSafetensors(new ArrayBuffer(16) as unknown as Uint8Array), 'Uint8Array');
  });

  it('file too short for the 8-byte header length', () => {
    expectFormatError(() => decodeSafetensors(new Uint8Array(0)), 'too short');
    expectFormatError(() => decodeSafetensors(new Uint8Array(7)), /too short: 7 bytes.*8-byte header length/);
  });

  it('header length larger than the file', () => {
    expectFormatError(() => decodeSafetensors(fileOf('{}', 0, 3n)), 'header length 3 is larger than the file allows');
    const err = expectFormatError(() => decodeSafetensors(fileOf('{}', 0, 11n)), 'larger than the file');
    expect(err.message).toContain('the file has 10 bytes');
  });

  it('absurdly large header length (default 100 MB limit)', () => {
    expectFormatError(() => decodeSafetensors(fileOf('{}', 0, 2n ** 64n - 1n)), /18446744073709551615 is absurdly large/);
    expectFormatError(() => decodeSafetensors(fileOf('{}', 0, 100_000_001n)), 'absurdly large');
  });

  it('header length above options.maxHeaderBytes', () => {
    const bytes = encodeSafetensors({ a: { shape: [1], data: new Float32Array(1) } });
    expectFormatError(() => decodeSafetensors(bytes, { maxHeaderBytes: 16 }), 'maxHeaderBytes = 16');
    expect(() => decodeSafetensors(bytes, { maxHeaderBytes: -1 })).toThrow(ConfigError);
  });

  it('empty header', () => {
    expectFormatError(() => decodeSafetensors(fileOf('')), 'header is empty');
  });

  it('header that is not valid UTF-8', () => {
    expectFormatError(() => decodeSafetensors(fileOfBytes(new Uint8Array([0x7b, 0xff, 0x7d]))), 'not valid UTF-8');
    // overlong encoding of '/' and an encoded surrogate
    expectFormatError(() => decodeSafetensors(fileOfBytes(new Uint8Array([0x7b, 0xc0, 0xaf, 0x7d]))), 'UTF-8');
    expectFormatError(() => decodeSafetensors(fileOfBytes(new Uint8Array([0x7b, 0xed, 0xa0, 0x80, 0x7d]))), 'UTF-8');
  });

  /** [what, header text, data bytes, the FormatError message fragment]: one malformed header per row. */
  const MALFORMED: [string, string, number, string | RegExp][] = [
    ['header that is not valid JSON (1)', '{"a":', 0, 'not valid JSON: unexpected end of header'],
    ['header that is not valid JSON (2)', '{"a" 1}', 0, "not valid JSON: unexpected character '1'"],
    ['header that is not valid JSON (3)', "{'a':1}", 0, 'not valid JSON'],
    ['header that is not valid JSON (4)', '{"a":[1,]}', 0, 'not valid JSON'],
    ['header that is not valid JSON (5)', '{"a":01}', 0, 'not valid JSON'],
    ['header that is not valid JSON (6)', '{"a":"\u0001"}', 0, 'control character'],
    ['header that is not valid JSON (7)', '{"a":"\\x"}', 0, 'invalid escape'],
    ['header that is not valid JSON (8)', '{"a":"\\u12G4"}', 0, 'invalid \\u escape'],
    ['header that is not valid JSON (9)', '{"a":"abc', 0, 'unterminated string'],
    ['text after the JSON value (e.g. NUL padding instead of spaces) (1)', '{}\u0000\u0000', 0, 'unexpected text after the JSON value'],
    ['text after the JSON value (e.g. NUL padding instead of spaces) (2)', '{} {}', 0, 'unexpected text after the JSON value'],
    ['byte order mark before the header', '\uFEFF{}', 0, "unexpected character '\\ufeff'"],
    ['header that is not a JSON object (1)', '[]', 0, 'header must be a JSON object, got an array'],
    ['header that is not a JSON object (2)', '"x"', 0, 'got a string'],
    ['header that is not a JSON object (3)', '12', 0, 'got a number'],
    ['header that is not a JSON object (4)', 'null', 0, 'got null'],
    ['unpaired surrogate escapes in names (1)', '{"\\ud800":1}', 0, 'unpaired surrogate'],
    ['unpaired surrogate escapes in names (2)', '{"\\udc00":1}', 0, 'unpaired surrogate'],
    ['unpaired surrogate escapes in names (3)', '{"\\ud800\\u0041":1}', 0, 'unpaired surrogate'],
    [
      '__metadata__ that is not an object (1)',
      '{"__metadata__":[]}',
      0,
      '__metadata__ must be an object mapping strings to strings, got an array',
    ],
    ['__metadata__ that is not an object (2)', '{"__metadata__":"x"}', 0, 'got a string'],
    ['__metadata__ that does not map strings to strings (1)', '{"__metadata__":{"a":"1","x":1}}', 0, 'the value of "x" is a number'],
    ['__metadata__ that does not map strings to strings (2)', '{"__metadata__":{"x":{"y":"z"}}}', 0, 'the value of "x" is an object'],
    ['__metadata__ that does not map strings to strings (3)', '{"__metadata__":{"x":null}}', 0, 'the value of "x" is null'],
    ['tensor entry that is not an object (1)', '{"a":5}', 0, 'tensor "a": header entry must be an object'],
    ['tensor entry that is not an object (2)', '{"a":[0,4]}', 0, 'got an array'],
    ['missing dtype', '{"a":{"shape":[1],"data_offsets":[0,4]}}', 4, 'tensor "a": missing "dtype"'],
    ['dtype that is not a string', header(f32('a', [2], [0, 8], 32)), 8, 'dtype must be a string, got a number'],
    ['missing shape', '{"a":{"dtype":"F32","data_offsets":[0,4]}}', 4, 'missing "shape"'],
    ['shape that is not an array', header(f32('a', 2, [0, 8])), 8, 'shape must be an array of non-negative integers, got a number'],
    ['shape with a negative dimension', header(f32('a', [2, -1], [0, 8])), 8, 'element 1 is negative (-1)'],
    [
      'shape with a non-integer dimension (1)',
      '{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}',
      8,
      'element 0 is not an integer (2.5)',
    ],
    ['shape with a non-integer dimension (2)', '{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', 8, 'not an integer (2.0)'],
    ['shape with a non-integer dimension (3)', '{"a":{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}}', 8, 'not an integer (2e0)'],
    ['shape with a non-integer dimension (4)', '{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}', 8, 'element 0 is "2"'],
    ['shape with a non-integer dimension (5)', '{"a":{"dtype":"F32","shape":[null],"data_offsets":[0,8]}}', 8, 'element 0 is null'],
    [
      'shape with a dimension beyond 2^53-1',
      '{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}}',
      8,
      'larger than 2^53-1',
    ],
    ['shape whose element count overflows (1)', header(f32('a', [2 ** 32, 2 ** 32, 0], [0, 0])), 0, 'overflows'],
    ['shape whose element count overflows (2)', header(f32('a', [2 ** 53 - 1, 2], [0, 8])), 8, 'overflows'],
    ['missing data_offsets', '{"a":{"dtype":"F32","shape":[1]}}', 4, 'missing "data_offsets"'],
    ['data_offsets that are not [begin, end] (1)', header(f32('a', [1], [0, 4, 4])), 4, 'data_offsets must be [begin, end]'],
    ['data_offsets that are not [begin, end] (2)', header(f32('a', [1], [4])), 4, 'an array of 1 elements'],
    ['data_offsets that are not [begin, end] (3)', header(f32('a', [1], { begin: 0, end: 4 })), 4, 'got an object'],
    ['data_offsets that are not non-negative integers (1)', header(f32('a', [1], [-4, 0])), 4, 'data_offsets begin is negative (-4)'],
    [
      'data_offsets that are not non-negative integers (2)',
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}',
      4,
      'data_offsets end is not an integer (4.5)',
    ],
    ['data_offsets that are not non-negative integers (3)', header(f32('a', [1], ['0', 4])), 4, 'data_offsets begin is "0"'],
    ['data_offsets that end before they begin', header(f32('a', [0], [8, 4])), 8, 'data_offsets [8,4] end before they begin'],
    [
      'data_offsets that end beyond the data buffer',
      header(f32('a', [1000000000], [0, 4000000000])),
      8,
      'data_offsets [0,4000000000] end beyond the data buffer, which has 8 bytes',
    ],
    [
      'byte length that does not match product(shape) * 4',
      header(f32('a', [2, 3], [0, 20])),
      20,
      'shape [2,3] of F32 needs 24 bytes, but data_offsets [0,20] span 20',
    ],
    [
      'overlapping tensors (1)',
      header({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [4, 12]) }),
      12,
      'tensors "a" (data_offsets [0,8]) and "b" (data_offsets [4,12]) overlap',
    ],
    ['overlapping tensors (2)', header({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [0, 8]) }), 8, 'overlap'],
    ['a zero-size tensor placed inside another tensor', header({ ...f32('a', [2], [0, 8]), ...f32('b', [0], [4, 4]) }), 8, 'overlap'],
    [
      'a gap between tensors',
      header({ ...f32('a', [1], [0, 4]), ...f32('b', [1], [8, 12]) }),
      12,
      'bytes 4..8 of the data buffer are not covered by any tensor (a gap before "b")',
    ],
    ['a gap at the start of the data buffer', header(f32('a', [1], [4, 8])), 8, 'bytes 0..4 of the data buffer are not covered'],
    [
      'bytes after the last tensor (1)',
      header(f32('a', [1], [0, 4])),
      12,
      'the last 8 bytes of the data buffer (from offset 4) are not covered by any tensor',
    ],
    ['bytes after the last tensor (2)', '{}', 4, 'the last 4 bytes'],
  ];
  it.each(MALFORMED)('%s', (_what, headerText, dataBytes, message) => {
    expectFormatError(() => decodeSafetensors(ok(headerText, dataBytes)), message);
  });

  it('duplicate keys in the header', () => {
    const e = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    expectFormatError(() => decodeSafetensors(ok(`{"a":${e},"a":${e}}`, 4)), 'duplicate key "a"');
    expectFormatError(() => decodeSafetensors(ok('{"a":{"dtype":"F32","dtype":"F32"}}')), 'duplicate key "dtype"');
  });

  it('JSON nested too deeply', () => {
    const deep = '{"__metadata__":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    expectFormatError(() => decodeSafetensors(ok(deep)), 'nested more than 64 levels deep');
  });

  it.each(['F64', 'F16', 'BF16', 'I32', 'U8', 'BOOL'])('unsupported dtype %s (only F32 is supported)', (dtype) => {
    const err = expectFormatError(
      () => decodeSafetensors(ok(header(f32('w', [2], [0, 8], dtype)), 8)),
      `tensor "w": dtype ${dtype} is not supported`,
    );
    expect(err.message).toContain('supported: F32');
  });

  it('unknown dtype', () => {
    const err = expectFormatError(() => decodeSafetensors(ok(header(f32('w', [2], [0, 8], 'float32')), 8)), 'unknown dtype "float32"');
    expect(err.message).toContain('supported: F32');
  });

  it('never allocates from a huge claimed shape before checking the byte range', () => {
    // 2^40 elements claimed: a naive reader would try to allocate 4 TB.
    expectFormatError(() => decodeSafetensors(ok(header(f32('a', [2 ** 20, 2 ** 20], [0, 2 ** 42])), 8)), 'beyond the data buffer');
  });
});

describe('decodeSafetensors accepts what the official reader accepts', () => {
  it('ignores unknown fields in an entry, null metadata and leading whitespace', () => {
    const out = decodeSafetensors(
      fileOf(' \n{"__metadata__":null,"a":{"x":{"y":[1,2]},"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4),
    );
    expect(out.metadata).toEqual({});
    expect(out.tensors.a!.shape).toEqual([1]);
  });

  it('accepts tensors in any header order and zero-size tensors at the boundaries', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const out = decodeSafetensors(
      fileOf(header({ ...f32('z', [2], [0, 8]), ...f32('e', [0], [8, 8]), ...f32('a', [], [8, 12]), ...f32('e0', [3, 0], [0, 0]) }), data),
    );
    expect(Array.from(out.tensors.z!.data)).toEqual([1, 2]);
    expect(Array.from(out.tensors.a!.data)).toEqual([3]);
    expect(out.tensors.e!.data.length).toBe(0);
    expect(out.tensors.e0!.shape).toEqual([3, 0]);
    expect(Object.keys(out.tensors)).toEqual(['e0', 'z', 'e', 'a']); // file order
  });
});

// ---------------------------------------------------------------------------------------------
// validateStateDict
// ---------------------------------------------------------------------------------------------

describe('validateStateDict', () => {
  const t = (...shape: number[]) => ({ shape });

  it('accepts an exact match', () => {
    expect(() => validateStateDict({ a: t(2, 3), b: t() }, { a: [2, 3], b: [] })).not.toThrow();
  });

  it('names every missing key, unexpected key and shape mismatch in one message', () => {
    const err = expectFormatError(
      () => validateStateDict({ c: t(1), k: t(2, 3), z: t(4), ok: t(5) }, { b: [1], a: [1], k: [3, 2], z: [4, 1], ok: [5] }),
      'missing: a, b; unexpected: c; shape of k is [2,3], expected [3,2]; shape of z is [4], expected [4,1]',
    );
    expect(err.message).not.toContain('ok');
  });

  it('reports only missing keys when nothing else is wrong', () => {
    expectFormatError(() => validateStateDict({}, { a: [1] }), /does not match the model: missing: a$/);
  });

  it('reports only unexpected keys when nothing else is wrong', () => {
    expectFormatError(() => validateStateDict({ x: t(1) }, {}), /unexpected: x$/);
  });

  it('works on decoded files', () => {
    const out = decodeSafetensors(encodeSafetensors({ w: { shape: [2], data: new Float32Array(2) } }));
    expect(() => validateStateDict(out.tensors, { w: [2] })).not.toThrow();
    expectFormatError(() => validateStateDict(out.tensors, { w: [1, 2] }), 'shape of w is [2], expected [1,2]');
  });
});
