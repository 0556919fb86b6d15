// Training checkpoints: an interrupted run resumed from a checkpoint ends with the same weights,
// bit for bit, as a run that was never interrupted (mid-epoch, at epoch ends, every kind of state).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  init,
  LstmVae,
  Optimizer,
  CharTokenizer,
  decodeSafetensors,
  readCheckpoint,
  ConfigError,
  DataError,
  FormatError,
  type FitOptions,
  type LstmVaeConfig,
} from '../dist/index.node.js';
import { removeTmpDirs, tmpDir } from './shared/node.js';
import { sines } from './shared/sines.js';
import { sameBits } from './shared/numeric.js';

const NAMES = [
  'anna',
  'bob',
  'carla',
  'dmitri',
  'eve',
  'fatima',
  'gus',
  'hana',
  'ivan',
  'jo',
  'kemal',
  'lea',
  'mo',
  'nina',
  'otto',
  'pia',
  'quinn',
  'rosa',
  'sven',
  'tara',
  'ute',
];

/** The weights whose bits differ between two models. */
function differingWeights(a: LstmVae, b: LstmVae): string[] {
  const wa = a.stateDict(),
    wb = b.stateDict();
  return Object.keys(wa).filter((k) => !sameBits(wa[k].data, wb[k].data));
}

/** Epoch statistics without the timing fields. */
const stats = (h: { epochs: Record<string, number>[] }) => h.epochs.map(({ seconds: _s, seqPerSec: _q, ...rest }) => rest);

interface Case {
  name: string;
  config: LstmVaeConfig;
  data: () => unknown;
  options: FitOptions;
}

const CASES: Case[] = [
  {
    name: 'continuous, Adam, cosine schedule, warm-up, KL annealing, clipping, validation split',
    config: { features: 2, hidden: 8, latent: 3, layers: 2, seed: 7 },
    data: () => sines(45, 10, 3),
    options: {
      epochs: 4,
      batchSize: 8,
      learningRate: 5e-3,
      schedule: { type: 'cosine' },
      warmupSteps: 3,
      klAnnealing: { type: 'linear', steps: 10 },
      clipNorm: 1,
      validationSplit: 0.2,
    },
  },
  {
    name: 'continuous autoregressive, AdamW, step schedule, no shuffle',
    config: { features: 2, hidden: 6, latent: 2, decoder: 'autoregressive', seed: 2 },
    data: () => sines(20, 8, 5),
    options: {
      epochs: 3,
      batchSize: 6,
      optimizer: 'adamw',
      learningRate: 3e-3,
      schedule: { type: 'step', stepSize: 4, gamma: 0.5 },
      shuffle: false,
    },
  },
  {
    name: 'token model with word dropout, SGD with Nesterov momentum, free bits',
    config: { mode: 'tokens', vocabSize: 30, embedding: 4, hidden: 8, latent: 3, wordDropout: 0.3, seed: 9 },
    data: () => {
      const tok = CharTokenizer.fit(NAMES);
      return tok.encodeBatch(NAMES);
    },
    options: {
      epochs: 3,
      batchSize: 4,
      optimizer: 'sgd',
      optimizerOptions: { momentum: 0.9, nesterov: true },
      learningRate: 0.05,
      freeBits: 0.1,
    },
  },
  {
    name: 'RMSProp with momentum, early stopping with restoreBest',
    config: { features: 2, hidden: 6, latent: 2, seed: 4 },
    data: () => sines(30, 6, 8),
    options: {
      epochs: 6,
      batchSize: 7,
      optimizer: 'rmsprop',
      optimizerOptions: { momentum: 0.5 },
      learningRate: 0.02,
      validationSplit: 0.2,
      earlyStopping: { patience: 2, minDelta: 0.5 },
    },
  },
];

afterAll(removeTmpDirs);
beforeAll(async () => {
  await init();
});

/** fit options that abort training (through an AbortSignal) right after step `k`. */
function abortAfter(k: number) {
  const ac = new AbortController();
  return {
    signal: ac.signal,
    onBatchEnd: (s: { step: number }) => {
      if (s.step === k) ac.abort();
    },
  };
}

async function uninterrupted(c: Case) {
  const m = new LstmVae(c.config);
  const h = await m.fit(c.data() as never, c.options);
  return { m, h };
}

describe('checkpoint contents', () => {
  it('holds the weights, optimizer.<key>.<slot> tensors, the optimizer JSON and the trainer state', async () => {
    const m = new LstmVae({ features: 2, hidden: 4, latent: 2, seed: 1 });
    const opt = new Optimizer('adam', { lr: 1e-2 });
    const seen: Uint8Array[] = [];
    const h = await m.fit(sines(10, 5), {
      epochs: 1,
      batchSize: 4,
      optimizer: opt,
      checkpointEvery: 2,
      onCheckpoint: (b) => void seen.push(b),
    });
    expect(seen).toHaveLength(1); // 3 steps: one checkpoint at step 2
    const ck = m.checkpoint(opt, h.trainerState);
    const { metadata, tensors } = decodeSafetensors(ck);
    expect(metadata.format).toBe('lstm-vae');
    expect(metadata.format_version).toBe('1');
    expect(JSON.parse(metadata.config)).toMatchObject({ features: 2, hidden: 4, latent: 2 });
    const o = JSON.parse(metadata.optimizer);
    expect(o).toMatchObject({ name: 'adam', step: 3, options: { lr: 1e-2, betas: [0.9, 0.999] } });
    for (const [key, t] of Object.entries(m.stateDict())) {
      expect(tensors[key].shape).toEqual(t.shape);
      expect(tensors[`optimizer.${key}.exp_avg`].shape).toEqual(t.shape);
      expect(tensors[`optimizer.${key}.exp_avg_sq`].shape).toEqual(t.shape);
    }
    const tr = JSON.parse(metadata.trainer);
    expect(tr).toMatchObject({ version: 1, epoch: 1, batch: 0, step: 3, samples: 10, batchSize: 4, shuffle: true });
    expect(tr.history).toHaveLength(1);
    expect(tr.rng).toHaveLength(4);
    const info = readCheckpoint(seen[0]);
    expect(info.optimizer!.step).toBe(2);
    expect(info.trainerState).toMatchObject({ epoch: 0, batch: 2, step: 2 });
    // the checkpoint is also a model file
    const again = LstmVae.fromSafetensors(ck);
    expect(differingWeights(again, m)).toEqual([]);
    m.dispose();
    again.dispose();
    opt.dispose();
  });
});

describe('resuming gives the uninterrupted run bit for bit', () => {
  for (const c of CASES) {
    it(`${c.name}: from every periodic checkpoint`, async () => {
      const ref = await uninterrupted(c);
      // the same run again, with a checkpoint every 5 steps
      const m = new LstmVae(c.config);
      const cks: Uint8Array[] = [];
      const h = await m.fit(c.data() as never, { ...c.options, checkpointEvery: 5, onCheckpoint: (b) => void cks.push(b) });
      expect(differingWeights(m, ref.m), 'checkpointing changes nothing').toEqual([]);
      expect(stats(h as never)).toEqual(stats(ref.h as never));
      expect(cks.length).toBeGreaterThanOrEqual(2);
      const positions = new Set<string>();
      for (const ck of cks) {
        const st = readCheckpoint(ck).trainerState!;
        positions.add(`${st.epoch}:${st.batch}`);
        const r = LstmVae.fromSafetensors(ck);
        const hr = await r.fit(c.data() as never, { ...c.options, resumeFrom: ck });
        expect(differingWeights(r, ref.m), `resumed at epoch ${st.epoch}, batch ${st.batch}`).toEqual([]);
        expect(stats(hr as never)).toEqual(stats(ref.h as never));
        expect(hr.stopped).toBe(ref.h.stopped);
        expect(hr.bestEpoch).toBe(ref.h.bestEpoch);
        r.dispose();
      }
      // mid-epoch positions are covered
      expect([...positions].some((p) => !p.endsWith(':0'))).toBe(true);
      ref.m.dispose();
      m.dispose();
    });
  }

  it('stopped with an AbortSignal mid-epoch and at an epoch end: model.checkpoint(opt, history.trainerState), resume', async () => {
    const c = CASES[0];
    const ref = await uninterrupted(c);
    const batches = Math.ceil(Math.ceil(45 * 0.8) / 8); // 36 training sequences → 5 batches per epoch
    for (const k of [1, 7, batches, 2 * batches, 13]) {
      const m = new LstmVae(c.config);
      const opt = new Optimizer('adam', { lr: 5e-3 });
      const h = await m.fit(c.data() as never, { ...c.options, optimizer: opt, ...abortAfter(k) });
      expect(h.stopped).toBe('aborted');
      expect(h.trainerState!.step).toBe(k);
      const ck = m.checkpoint(opt, h.trainerState);
      m.dispose();
      opt.dispose();
      const r = LstmVae.fromSafetensors(ck);
      const hr = await r.fit(c.data() as never, { ...c.options, resumeFrom: ck });
      expect(differingWeights(r, ref.m), `stopped at step ${k}`).toEqual([]);
      expect(stats(hr as never)).toEqual(stats(ref.h as never));
      r.dispose();
    }
    ref.m.dispose();
  });

  it('an abort writes a checkpoint when checkpointing is on; resuming into a fresh model of the same config works too', async () => {
    const c = CASES[2];
    const ref = await uninterrupted(c);
    const m = new LstmVae(c.config);
    let last: Uint8Array | undefined;
    await m.fit(c.data() as never, { ...c.options, checkpointEvery: 1000, onCheckpoint: (b) => void (last = b), ...abortAfter(8) });
    expect(readCheckpoint(last!).trainerState).toMatchObject({ step: 8, epoch: 1, batch: 2 });
    // a model with another seed: weights and generator come from the checkpoint
    const fresh = new LstmVae({ ...c.config, seed: 12345 });
    await fresh.fit(c.data() as never, { ...c.options, resumeFrom: last });
    expect(differingWeights(fresh, ref.m)).toEqual([]);
    m.dispose();
    fresh.dispose();
    ref.m.dispose();
  });

  it('a finished run continues for more epochs exactly as one longer run', async () => {
    const config = { features: 2, hidden: 6, latent: 2, seed: 3 };
    const opts = { batchSize: 5, learningRate: 1e-2, validationSplit: 0.25 };
    const long = new LstmVae(config);
    const hl = await long.fit(sines(23, 6), { ...opts, epochs: 5 });
    const short = new LstmVae(config);
    const opt = new Optimizer('adam', { lr: 1e-2 });
    const hs = await short.fit(sines(23, 6), { ...opts, epochs: 2, optimizer: opt });
    const cont = LstmVae.fromSafetensors(short.checkpoint(opt, hs.trainerState));
    const hc = await cont.fit(sines(23, 6), { ...opts, epochs: 5, resumeFrom: short.checkpoint(opt, hs.trainerState) });
    expect(differingWeights(cont, long)).toEqual([]);
    expect(stats(hc as never)).toEqual(stats(hl as never));
    long.dispose();
    short.dispose();
    cont.dispose();
    opt.dispose();
  });

  it('an async iterable resumes mid-epoch by replaying its batches', async () => {
    const config = { features: 2, hidden: 5, latent: 2, seed: 6 };
    const all = sines(24, 6, 4);
    const iterable = {
      async *[Symbol.asyncIterator]() {
        for (let b = 0; b < 4; b++) yield { data: all.data.slice(b * 6 * 6 * 2, (b + 1) * 6 * 6 * 2), shape: [6, 6, 2] };
      },
    };
    const ref = new LstmVae(config);
    await ref.fit(iterable, { epochs: 3, learningRate: 1e-2 });
    const m = new LstmVae(config);
    const cks: Uint8Array[] = [];
    await m.fit(iterable, { epochs: 3, learningRate: 1e-2, checkpointEvery: 3, onCheckpoint: (b) => void cks.push(b) });
    expect(cks).toHaveLength(4);
    for (const ck of cks) {
      const r = LstmVae.fromSafetensors(ck);
      await r.fit(iterable, { epochs: 3, learningRate: 1e-2, resumeFrom: ck });
      expect(differingWeights(r, ref)).toEqual([]);
      r.dispose();
    }
    ref.dispose();
    m.dispose();
  });

  it('checkpointPath writes each checkpoint atomically (Node) and the file resumes', async () => {
    const c = CASES[1];
    const ref = await uninterrupted(c);
    const dir = tmpDir('lstmvae-ck-');
    const path = join(dir, 'run.ckpt.safetensors');
    const m = new LstmVae(c.config);
    let writes = 0;
    const options = { ...c.options, checkpointEvery: 2, checkpointPath: path, onCheckpoint: () => void writes++ };
    await m.fit(c.data() as never, { ...options, ...abortAfter(7) });
    expect(writes).toBe(4); // steps 2, 4, 6 and the abort after step 7
    expect(readdirSync(dir)).toEqual(['run.ckpt.safetensors']);
    const bytes = new Uint8Array(readFileSync(path));
    expect(readCheckpoint(bytes).trainerState!.step).toBe(7);
    const r = LstmVae.fromSafetensors(bytes);
    await r.fit(c.data() as never, { ...c.options, resumeFrom: bytes });
    expect(differingWeights(r, ref.m)).toEqual([]);
    ref.m.dispose();
    m.dispose();
    r.dispose();
  });
});

describe('resume errors', () => {
  it('say what differs', async () => {
    const config = { features: 2, hidden: 4, latent: 2, seed: 1 };
    const m = new LstmVae(config);
    const cks: Uint8Array[] = [];
    const x = sines(12, 5);
    await m.fit(x, { epochs: 1, batchSize: 4, checkpointEvery: 2, onCheckpoint: (b) => void cks.push(b) });
    const ck = cks[0];
    const r = new LstmVae(config);
    await expect(r.fit(x, { epochs: 1, batchSize: 3, resumeFrom: ck })).rejects.toThrowError(/batchSize = 4/);
    await expect(r.fit(sines(13, 5), { epochs: 1, batchSize: 4, resumeFrom: ck })).rejects.toThrowError(DataError);
    await expect(r.fit(x, { epochs: 1, batchSize: 4, optimizer: 'sgd', resumeFrom: ck })).rejects.toThrowError(
      /continues a 'adam' optimizer/,
    );
    await expect(r.fit(x, { epochs: 1, batchSize: 4, learningRate: 0.5, resumeFrom: ck })).rejects.toThrowError(ConfigError);
    // averaged weights: a run resumes with the decay it was made with (0 with epochs unless given)
    await expect(r.fit(x, { epochs: 1, batchSize: 4, emaDecay: 0.9, resumeFrom: ck })).rejects.toThrowError(/emaDecay = 0/);
    const e: Uint8Array[] = [];
    await new LstmVae(config).fit(x, { epochs: 1, batchSize: 4, emaDecay: 0.9, checkpointEvery: 2, onCheckpoint: (b) => void e.push(b) });
    expect(readCheckpoint(e[0]).trainerState!.emaDecay).toBe(0.9);
    await expect(r.fit(x, { epochs: 1, batchSize: 4, resumeFrom: e[0] })).rejects.toThrowError(/emaDecay = 0.9/);
    await expect(r.fit(x, { epochs: 1, batchSize: 4, resumeFrom: m.toSafetensors() })).rejects.toThrowError(/not a checkpoint/);
    await expect(r.fit(x, { epochs: 1, batchSize: 4, resumeFrom: ck.subarray(0, 50) })).rejects.toThrowError(FormatError);
    await expect(r.fit(x, { epochs: 1, batchSize: 4, checkpointEvery: 0 })).rejects.toThrowError(/checkpointEvery/);
    await expect(r.fit(x, { epochs: 1, batchSize: 4, onCheckpoint: () => undefined })).rejects.toThrowError(/need checkpointEvery/);
    const other = new LstmVae({ ...config, hidden: 5 });
    await expect(other.fit(x, { epochs: 1, batchSize: 4, resumeFrom: ck })).rejects.toThrowError(/different model/);
    // a malformed trainer state
    const { metadata, tensors } = decodeSafetensors(ck);
    const { encodeSafetensors } = await import('../dist/index.node.js');
    const broken = encodeSafetensors(tensors, { ...metadata, trainer: '{"version":1,"epoch":-1}' });
    await expect(r.fit(x, { epochs: 1, batchSize: 4, resumeFrom: broken })).rejects.toThrowError(/trainer is malformed/);
    const notJson = encodeSafetensors(tensors, { ...metadata, optimizer: '{oops' });
    await expect(r.fit(x, { epochs: 1, batchSize: 4, resumeFrom: notJson })).rejects.toThrowError(/not valid JSON/);
    // nothing was changed by the failed attempts
    expect(differingWeights(r, new LstmVae(config))).toEqual([]);
    m.dispose();
    r.dispose();
    other.dispose();
  });
});
