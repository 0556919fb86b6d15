// The official Python `safetensors` (NumPy) reads every kind of file this package writes (models,
// checkpoints) and checks them against the SPEC, and this package loads what it writes with the SPEC's
// keys and no config. Needs python3 with numpy and safetensors (CI installs them; torch is not needed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, LstmVae, CharTokenizer, Optimizer, decodeSafetensors } from '../dist/index.node.js';
import { PYTHON, pythonProblem, removeTmpDirs, tmpDir } from './shared/node.js';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), 'python/interop_numpy.py');

function python(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8' });
  if (r.error) return { status: null, stdout: '', stderr: String(r.error) };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let problem: string | undefined;
afterAll(removeTmpDirs);
beforeAll(async () => {
  await init();
  problem = pythonProblem(['numpy', 'safetensors']);
});

function needPython(): void {
  if (problem) throw new Error(problem);
}

const values = (t: Record<string, { data: Float32Array }>) =>
  Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Array.from(v.data)]));

describe('the official safetensors (Python, NumPy) and lstm-vae files', () => {
  it('reads every file lstm-vae writes: keys and shapes of the SPEC, F32, metadata, values', async () => {
    needPython();
    const dir = tmpDir('lstmvae-py-');
    const files: string[] = [];
    const put = (name: string, bytes: Uint8Array, expect: object) => {
      writeFileSync(join(dir, `${name}.safetensors`), bytes);
      writeFileSync(join(dir, `${name}.expect.json`), JSON.stringify(expect));
      files.push(`${name}.safetensors`);
    };
    // models
    const a = new LstmVae({ features: 3, hidden: 5, latent: 2, seed: 1 });
    a.metadata = { threshold: 1.25, note: 'ünïcödé ✓' };
    put('continuous', a.toSafetensors(), {
      config: { mode: 'continuous', features: 3, hidden: 5, latent: 2, layers: 1, decoder: 'repeat' },
      values: values(a.stateDict()),
      metadata: { metadata: JSON.stringify(a.metadata) },
    });
    const b = new LstmVae({ features: 2, hidden: 4, latent: 3, layers: 2, decoder: 'autoregressive', seed: 2 });
    put('autoregressive', b.toSafetensors(), {
      config: { features: 2, hidden: 4, latent: 3, layers: 2, decoder: 'autoregressive' },
      values: values(b.stateDict()),
    });
    const tok = CharTokenizer.fit(['anna', 'bob', 'eve']);
    const t = new LstmVae({
      mode: 'tokens',
      vocabSize: tok.vocabSize,
      embedding: 3,
      hidden: 4,
      latent: 2,
      layers: 2,
      wordDropout: 0.25,
      seed: 3,
    });
    t.tokenizer = tok;
    put('tokens', t.toSafetensors(), {
      config: { mode: 'tokens', vocabSize: tok.vocabSize, embedding: 3, hidden: 4, latent: 2, layers: 2, wordDropout: 0.25 },
      values: values(t.stateDict()),
      metadata: { tokenizer: JSON.stringify(tok.toJSON()) },
    });
    // checkpoints: one mid-epoch (onCheckpoint), one at the end with early-stopping best weights
    const c = new LstmVae({ features: 2, hidden: 4, latent: 2, seed: 4 });
    const opt = new Optimizer('adamw', { lr: 1e-2 });
    const cks: Uint8Array[] = [];
    const x = { data: Float32Array.from({ length: 10 * 5 * 2 }, (_, i) => Math.sin(0.3 * i)), shape: [10, 5, 2] };
    const h = await c.fit(x, {
      epochs: 3,
      batchSize: 3,
      optimizer: opt,
      validationSplit: 0.2,
      earlyStopping: { patience: 5 },
      checkpointEvery: 4,
      onCheckpoint: (bytes) => void cks.push(bytes),
    });
    const mid = cks[0];
    put('checkpoint-mid', mid, {
      config: { features: 2, hidden: 4, latent: 2 },
      values: values(decodeSafetensors(mid).tensors),
      bestWeights: true,
    });
    const end = c.checkpoint(opt, h.trainerState);
    put('checkpoint-end', end, {
      config: { features: 2, hidden: 4, latent: 2 },
      values: values(decodeSafetensors(end).tensors),
      bestWeights: true,
    });

    const r = python('check', dir);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      results: { file: string; tensors: number; metadata: string[]; problems: string[] }[];
      safetensors: string;
    };
    expect(out.results.map((x) => x.file).sort()).toEqual(files.sort());
    for (const f of out.results) expect(f.problems, f.file).toEqual([]);
    const byName = Object.fromEntries(out.results.map((x) => [x.file, x]));
    expect(byName['checkpoint-end.safetensors'].metadata).toEqual(['config', 'format', 'format_version', 'optimizer', 'trainer']);
    // weights + 2 Adam slots + best weights
    expect(byName['checkpoint-end.safetensors'].tensors).toBe(4 * Object.keys(c.stateDict()).length);
    for (const m of [a, b, t, c]) m.dispose();
    opt.dispose();
  });

  it('writes model files (numpy, the SPEC keys, no metadata) that LstmVae.fromSafetensors loads with sizes from the shapes', () => {
    needPython();
    const dir = tmpDir('lstmvae-py-');
    const r = python('write', dir);
    expect(r.status, r.stderr).toBe(0);
    const { wrote } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { wrote: string[] };
    expect(wrote).toHaveLength(3);
    for (const f of wrote) {
      const spec = JSON.parse(readFileSync(join(dir, f.replace(/\.safetensors$/, '.json')), 'utf8')) as {
        config: Record<string, unknown>;
        values: Record<string, number[]>;
        shapes: Record<string, number[]>;
      };
      const bytes = new Uint8Array(readFileSync(join(dir, f)));
      expect(decodeSafetensors(bytes).metadata, f).toEqual({});
      const m = LstmVae.fromSafetensors(bytes);
      expect(m.toConfigJSON(), f).toMatchObject(spec.config);
      const sd = m.stateDict();
      expect(Object.keys(sd).sort()).toEqual(Object.keys(spec.values).sort());
      for (const [k, v] of Object.entries(spec.values)) {
        expect(sd[k].shape, k).toEqual(spec.shapes[k]);
        expect(Array.from(sd[k].data), k).toEqual(Array.from(Float32Array.from(v)));
      }
      const B = 2,
        T = 4,
        Z = spec.config.latent as number;
      const input =
        spec.config.mode === 'tokens'
          ? { data: Int32Array.from([4, 5, 6, 2, 7, 2, 0, 0]), shape: [B, T], lengths: [4, 2] }
          : {
              data: Float32Array.from({ length: B * T * (spec.config.features as number) }, (_, i) => Math.sin(i)),
              shape: [B, T, spec.config.features as number],
            };
      expect(Number.isFinite(m.evaluate(input, { eps: new Float32Array(B * Z) }).loss), f).toBe(true);
      m.dispose();
    }
  });
});
