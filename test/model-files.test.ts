// Robustness of model files at the model level: LstmVae.fromSafetensors turns every damaged,
// inconsistent or hostile file into a FormatError (or, if the file still describes a valid model,
// a working model), never another error and never a WebAssembly crash.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  init,
  LstmVae,
  CharTokenizer,
  Optimizer,
  encodeSafetensors,
  decodeSafetensors,
  FormatError,
  type LstmVaeConfig,
} from '../dist/index.node.js';
import { rawSafetensors } from './shared/safetensors-bytes.js';

type Tensors = Record<string, { shape: number[]; data: Float32Array }>;

let BASES: { name: string; bytes: Uint8Array }[] = [];

function tokenModel(): LstmVae {
  const tok = CharTokenizer.fit(['ab', 'abc', 'cab']);
  const m = new LstmVae({ mode: 'tokens', vocabSize: tok.vocabSize, embedding: 2, hidden: 3, latent: 2, seed: 5 });
  m.tokenizer = tok;
  m.metadata = { note: 'names' };
  return m;
}

beforeAll(async () => {
  await init();
  const make = (c: LstmVaeConfig) => {
    const m = new LstmVae(c);
    const b = m.toSafetensors();
    m.dispose();
    return b;
  };
  const t = tokenModel();
  const tb = t.toSafetensors();
  t.dispose();
  // a checkpoint (optimizer tensors + trainer metadata)
  const c = new LstmVae({ features: 2, hidden: 3, latent: 2, seed: 6 });
  const opt = new Optimizer('adam');
  const x = { data: new Float32Array(3 * 4 * 2).map((_, i) => Math.sin(i)), shape: [3, 4, 2] };
  const h = await c.fit(x, { epochs: 1, batchSize: 2, optimizer: opt });
  const ck = c.checkpoint(opt, h.trainerState);
  c.dispose();
  opt.dispose();
  // a file as PyTorch's save_file writes it: the SPEC's keys, no metadata
  const p = new LstmVae({ features: 2, hidden: 3, latent: 2, layers: 2, decoder: 'autoregressive', seed: 7 });
  const pt = encodeSafetensors(p.stateDict());
  p.dispose();
  BASES = [
    { name: 'continuous', bytes: make({ features: 2, hidden: 3, latent: 2, seed: 1 }) },
    { name: 'autoregressive 2 layers', bytes: make({ features: 3, hidden: 2, latent: 2, layers: 2, decoder: 'autoregressive', seed: 2 }) },
    { name: 'tokens', bytes: tb },
    { name: 'checkpoint', bytes: ck },
    { name: 'no config (PyTorch)', bytes: pt },
  ];
});

function load(bytes: Uint8Array): LstmVae | FormatError {
  try {
    return LstmVae.fromSafetensors(bytes);
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
}

function expectFormatError(bytes: Uint8Array, re?: RegExp): void {
  const r = load(bytes);
  if (r instanceof LstmVae) {
    r.dispose();
    throw new Error('expected a FormatError, the file loaded');
  }
  expect(r).toBeInstanceOf(FormatError);
  if (re) expect(r.message).toMatch(re);
}

function edit(bytes: Uint8Array, f: (meta: Record<string, string>, t: Tensors) => void): Uint8Array {
  const { metadata, tensors } = decodeSafetensors(bytes);
  const t: Tensors = {};
  for (const [k, v] of Object.entries(tensors)) t[k] = { shape: v.shape, data: v.data };
  f(metadata, t);
  return encodeSafetensors(t, metadata);
}

/** Runs the loaded model once on an input that fits it: it must work. */
function exercise(m: LstmVae): void {
  const c = m.config;
  const B = 2,
    T = 3;
  if (c.mode === 'continuous') {
    const x = { data: Float32Array.from({ length: B * T * c.features }, (_, i) => Math.sin(i)), shape: [B, T, c.features] };
    const r = m.evaluate(x, { eps: new Float32Array(B * c.latent) });
    expect(typeof r.loss).toBe('number');
  } else {
    const x = { data: new Int32Array(B * T).fill(4 % c.vocabSize), shape: [B, T], lengths: [T, 1] };
    const r = m.evaluate(x, { eps: new Float32Array(B * c.latent) });
    expect(typeof r.loss).toBe('number');
  }
}

describe('damaged model files give FormatError', () => {
  it('every truncation of every base file', () => {
    for (const { bytes } of BASES) {
      for (let n = 0; n < bytes.length; n++) {
        if (n > 64 && n < bytes.length - 64 && n % 7 !== 0) continue; // all short and near-complete prefixes, every 7th in between
        expectFormatError(bytes.subarray(0, n));
      }
      expectFormatError(bytes.subarray(0, bytes.length - 1), /not covered|truncated|larger than|beyond the data buffer/);
    }
  });

  it('random bytes, and random bytes after a valid-looking length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => expectFormatError(b)),
      { numRuns: 500, seed: 1 },
    );
    const head = BASES[0].bytes.subarray(0, 8);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        const x = new Uint8Array(8 + b.length);
        x.set(head);
        x.set(b, 8);
        expectFormatError(x);
      }),
      { numRuns: 500, seed: 2 },
    );
  });

  // [base file, config fields changed, the FormatError message]; a config that claims a huge model is
  // rejected before anything is allocated
  it.each([
    [0, { hidden: 4 }, /shape of encoder\.lstm\.weight_hh_l0 is \[12,3\], expected \[16,4\]/],
    [0, { features: 5 }, /expected/],
    [0, { decoder: 'autoregressive' }, /decoder\.lstm\.weight_ih_l0/],
    [0, { hidden: 4096, layers: 16, latent: 4096 }, /state dict does not match/],
    [2, { vocabSize: 1 << 20, embedding: 4096 }, /embedding\.weight/],
  ] as const)('shapes that do not fit the config: file %i with %o', (base, change, message) => {
    expectFormatError(
      edit(BASES[base].bytes, (m) => (m.config = JSON.stringify({ ...JSON.parse(m.config), ...change }))),
      message,
    );
  });

  it('a tensor of the wrong shape', () => {
    const wrong = { shape: [3, 2], data: new Float32Array(6) };
    expectFormatError(
      edit(BASES[0].bytes, (_m, t) => (t['decoder.fc_out.weight'] = wrong)),
      /decoder\.fc_out\.weight is \[3,2\], expected \[2,3\]/,
    );
  });

  it('missing and extra keys', () => {
    for (const { bytes } of BASES) {
      expectFormatError(
        edit(bytes, (_m, t) => delete t['encoder.fc_mu.bias']),
        /missing: encoder\.fc_mu\.bias/,
      );
      expectFormatError(
        edit(bytes, (_m, t) => (t['encoder.fc_sigma.bias'] = { shape: [2], data: new Float32Array(2) })),
        /unexpected: encoder\.fc_sigma\.bias/,
      );
    }
    expectFormatError(
      edit(BASES[0].bytes, (_m, t) => {
        for (const k of Object.keys(t)) if (k.startsWith('decoder.')) delete t[k];
      }),
      /missing: decoder\.fc_out\.bias, decoder\.fc_out\.weight, decoder\.lstm/,
    );
    // no config and a tensor to infer sizes from is missing
    expectFormatError(
      edit(BASES[4].bytes, (_m, t) => delete t['encoder.lstm.weight_hh_l0']),
      /no config and no tensor encoder\.lstm\.weight_hh_l0/,
    );
    expectFormatError(encodeSafetensors({}), /no config/);
  });

  it('a newer or malformed format_version, another format', () => {
    const base = BASES[0].bytes;
    expectFormatError(
      edit(base, (m) => (m.format_version = '2')),
      /format_version 2, newer than this package reads \(1\): update lstm-vae/,
    );
    expectFormatError(
      edit(base, (m) => (m.format_version = 'one')),
      /bad format_version/,
    );
    expectFormatError(
      edit(base, (m) => (m.format_version = '0')),
      /bad format_version/,
    );
    expectFormatError(
      edit(base, (m) => (m.format = 'keras')),
      /not an lstm-vae file/,
    );
    // a state dict tagged as Hugging Face tools tag them loads (sizes from the shapes)
    for (const tag of ['pt', 'np']) {
      const m = LstmVae.fromSafetensors(edit(BASES[4].bytes, (meta) => (meta.format = tag)));
      expect(m.config).toMatchObject({ features: 2, hidden: 3, latent: 2, layers: 2, decoder: 'autoregressive' });
      m.dispose();
    }
  });

  it('malformed config, metadata and tokenizer JSON', () => {
    const base = BASES[0].bytes;
    expectFormatError(
      edit(base, (m) => (m.config = '{"mode": "continuous", hidden: 3}')),
      /config in the file is not valid JSON/,
    );
    expectFormatError(
      edit(base, (m) => (m.config = '')),
      /not valid JSON/,
    );
    const badConfigs = [
      'null',
      '[]',
      '42',
      '"continuous"',
      '{}',
      '{"hidden": 3}',
      '{"features": 2, "hidden": -3, "latent": 2}',
      '{"features": 2, "hidden": 3, "latent": 2, "mode": "images"}',
      '{"features": 2, "hidden": 3.5, "latent": 2}',
    ];
    for (const bad of badConfigs)
      expectFormatError(
        edit(base, (m) => (m.config = bad)),
        /config in the file is invalid/,
      );
    expectFormatError(
      edit(base, (m) => (m.metadata = '{oops')),
      /metadata in the file is not valid JSON/,
    );
    for (const bad of ['null', '[1]', '7', '"x"']) {
      expectFormatError(
        edit(base, (m) => (m.metadata = bad)),
        /metadata in the file must be a JSON object/,
      );
    }
    expectFormatError(
      edit(BASES[2].bytes, (m) => (m.tokenizer = '{"chars": 5')),
      /tokenizer/,
    );
    expectFormatError(
      edit(BASES[2].bytes, (m) => (m.tokenizer = '{"chars": 5}')),
      /tokenizer/,
    );
  });

  it('non-finite weights and other dtypes', () => {
    expectFormatError(
      edit(BASES[0].bytes, (_m, t) => (t['encoder.fc_mu.weight'].data[1] = NaN)),
      /encoder\.fc_mu\.weight holds a non-finite value/,
    );
    expectFormatError(
      edit(BASES[0].bytes, (_m, t) => (t['decoder.lstm.bias_hh_l0'].data[0] = -Infinity)),
      /non-finite/,
    );
    const { metadata, tensors } = decodeSafetensors(BASES[0].bytes);
    const names = Object.keys(tensors).sort();
    // hand-built header with one F16 tensor
    const entries: Record<string, unknown> = { __metadata__: metadata };
    let off = 0;
    for (const k of names) {
      const n = tensors[k].data.length * 4;
      const f16 = k === names[0];
      entries[k] = {
        dtype: f16 ? 'F16' : 'F32',
        shape: f16 ? [tensors[k].data.length * 2] : tensors[k].shape,
        data_offsets: [off, off + n],
      };
      off += n;
    }
    expectFormatError(rawSafetensors(JSON.stringify(entries), off), /F16/);
  });

  it('not a Uint8Array', () => {
    for (const v of [null, undefined, 'model.safetensors', new ArrayBuffer(8), [1, 2, 3]]) {
      expect(() => LstmVae.fromSafetensors(v as never)).toThrowError(FormatError);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Property: ≥ 10,000 mutated model files → FormatError or a working model
// ---------------------------------------------------------------------------------------------

type Mutation =
  | { kind: 'bytes'; edits: { at: number; value: number }[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'digit'; at: number; digit: number }
  | { kind: 'config'; key: string; value: unknown }
  | { kind: 'meta'; key: string; value: string | null }
  | { kind: 'drop'; at: number }
  | { kind: 'reshape'; at: number; shape: number[] }
  | { kind: 'value'; at: number; index: number; value: number };

const CONFIG_KEYS = [
  'mode',
  'features',
  'hidden',
  'latent',
  'layers',
  'decoder',
  'vocabSize',
  'embedding',
  'wordDropout',
  'seed',
  'recurrentInit',
  'forgetBias',
  'extra',
];
const jsonValue = fc.oneof(
  fc.integer({ min: -3, max: 40 }),
  fc.constantFrom(0, 1, 2, 3, 4, 4096, 4097, 65536, 1 << 20, 2 ** 31, 2 ** 53, -1, 0.5, 1e308, -0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('continuous', 'tokens', 'repeat', 'autoregressive', 'orthogonal', '', null, true, false, [], {}, [3], { a: 1 }),
  fc.string({ maxLength: 6 }),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('bytes' as const),
    edits: fc.array(fc.record({ at: fc.nat(), value: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('digit' as const), at: fc.nat(), digit: fc.nat({ max: 9 }) }),
  fc.record({ kind: fc.constant('config' as const), key: fc.constantFrom(...CONFIG_KEYS), value: jsonValue }),
  fc.record({
    kind: fc.constant('meta' as const),
    key: fc.constantFrom('format', 'format_version', 'config', 'metadata', 'tokenizer', 'optimizer', 'trainer', 'other'),
    value: fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 8 }),
      fc.constantFrom('1', '2', '0', 'lstm-vae', '{}', '[]', 'null', '{"chars":"ab"}'),
    ),
  }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('reshape' as const), at: fc.nat(), shape: fc.array(fc.nat({ max: 13 }), { maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('value' as const),
    at: fc.nat(),
    index: fc.nat(),
    value: fc.constantFrom(NaN, Infinity, -Infinity, 1e30, -0, 3.4e38),
  }),
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'bytes': {
      const out = bytes.slice();
      if (out.length) for (const e of m.edits) out[e.at % out.length] = e.value;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, m.at % (bytes.length + 1));
    case 'append': {
      const out = new Uint8Array(bytes.length + m.bytes.length);
      out.set(bytes);
      out.set(m.bytes, bytes.length);
      return out;
    }
    case 'digit': {
      // replace a digit of the JSON header (the header length stays right)
      if (bytes.length < 8) return bytes;
      const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
      if (n > bytes.length - 8) return bytes;
      const digits: number[] = [];
      for (let i = 8; i < 8 + n; i++) if (bytes[i] >= 0x30 && bytes[i] <= 0x39) digits.push(i);
      if (!digits.length) return bytes;
      const out = bytes.slice();
      out[digits[m.at % digits.length]] = 0x30 + m.digit;
      return out;
    }
    default: {
      // semantic edits: decode, change, re-encode (only if the current bytes decode)
      let d: ReturnType<typeof decodeSafetensors>;
      try {
        d = decodeSafetensors(bytes);
      } catch {
        return bytes;
      }
      const meta = { ...d.metadata };
      const t: Tensors = {};
      for (const [k, v] of Object.entries(d.tensors)) t[k] = { shape: v.shape, data: v.data };
      const keys = Object.keys(t);
      if (m.kind === 'config') {
        let c: Record<string, unknown> = {};
        try {
          c = JSON.parse(meta.config ?? '{}');
        } catch {
          /* keep {} */
        }
        if (c && typeof c === 'object') c[m.key] = m.value;
        meta.config = JSON.stringify(c);
      } else if (m.kind === 'meta') {
        if (m.value === null) delete meta[m.key];
        else meta[m.key] = m.value;
      } else if (m.kind === 'drop') {
        if (keys.length) delete t[keys[m.at % keys.length]];
      } else if (m.kind === 'reshape') {
        if (keys.length) {
          const n = m.shape.reduce((a, b) => a * b, 1);
          t[keys[m.at % keys.length]] = { shape: m.shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)) };
        }
      } else if (m.kind === 'value') {
        if (keys.length) {
          const v = t[keys[m.at % keys.length]];
          if (v.data.length) v.data[m.index % v.data.length] = m.value;
        }
      }
      return encodeSafetensors(t, Object.keys(meta).length ? meta : undefined);
    }
  }
}

describe('model files under fuzzing', () => {
  it('10,000+ mutated model files: a FormatError or a working model, never anything else', () => {
    const RUNS = 10_500;
    const seen = { loaded: 0, formatError: 0 };
    const kinds = new Map<string, number>();
    const t0 = performance.now();
    fc.assert(
      fc.property(fc.nat({ max: BASES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (b, muts) => {
        let bytes = BASES[b].bytes;
        for (const m of muts) bytes = mutate(bytes, m);
        const r = load(bytes); // anything but FormatError propagates and fails the property
        if (r instanceof LstmVae) {
          seen.loaded++;
          try {
            exercise(r);
            // what loaded saves and loads again to the same model
            const again = LstmVae.fromSafetensors(r.toSafetensors());
            expect(Buffer.from(again.toSafetensors()).equals(Buffer.from(r.toSafetensors()))).toBe(true);
            again.dispose();
          } finally {
            r.dispose();
          }
        } else {
          seen.formatError++;
          const k = r.message
            .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
            .replace(/\d+/g, '#')
            .slice(0, 50);
          kinds.set(k, (kinds.get(k) ?? 0) + 1);
        }
      }),
      { numRuns: RUNS, seed: 20240611 },
    );
    const ms = performance.now() - t0;
    expect(seen.loaded + seen.formatError).toBe(RUNS);
    // the mutations reach the model level, not only the codec
    expect(seen.loaded).toBeGreaterThan(RUNS * 0.05);
    expect([...kinds.keys()].some((k) => k.includes('state dict does not match'))).toBe(true);
    expect([...kinds.keys()].some((k) => k.includes('config in the file is invalid'))).toBe(true);
    expect(kinds.size).toBeGreaterThan(30);
    // the WebAssembly instance is intact afterwards: a fresh model still computes the reference numbers
    const ref = LstmVae.fromSafetensors(BASES[1].bytes);
    const x = { data: Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => Math.cos(i)), shape: [2, 4, 3] };
    const a = ref.evaluate(x, { eps: new Float32Array(4) }).loss;
    const fresh = new LstmVae({ features: 3, hidden: 2, latent: 2, layers: 2, decoder: 'autoregressive', seed: 2 });
    expect(fresh.evaluate(x, { eps: new Float32Array(4) }).loss).toBe(a);
    ref.dispose();
    fresh.dispose();
    const top = [...kinds.entries()].sort((p, q) => q[1] - p[1]).slice(0, 6);
    console.log(
      `model fuzz: ${RUNS} mutated files in ${ms.toFixed(0)} ms; ${seen.loaded} loaded and ran, ${seen.formatError} FormatError (${kinds.size} kinds); most common:\n  ${top.map(([k, c]) => `${c}× ${k}`).join('\n  ')}`,
    );
  });
});
