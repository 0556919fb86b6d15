// ONNX export: model.toOnnx() run in onnxruntime-web (wasm backend, in Node) gives the model's own
// deterministic reconstruction (`reconstruct`, z = mu) and `encode` (mu, logvar) at rtol 1e-5; the same
// files in Python's onnx checker and onnxruntime when those are installed (skipped with the reason when
// not, except under CI, which installs them); and `lstm-vae export MODEL --onnx OUT`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors, init, LstmVae } from '../dist/index.node.js';
import { PYTHON, pythonProblem, removeTmpDirs, tmpDir } from './shared/node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');

const RTOL = 1e-5;
const ATOL = 1e-6; // float32 rounding of values near zero

beforeAll(async () => {
  ort.env.wasm.numThreads = 1;
  await init();
});
afterAll(removeTmpDirs);

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): number {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= ATOL + RTOL * Math.abs(want[i]))) throw new Error(`${what}[${i}]: onnxruntime ${got[i]}, lstm-vae ${want[i]}`);
    worst = Math.max(worst, err / (ATOL + RTOL * Math.abs(want[i])));
  }
  return worst;
}

interface Case {
  name: string;
  config: ConstructorParameters<typeof LstmVae>[0];
  /** The model input and the same input as onnxruntime feeds. */
  input: () => { x: Parameters<LstmVae['reconstruct']>[0]; feeds: Record<string, ort.Tensor>; arrays: Record<string, number[]> };
}

const B = 3;
const T = 9;
const D = 2;

function continuousInput(seed: number): ReturnType<Case['input']> {
  const data = values(B * T * D, seed);
  return {
    x: { data, shape: [B, T, D] },
    feeds: { x: new ort.Tensor('float32', data, [B, T, D]) },
    arrays: { x: Array.from(data) },
  };
}

function tokenInput(V: number): ReturnType<Case['input']> {
  const lengths = [T, 4, 6];
  const ids = new Int32Array(B * T); // padding (0) after each sequence's EOS
  for (let b = 0; b < B; b++)
    for (let t = 0; t < lengths[b]; t++) ids[b * T + t] = t === lengths[b] - 1 ? 2 : 4 + ((7 * b + 3 * t) % (V - 4));
  return {
    x: { data: ids, shape: [B, T], lengths },
    feeds: {
      ids: new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, (v) => BigInt(v)),
        [B, T],
      ),
      lengths: new ort.Tensor(
        'int64',
        BigInt64Array.from(lengths, (v) => BigInt(v)),
        [B],
      ),
    },
    arrays: { ids: Array.from(ids), lengths },
  };
}

const cases: Case[] = [
  { name: 'continuous, 1 layer', config: { features: D, hidden: 8, latent: 3, seed: 11 }, input: () => continuousInput(1) },
  { name: 'continuous, 2 layers', config: { features: D, hidden: 6, latent: 4, layers: 2, seed: 12 }, input: () => continuousInput(2) },
  {
    name: 'continuous, 2 layers, autoregressive decoder (teacher forced)',
    config: { features: D, hidden: 5, latent: 2, layers: 2, decoder: 'autoregressive', seed: 13 },
    input: () => continuousInput(3),
  },
  {
    name: 'tokens, 1 layer',
    config: { mode: 'tokens', vocabSize: 11, embedding: 4, hidden: 7, latent: 3, seed: 14 },
    input: () => tokenInput(11),
  },
  {
    name: 'tokens, 2 layers',
    config: { mode: 'tokens', vocabSize: 9, embedding: 3, hidden: 5, latent: 2, layers: 2, seed: 15 },
    input: () => tokenInput(9),
  },
];

/** The model's own outputs for a case: reconstruction (or logits), probabilities, mu, logvar. */
function reference(m: LstmVae, x: Parameters<LstmVae['reconstruct']>[0]): Record<string, Float32Array> {
  const y = m.reconstruct(x);
  const { mu, logvar } = m.encode(x);
  if (m.config.mode === 'continuous') return { reconstruction: y, mu, logvar };
  const V = m.config.vocabSize;
  const p = new Float32Array(y.length);
  for (let r = 0; r < y.length / V; r++) {
    const row = y.subarray(r * V, (r + 1) * V);
    const mx = Math.max(...row);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(row[v] - mx);
    for (let v = 0; v < V; v++) p[r * V + v] = Math.exp(row[v] - mx) / sum;
  }
  return { logits: y, probabilities: p, mu, logvar };
}

async function runOnnx(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

describe('model.toOnnx() in onnxruntime-web', () => {
  for (const c of cases) {
    it(`${c.name}: same outputs as reconstruct and encode`, async () => {
      const m = new LstmVae(c.config);
      const { x, feeds } = c.input();
      const bytes = m.toOnnx();
      expect(bytes).toBeInstanceOf(Uint8Array);
      const out = await runOnnx(bytes, feeds);
      const want = reference(m, x);
      expect(Object.keys(out).sort()).toEqual(Object.keys(want).sort());
      const O = m.config.mode === 'continuous' ? D : m.config.vocabSize;
      expect(out[m.config.mode === 'continuous' ? 'reconstruction' : 'logits'].dims).toEqual([B, T, O]);
      expect(out.mu.dims).toEqual([B, m.config.latent]);
      for (const [k, v] of Object.entries(want)) expectClose(out[k].data as Float32Array, v, `${c.name}: ${k}`);
      m.dispose();
    });
  }

  it('other batch sizes and lengths than the first run (symbolic batch and time)', async () => {
    const m = new LstmVae({ features: 1, hidden: 4, latent: 2, layers: 2, seed: 21 });
    const bytes = m.toOnnx();
    for (const [b, t] of [
      [1, 1],
      [5, 17],
    ]) {
      const data = values(b * t, b + t);
      const out = await runOnnx(bytes, { x: new ort.Tensor('float32', data, [b, t, 1]) });
      expectClose(out.reconstruction.data as Float32Array, m.reconstruct({ data, shape: [b, t, 1] }), `B=${b} T=${t}`);
    }
    m.dispose();
  });

  it('a trained model, loaded from its safetensors file', async () => {
    const m = new LstmVae({ features: D, hidden: 8, latent: 3, seed: 31 });
    const { x, feeds } = continuousInput(4);
    await m.fit(x, { epochs: 15, batchSize: B, learningRate: 1e-2 });
    const again = LstmVae.fromSafetensors(m.toSafetensors());
    const out = await runOnnx(again.toOnnx(), feeds);
    expectClose(out.reconstruction.data as Float32Array, m.reconstruct(x), 'trained');
    m.dispose();
    again.dispose();
  });

  it('records the model in metadata_props; a disposed model gives a typed error', () => {
    const m = new LstmVae({ features: D, hidden: 4, latent: 2, seed: 1 });
    m.metadata = { note: 'ünïcödé' };
    const text = new TextDecoder().decode(m.toOnnx());
    expect(text).toContain('lstm-vae.config');
    expect(text).toContain('"features":2');
    expect(text).toContain('ünïcödé');
    m.dispose();
    let error: unknown;
    try {
      m.toOnnx();
    } catch (e) {
      error = e;
    }
    expect((error as Error)?.name).toBe('BackendError');
  });
});

// ---------------------------------------------------------------------------------------------
// Python: onnx.checker (full check, with shape inference) and onnxruntime on the same files

const PY_MODULES = ['numpy', 'safetensors', 'onnx', 'onnxruntime'];
const pyProblem = pythonProblem(PY_MODULES);
if (pyProblem) console.warn(`onnx.test.ts: the Python check is skipped: ${pyProblem}`);
// .ci/run installs the modules: under CI their absence is a failure, not a skip.
it.runIf(Boolean(process.env.CI))('under CI, the Python modules of the ONNX check are installed', () => {
  expect(pyProblem).toBeUndefined();
});

const PY_CHECK = `
import json, sys, numpy as np, onnx, onnxruntime as rt
from safetensors.numpy import load_file
folder, names = sys.argv[1], sys.argv[2:]
for name in names:
    path = f"{folder}/{name}.onnx"
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17, model.opset_import
    io = json.load(open(f"{folder}/{name}.json"))
    feeds = {k: np.asarray(v, dtype=np.int64 if k in ("ids", "lengths") else np.float32).reshape(io["shapes"][k]) for k, v in io["inputs"].items()}
    sess = rt.InferenceSession(path, providers=["CPUExecutionProvider"])
    outs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    want = load_file(f"{folder}/{name}.expected.safetensors")
    assert sorted(outs) == sorted(want), (sorted(outs), sorted(want))
    for k, v in want.items():
        np.testing.assert_allclose(outs[k].reshape(-1), v.reshape(-1), rtol=${RTOL}, atol=${ATOL}, err_msg=f"{name}: {k}")
    print(f"{name}: ok")
`;

describe('the exported files in Python (onnx checker, onnxruntime)', () => {
  it.skipIf(pyProblem !== undefined)('pass onnx.checker.check_model(full_check=True) and give the same outputs', () => {
    const dir = tmpDir('lstm-vae-onnx-py-');
    const names: string[] = [];
    cases.forEach((c, i) => {
      const m = new LstmVae(c.config);
      const { x, arrays } = c.input();
      const name = `case${i}`;
      writeFileSync(join(dir, `${name}.onnx`), m.toOnnx());
      const shapes = m.config.mode === 'continuous' ? { x: [B, T, D] } : { ids: [B, T], lengths: [B] };
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ inputs: arrays, shapes }));
      const want = reference(m, x);
      writeFileSync(
        join(dir, `${name}.expected.safetensors`),
        encodeSafetensors(Object.fromEntries(Object.entries(want).map(([k, v]) => [k, { shape: [v.length], data: v }]))),
      );
      names.push(name);
      m.dispose();
    });
    const r = spawnSync(PYTHON, ['-c', PY_CHECK, dir, ...names], { encoding: 'utf8' });
    expect(r.status, `python: ${r.stderr}`).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(names.map((n) => `${n}: ok`));
  });
});

// ---------------------------------------------------------------------------------------------
// CLI

describe('lstm-vae export --onnx', () => {
  let dir: string;
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, LSTM_VAE_DEBUG: '' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(() => {
    if (!existsSync(cli)) throw new Error('dist/cli.js is not built: run `bash scripts/ensure` (npm test does)');
    dir = tmpDir('lstm-vae-onnx-cli-');
    const m = new LstmVae({ features: D, hidden: 6, latent: 2, layers: 2, seed: 5 });
    writeFileSync(join(dir, 'model.safetensors'), m.toSafetensors());
    const t = new LstmVae({ mode: 'tokens', vocabSize: 10, embedding: 3, hidden: 4, latent: 2, seed: 6 });
    writeFileSync(join(dir, 'tokens.safetensors'), t.toSafetensors());
    writeFileSync(join(dir, 'garbage.safetensors'), 'not a model');
    m.dispose();
    t.dispose();
  });

  it('writes the ONNX file (atomically: nothing else left in the folder) that runs as the model', async () => {
    const r = run(['export', 'model.safetensors', '--onnx', 'model.onnx']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/exported model\.safetensors → model\.onnx \(ONNX opset 17/);
    expect(readdirSync(dir).sort()).toEqual(['garbage.safetensors', 'model.onnx', 'model.safetensors', 'tokens.safetensors']);
    const bytes = new Uint8Array(readFileSync(join(dir, 'model.onnx')));
    const m = LstmVae.fromSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    expect(bytes).toEqual(m.toOnnx());
    const { x, feeds } = continuousInput(7);
    const out = await runOnnx(bytes, feeds);
    expectClose(out.reconstruction.data as Float32Array, m.reconstruct(x), 'cli export');
    m.dispose();
    // a second export replaces the file
    expect(run(['export', 'tokens.safetensors', '--onnx', 'model.onnx']).code).toBe(0);
    expect(new TextDecoder().decode(readFileSync(join(dir, 'model.onnx')))).toContain('"mode":"tokens"');
  });

  const fails = (args: string[], code: number, pattern: RegExp) => {
    const r = run(args);
    expect(r.code, r.stderr).toBe(code);
    const lines = r.stderr.split('\n').filter((l) => l);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
  };

  it('bad input gives one typed error line, and no file', () => {
    fails(
      ['export', 'missing.safetensors', '--onnx', 'a.onnx'],
      1,
      /^lstm-vae: cannot read model from missing\.safetensors: the file does not exist/,
    );
    fails(['export', 'garbage.safetensors', '--onnx', 'b.onnx'], 1, /^lstm-vae: .*garbage\.safetensors/);
    fails(['export', 'model.safetensors'], 2, /^lstm-vae: export needs --onnx <file>/);
    fails(
      ['export', 'model.safetensors', '--onnx', 'no/such/folder/c.onnx'],
      1,
      /^lstm-vae: cannot write model to no\/such\/folder\/c\.onnx: ENOENT/,
    );
    for (const f of ['a.onnx', 'b.onnx']) expect(existsSync(join(dir, f)), f).toBe(false);
  });

  it('--help shows an example', () => {
    expect(run(['export', '--help']).stdout).toMatch(/Examples:\n\s+\$ lstm-vae export model\.safetensors --onnx model\.onnx/);
  });
});

// ---------------------------------------------------------------------------------------------
// docs/onnx.md: its JavaScript example runs as written (and then its Python example, when Python has onnxruntime)

describe('docs/onnx.md examples', () => {
  const doc = readFileSync(join(root, 'docs', 'onnx.md'), 'utf8');
  const block = (lang: string) => {
    const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(doc);
    if (!m) throw new Error(`docs/onnx.md has no ${lang} block`);
    return m[1];
  };

  it('the onnxruntime-web example prints the shapes and a difference below 1e-5; the Python one runs on its file', () => {
    const work = tmpDir('lstm-vae-onnx-doc-');
    // inside the package folder, so that `import 'lstm-vae'` resolves to this package (self-reference)
    const scripts = join(root, '.cache', 'onnx-docs');
    mkdirSync(scripts, { recursive: true });
    const js = join(scripts, 'example.mjs');
    writeFileSync(js, block('js'));
    const r = spawnSync(process.execPath, [js], { cwd: work, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0].replace(/\s+/g, '')).toBe('[3,10,2][3,4]');
    expect(Number(lines[1])).toBeLessThan(1e-5);
    expect(existsSync(join(work, 'model.onnx'))).toBe(true);
    const problem = pythonProblem(['numpy', 'onnxruntime']);
    if (problem) {
      console.warn(`onnx.test.ts: the docs' Python example is not run: ${problem}`);
      return;
    }
    const p = spawnSync(PYTHON, ['-c', block('python')], { cwd: work, encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^\(3, 10, 2\) \(3, 4\) \[/);
    expect(p.stdout).toContain('"mode":"continuous"');
  });
});
