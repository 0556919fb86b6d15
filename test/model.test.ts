// Training, determinism, errors, files and memory of the model API (Node, default build).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  init,
  setThreads,
  backendInfo,
  memoryBytes,
  LstmVae,
  CharTokenizer,
  Optimizer,
  saveModel,
  loadModel,
  ShapeError,
  ConfigError,
  DataError,
  NumericError,
  FormatError,
  BackendError,
} from '../dist/index.node.js';
import { removeTmpDirs, tmpDir } from './shared/node.js';
import { sines } from './shared/sines.js';
import { sameBits } from './shared/numeric.js';

afterAll(removeTmpDirs);
beforeAll(async () => {
  await init();
});

describe('training', () => {
  it('fit lowers the loss a lot on smooth sequences and reports every field', async () => {
    const m = new LstmVae({ features: 2, hidden: 16, latent: 4, seed: 3 });
    const x = sines(64, 16);
    const before = m.evaluate(x, { eps: new Float32Array(64 * 4) }).loss;
    const batches: number[] = [];
    const h = await m.fit(x, {
      epochs: 30,
      batchSize: 16,
      learningRate: 1e-2,
      onBatchEnd: (s) => {
        batches.push(s.loss);
        expect(s.gradNorm).toBeGreaterThan(0);
      },
    });
    const after = m.evaluate(x, { eps: new Float32Array(64 * 4) }).loss;
    expect(h.epochs).toHaveLength(30);
    expect(batches).toHaveLength(30 * 4);
    expect(after).toBeLessThan(before * 0.7);
    expect(h.epochs[29].loss).toBeLessThan(h.epochs[0].loss);
    m.dispose();
  });

  it('a broken gradient would fail: anomaly scores separate planted anomalies', async () => {
    const m = new LstmVae({ features: 2, hidden: 16, latent: 4, seed: 5 });
    const x = sines(96, 16, 7);
    await m.fit(x, { epochs: 40, batchSize: 16, learningRate: 1e-2 });
    const test = sines(20, 16, 99);
    for (let b = 0; b < 5; b++) for (let t = 5; t < 9; t++) test.data[(b * 16 + t) * 2] += 2.5;
    const s = m.anomalyScores(test);
    const minAnom = Math.min(...s.slice(0, 5)),
      maxNorm = Math.max(...s.slice(5));
    expect(minAnom).toBeGreaterThan(maxNorm);
    const p = m.anomalyScores(test, { method: 'probability', samples: 4 });
    expect(Math.min(...p.slice(0, 5))).toBeGreaterThan(Math.max(...p.slice(5)));
    m.dispose();
  });

  it('same seed, same data: the same run bit for bit, on 1 and on 2 threads', async () => {
    const run = async (threads: number) => {
      setThreads(threads);
      const m = new LstmVae({ features: 2, hidden: 24, latent: 4, seed: 11 });
      const h = await m.fit(sines(64, 12), { epochs: 3, batchSize: 32 });
      const w = m.stateDict();
      m.dispose();
      return { losses: h.epochs.map((e) => e.loss), w };
    };
    const a = await run(1);
    const b = await run(backendInfo().threads);
    expect(b.losses).toEqual(a.losses);
    for (const k of Object.keys(a.w)) expect(sameBits(b.w[k].data, a.w[k].data), k).toBe(true);
  });

  it('stops on a non-finite loss with a NumericError naming the step, weights untouched', async () => {
    const m = new LstmVae({ features: 2, hidden: 8, latent: 2, seed: 1 });
    const x = sines(32, 8);
    // the weights after the last step that succeeded: the failing step must leave them as they are
    let last = { step: 0, epoch: 0, batch: -1, batches: 0, weights: m.stateDict() };
    const fit = m.fit(x, {
      epochs: 50,
      batchSize: 8,
      optimizer: 'sgd',
      learningRate: 1e6,
      onBatchEnd: (s) => {
        last = { ...s, weights: m.stateDict() };
      },
    });
    const err = await fit.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NumericError);
    expect(last.step, 'steps that succeeded before the loss diverged').toBeGreaterThan(0);
    // the message counts steps from 0 (onBatchEnd reports how many are done): the failing step is
    // number last.step, the batch after the last one reported
    const [epoch, batch] = last.batch + 1 < last.batches ? [last.epoch, last.batch + 1] : [last.epoch + 1, 0];
    expect((err as Error).message).toContain(`at step ${last.step} (epoch ${epoch}, batch ${batch})`);
    const now = m.stateDict();
    expect(Object.keys(now)).toEqual(Object.keys(last.weights));
    for (const k of Object.keys(now)) {
      expect(now[k].data.every(Number.isFinite), `${k} finite`).toBe(true);
      expect(sameBits(now[k].data, last.weights[k].data), `${k} unchanged by the failing step`).toBe(true);
    }
    m.dispose();
  });

  it('an AbortSignal stops training cleanly', async () => {
    const m = new LstmVae({ features: 2, hidden: 8, latent: 2 });
    const ac = new AbortController();
    const h = await m.fit(sines(64, 8), {
      epochs: 100,
      batchSize: 8,
      onBatchEnd: (s) => {
        if (s.step === 5) ac.abort();
      },
      signal: ac.signal,
    });
    expect(h.stopped).toBe('aborted');
    m.dispose();
  });

  it('early stopping restores the best weights; validation loss is reported', async () => {
    const m = new LstmVae({ features: 2, hidden: 8, latent: 2, seed: 2 });
    const h = await m.fit(sines(64, 8), {
      epochs: 40,
      batchSize: 16,
      validationSplit: 0.25,
      learningRate: 0.05,
      earlyStopping: { patience: 2 },
    });
    expect(h.epochs[0].valLoss).toBeTypeOf('number');
    if (h.stopped === 'early-stopping') expect(h.bestEpoch).toBeLessThan(h.epochs.length - 1);
    m.dispose();
  });

  it('memory stays flat over many training steps', async () => {
    const m = new LstmVae({ features: 2, hidden: 8, latent: 2 });
    const opt = new Optimizer('adam');
    const x = sines(8, 6);
    for (let i = 0; i < 200; i++) {
      m.lossAndGradientsInPlace(x);
      opt.step(m);
    }
    const t0 = memoryBytes();
    for (let i = 0; i < 10000; i++) {
      m.lossAndGradientsInPlace(x);
      opt.step(m);
    }
    expect(memoryBytes()).toBe(t0);
    // and a model created and disposed many times does not grow it either
    for (let i = 0; i < 200; i++) new LstmVae({ features: 2, hidden: 8, latent: 2 }).dispose();
    expect(memoryBytes()).toBe(t0);
    m.dispose();
  });
});

describe('token model', () => {
  it('learns names and generates new ones', async () => {
    const names = ['anna', 'anne', 'hanna', 'hannah', 'ann', 'nan', 'nana', 'annah', 'hana', 'ana'];
    const tok = CharTokenizer.fit(names);
    const enc = tok.encodeBatch(names);
    const m = new LstmVae({ mode: 'tokens', vocabSize: tok.vocabSize, embedding: 8, hidden: 32, latent: 4, seed: 1 });
    const h = await m.fit(enc, { epochs: 60, batchSize: 10, learningRate: 1e-2 });
    expect(h.epochs[59].recon).toBeLessThan(h.epochs[0].recon * 0.5);
    const g = m.generate({ n: 10, temperature: 0.5, maxLength: 10 }).map((ids) => tok.decode(ids));
    expect(g).toHaveLength(10);
    expect(g.every((s) => /^[ahn]*$/.test(s))).toBe(true);
    m.tokenizer = tok;
    const m2 = LstmVae.fromSafetensors(m.toSafetensors());
    expect(m2.tokenizer?.chars).toEqual(tok.chars);
    m.dispose();
    m2.dispose();
  });

  it('anomaly scores: each name’s cross-entropy at the posterior mean, as the loss computes it one name at a time', async () => {
    const names = ['anna', 'bob', 'hannah', 'x', 'nana', 'otto'];
    const tok = CharTokenizer.fit(names);
    const m = new LstmVae({ mode: 'tokens', vocabSize: tok.vocabSize, embedding: 4, hidden: 8, latent: 3, seed: 2 });
    await m.fit(tok.encodeBatch(names), { epochs: 5, batchSize: 3, learningRate: 1e-2 });
    const s = m.anomalyScores(tok.encodeBatch(names));
    expect(s).toHaveLength(names.length);
    names.forEach((name, b) => {
      // eps = 0 puts z at the posterior mean, as the 'error' score does; the loss is that name's cross-entropy
      const { recon } = m.evaluate(tok.encodeBatch([name]), { eps: new Float32Array(3) });
      expect(Math.abs(s[b] - recon)).toBeLessThan(1e-5 * recon);
    });
    // longer names cost more here, so the scores are not one value repeated
    expect(new Set(Array.from(s, (v) => v.toFixed(3))).size).toBe(names.length);
    const p = m.anomalyScores(tok.encodeBatch(names), { method: 'probability', samples: 3 });
    expect(p.every((v, b) => Number.isFinite(v) && v > 0 && Math.abs(v - s[b]) < 10 * s[b])).toBe(true);
    m.dispose();
  });
});

describe('files', () => {
  it('round trip: identical bits and identical outputs; save/load through disk', async () => {
    const m = new LstmVae({ features: 3, hidden: 6, latent: 2, layers: 2, decoder: 'autoregressive', seed: 4 });
    m.metadata = { threshold: 1.5 };
    const x = { data: Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.sin(i)), shape: [2, 5, 3] };
    const bytes = m.toSafetensors();
    const m2 = LstmVae.fromSafetensors(bytes);
    expect(Buffer.from(m2.toSafetensors()).equals(Buffer.from(bytes))).toBe(true);
    expect(m2.metadata).toEqual({ threshold: 1.5 });
    expect(Array.from(m2.reconstruct(x))).toEqual(Array.from(m.reconstruct(x)));
    const dir = tmpDir('lstmvae-');
    await saveModel(m, join(dir, 'm.safetensors'));
    const m3 = await loadModel(join(dir, 'm.safetensors'));
    expect(Buffer.from(readFileSync(join(dir, 'm.safetensors'))).equals(Buffer.from(bytes))).toBe(true);
    const z = { data: new Float32Array([0.5, -0.5]), shape: [1, 2] as [number, number] };
    expect(Array.from(m3.decode(z, 4))).toEqual(Array.from(m.decode(z, 4)));
    m.dispose();
    m2.dispose();
    m3.dispose();
  });

  it('bad files give FormatError', async () => {
    const m = new LstmVae({ features: 3, hidden: 6, latent: 2 });
    const bytes = m.toSafetensors();
    expect(() => LstmVae.fromSafetensors(bytes.subarray(0, 100))).toThrowError(FormatError);
    expect(() => LstmVae.fromSafetensors(new Uint8Array(3))).toThrowError(FormatError);
    const other = new LstmVae({ features: 4, hidden: 6, latent: 2 });
    const sd = other.stateDict();
    expect(() => m.loadStateDict(sd)).toThrowError(/shape of encoder\.lstm\.weight_ih_l0 is \[24,4\], expected \[24,3\]/);
    m.dispose();
    other.dispose();
  });
});

describe('errors name the argument, the expected and the actual value', () => {
  it('config errors', () => {
    expect(() => new LstmVae({ features: 0, hidden: 4, latent: 2 })).toThrowError(ConfigError);
    expect(() => new LstmVae({ features: 2, hidden: 4.5, latent: 2 })).toThrowError(/config\.hidden.*got: 4\.5/);
    expect(() => new LstmVae({ mode: 'images' as never, hidden: 4, latent: 2 })).toThrowError(/config\.mode/);
    expect(() => new LstmVae({ mode: 'tokens', vocabSize: 10, embedding: 4, hidden: 4, latent: 2, wordDropout: 1.5 })).toThrowError(
      /wordDropout/,
    );
  });
  it('shape, data and option errors', async () => {
    const m = new LstmVae({ features: 2, hidden: 4, latent: 2 });
    expect(() => m.lossAndGradients({ data: new Float32Array(12), shape: [2, 2, 3] })).toThrowError(
      /3 features per step but the model takes 2/,
    );
    expect(() => m.lossAndGradients({ data: new Float32Array(11), shape: [2, 3, 2] })).toThrowError(ShapeError);
    expect(() => m.encode({ data: new Float32Array(0), shape: [0, 3, 2] })).toThrowError(DataError);
    expect(() => m.encode({ data: new Float32Array([1, NaN, 0, 0]), shape: [1, 2, 2] })).toThrowError(/non-finite value at \[0, 0, 1\]/);
    expect(() => m.encode({ data: new Float32Array(0), shape: [1, 0, 2] })).toThrowError(/no time steps/);
    const x = { data: new Float32Array(8), shape: [2, 2, 2] };
    expect(() => m.lossAndGradients(x, { eps: new Float32Array(3) })).toThrowError(/eps must hold B·Z = 4 values/);
    expect(() => m.lossAndGradients({ ...x, lengths: [1, 3] })).toThrowError(/lengths\[1\] = 3 is outside 1\.\.T/);
    expect(() => m.decode({ data: new Float32Array(3), shape: [1, 3] } as never, 4)).toThrowError(ShapeError);
    await expect(m.fit({ data: new Float32Array(8), shape: [2, 2, 2] }, { batchSize: 0 })).rejects.toThrowError(/batchSize/);
    expect(() => m.anomalyScores({ data: new Float32Array(8), shape: [2, 2, 2] }, { method: 'magic' as never })).toThrowError(ConfigError);
    expect(() => new Optimizer('adam', { lr: -1 })).toThrowError(/lr is out of range/);
    const t = new LstmVae({ mode: 'tokens', vocabSize: 6, embedding: 2, hidden: 4, latent: 2 });
    const ids = { data: Int32Array.from([1, 9]), shape: [1, 2], lengths: [2] };
    expect(() => t.lossAndGradients(ids)).toThrowError(/token id 9 at \[0, 1\], outside the vocabulary/);
    expect(() => CharTokenizer.fit(['ab']).encode('abc', true)).toThrowError(/unknown character "c"/);
    m.dispose();
    t.dispose();
  });
  it('a disposed model says so', () => {
    const m = new LstmVae({ features: 2, hidden: 4, latent: 2 });
    m.dispose();
    expect(() => m.encode({ data: new Float32Array(4), shape: [1, 2, 2] })).toThrowError(BackendError);
  });
});
