// Reduce-on-plateau in convergent training (issue 15, opt-in): the learning rate halves when the validation loss stalls,
// early stopping still counts from the best evaluation, checkpoints resume it exactly; explicit epochs unaffected.
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type EpochStats, FormatError, init, LstmVae } from '../dist/index.node.js';
import { sameBits } from './shared/numeric.js';
import { headerLength, rawSafetensors } from './shared/safetensors-bytes.js';
import { sines } from './shared/sines.js';

beforeAll(async () => {
  await init();
});

const small = (seed = 1) => new LstmVae({ features: 2, hidden: 8, latent: 2, seed });

/** The rule replayed on a run's validation losses: the multiplier each epoch trained with. */
function expectedScales(valLosses: number[], patience: number, factor: number, minScale: number): number[] {
  const out: number[] = [];
  let scale = 1,
    wait = 0,
    best = Infinity;
  for (const v of valLosses) {
    out.push(scale);
    if (v < best) {
      best = v;
      wait = 0;
    } else if (++wait >= patience && scale > minScale) {
      scale = Math.max(minScale, scale * factor);
      wait = 0;
    }
  }
  return out;
}

describe('reduce-on-plateau (convergent fit)', () => {
  it('a stalled validation loss halves the learning rate; the run stops `patience` epochs after its best', async () => {
    // a learning rate so small that the weights hardly move: the validation loss is a plateau (noise of z only)
    const m = small(3);
    const lr = 1e-7;
    const lrs: number[][] = [];
    const h = await m.fit(sines(50, 8, 2), {
      maxSteps: 5000,
      batchSize: 9,
      learningRate: lr,
      patience: 12,
      reduceLrOnPlateau: { patience: 2, minLr: lr / 8 },
      onBatchEnd: (s) => void (lrs[s.epoch] ??= []).push(s.learningRate),
    });
    expect(h.stopped).toBe('converged');
    expect(h.epochs.length - 1 - h.bestEpoch!).toBe(12);
    const want = expectedScales(
      h.epochs.map((e) => e.valLoss!),
      2,
      0.5,
      1 / 8,
    );
    h.epochs.forEach((e, i) => {
      // every batch of the epoch trained with the rate of the rule, and the epoch reports it
      for (const v of lrs[i]) expect(v).toBe(lr * want[i]);
      expect(e.learningRate).toBe(lr * want[i]);
    });
    // it did reduce, down to the floor and not below
    expect(Math.min(...want)).toBe(1 / 8);
    expect(h.trainerState!.plateau!.scale).toBe(1 / 8);
    m.dispose();
  });

  it('true: the default factor, patience (a quarter of early stopping) and floor (lr / 64)', async () => {
    const m = small(5);
    const lr = 1e-7;
    const h = await m.fit(sines(50, 8, 4), { maxSteps: 5000, batchSize: 9, learningRate: lr, patience: 12, reduceLrOnPlateau: true });
    expect(h.stopped).toBe('converged');
    const want = expectedScales(
      h.epochs.map((e) => e.valLoss!),
      3,
      0.5,
      1 / 64,
    );
    h.epochs.forEach((e, i) => expect(e.learningRate).toBe(lr * want[i]));
    expect(Math.min(...want)).toBeLessThan(1);
    m.dispose();
  });

  it('off by default (and with false): the learning rate stays constant', async () => {
    for (const extra of [{}, { reduceLrOnPlateau: false }]) {
      const m = small(5);
      const h = await m.fit(sines(50, 8, 4), { maxSteps: 5000, batchSize: 9, learningRate: 1e-7, patience: 12, ...extra });
      expect(h.stopped).toBe('converged');
      expect(h.epochs.length - 1 - h.bestEpoch!).toBe(12);
      for (const e of h.epochs) expect(e.learningRate).toBe(1e-7);
      expect(h.trainerState!.plateau).toBeUndefined();
      m.dispose();
    }
  });

  it('a checkpoint resumes the reduced rate exactly (same weights, bit for bit)', async () => {
    const x = sines(50, 8, 7);
    const opts = { maxSteps: 400, batchSize: 9, learningRate: 3e-2, patience: 40, reduceLrOnPlateau: { patience: 1 } };
    const a = small(7);
    const ha = await a.fit(x, opts);
    expect(Math.min(...ha.epochs.map((e) => e.learningRate))).toBeLessThan(3e-2); // it reduced during the run
    const b = small(7);
    const cks: Uint8Array[] = [];
    const ac = new AbortController();
    let reducedAt = -1;
    await b.fit(x, {
      ...opts,
      checkpointEvery: 1,
      onCheckpoint: (bytes) => void cks.push(bytes),
      signal: ac.signal,
      onEpochEnd: (s: EpochStats) => {
        if (reducedAt < 0 && s.epoch > 0 && s.learningRate < 3e-2) reducedAt = s.epoch;
        if (reducedAt >= 0 && s.epoch === reducedAt + 2) ac.abort();
      },
    });
    const c = small(7);
    const hc = await c.fit(x, { ...opts, learningRate: undefined, resumeFrom: cks[cks.length - 1] });
    expect(hc.steps).toBe(ha.steps);
    expect(hc.epochs.map((e) => e.learningRate)).toEqual(ha.epochs.map((e) => e.learningRate));
    expect(sameBits(c.weightsSnapshot(), a.weightsSnapshot())).toBe(true);
    for (const m of [a, b, c]) m.dispose();
  }, 120_000);

  it('a checkpoint whose plateau state is malformed is a FormatError', async () => {
    const x = sines(30, 8, 3);
    const m = small(3);
    const cks: Uint8Array[] = [];
    await m.fit(x, { maxSteps: 6, batchSize: 9, reduceLrOnPlateau: true, checkpointEvery: 6, onCheckpoint: (b) => void cks.push(b) });
    const ck = cks[cks.length - 1];
    const n = headerLength(ck);
    const header = JSON.parse(new TextDecoder().decode(ck.subarray(8, 8 + n)));
    const trainer = JSON.parse(header.__metadata__.trainer);
    expect(trainer.plateau).toEqual({ scale: 1, wait: 0 });
    // the rebuilt file itself is fine: a well-formed plateau state resumes
    header.__metadata__.trainer = JSON.stringify({ ...trainer, plateau: { scale: 0.5, wait: 1 } });
    const ok = rawSafetensors(JSON.stringify(header), ck.subarray(8 + n));
    const r = small(3);
    const h = await r.fit(x, { maxSteps: 12, batchSize: 9, reduceLrOnPlateau: true, resumeFrom: ok });
    expect(h.epochs[h.epochs.length - 1].learningRate).toBeLessThanOrEqual(0.5e-3);
    r.dispose();
    for (const bad of [{ scale: 2, wait: 0 }, { scale: 0, wait: 0 }, { scale: 0.5, wait: -1 }, 'x']) {
      header.__metadata__.trainer = JSON.stringify({ ...trainer, plateau: bad });
      const edited = rawSafetensors(JSON.stringify(header), ck.subarray(8 + n));
      await expect(small(3).fit(x, { maxSteps: 12, batchSize: 9, reduceLrOnPlateau: true, resumeFrom: edited })).rejects.toBeInstanceOf(
        FormatError,
      );
    }
    m.dispose();
  });

  it('explicit epochs: the learning rate is untouched, and reduceLrOnPlateau is a ConfigError (false is accepted)', async () => {
    const m = small(8);
    const x = sines(30, 8, 9);
    const lrs: number[] = [];
    const h = await m.fit(x, {
      epochs: 6,
      batchSize: 8,
      learningRate: 1e-7,
      validationSplit: 0.2,
      onBatchEnd: (s) => void lrs.push(s.learningRate),
    });
    expect(h.epochs).toHaveLength(6);
    expect(new Set(lrs)).toEqual(new Set([1e-7]));
    await expect(m.fit(x, { epochs: 1, reduceLrOnPlateau: true })).rejects.toThrow(/goes with convergent training/);
    await expect(m.fit(x, { epochs: 1, reduceLrOnPlateau: { factor: 0.5 } })).rejects.toBeInstanceOf(ConfigError);
    const h2 = await m.fit(x, { epochs: 1, reduceLrOnPlateau: false });
    expect(h2.epochs).toHaveLength(1);
    m.dispose();
  });

  it('bad settings are ConfigErrors before training', async () => {
    const m = small(9);
    const x = sines(20, 8);
    const before = m.weightsSnapshot();
    for (const bad of [{ factor: 1 }, { factor: 0 }, { patience: 0 }, { minLr: -1 }, { step: 2 }, 'yes'] as never[]) {
      await expect(m.fit(x, { maxSteps: 5, reduceLrOnPlateau: bad })).rejects.toBeInstanceOf(ConfigError);
    }
    expect(sameBits(m.weightsSnapshot(), before)).toBe(true);
    m.dispose();
  });
});
