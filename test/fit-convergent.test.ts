// Convergent training (issue 15): `fit` without `epochs` holds out a validation split, stops early on the
// validation loss within a step / time budget and restores the best weights; explicit `epochs` is unchanged.
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError, type EpochStats, init, LstmVae } from '../dist/index.node.js';
import { sameBits } from './shared/numeric.js';
import { sines } from './shared/sines.js';

beforeAll(async () => {
  await init();
});

const small = (seed = 1) => new LstmVae({ features: 2, hidden: 8, latent: 2, seed });

describe('convergent fit (no epochs)', () => {
  it('maxSteps: 5 takes exactly 5 optimizer steps and reports max-steps', async () => {
    const m = small();
    let batches = 0;
    const h = await m.fit(sines(40, 8), { maxSteps: 5, batchSize: 4, onBatchEnd: () => void batches++ });
    expect(h.steps).toBe(5);
    expect(batches).toBe(5);
    expect(h.stopped).toBe('max-steps');
    // the default validation split: 4 of 40 sequences held out, 36 train in batches of 4 (9 per epoch): no epoch ended
    expect(h.epochs).toHaveLength(1);
    expect(h.epochs[0].valLoss).toBeGreaterThan(0);
    m.dispose();
  });

  it('stops by itself within the budget, and the stop reason matches the budget', async () => {
    const m = small(2);
    const maxSteps = 300;
    const h = await m.fit(sines(60, 8, 3), { maxSteps, batchSize: 8, learningRate: 1e-2, patience: 2 });
    expect(['converged', 'max-steps', 'max-seconds']).toContain(h.stopped);
    expect(h.steps).toBeLessThanOrEqual(maxSteps);
    if (h.stopped === 'max-steps') expect(h.steps).toBe(maxSteps);
    if (h.stopped === 'converged') {
      // the last `patience` epochs did not improve on the best one
      expect(h.bestEpoch).toBe(h.epochs.length - 1 - 2);
      const best = h.epochs[h.bestEpoch!].valLoss!;
      for (const e of h.epochs.slice(h.bestEpoch! + 1)) expect(e.valLoss!).toBeGreaterThanOrEqual(best);
      expect(h.steps).toBeLessThan(maxSteps);
    }
    // every epoch was validated on the default 10 % split
    for (const e of h.epochs) expect(Number.isFinite(e.valLoss)).toBe(true);
    m.dispose();
  });

  it('with klAnnealing, the validation loss is at the final β, so that early stopping compares like with like', async () => {
    const m = small(4);
    const beta = 0.8;
    const h = await m.fit(sines(50, 8, 4), {
      maxSteps: 200,
      batchSize: 9,
      learningRate: 1e-2,
      beta,
      klAnnealing: { type: 'linear', steps: 150 },
      emaDecay: 0,
    });
    const warm = h.epochs.filter((e) => e.beta < beta);
    expect(warm.length).toBeGreaterThan(5); // epochs inside the warm-up, trained at a smaller β
    for (const e of h.epochs) expect(e.valLoss!).toBeCloseTo(e.valRecon! + beta * e.valKl!, 4);
    // the restored weights' validation loss is the best epoch's, recomputed at the final β
    expect(h.epochs[h.bestEpoch!].valLoss!).toBe(Math.min(...h.epochs.map((e) => e.valLoss!)));
    m.dispose();
  });

  it('with klAnnealing and the training loss monitored, early stopping compares the loss at the final β', async () => {
    const m = small(5);
    const beta = 1;
    const h = await m.fit(sines(48, 8, 5), {
      epochs: 40,
      batchSize: 8,
      learningRate: 1e-2,
      beta,
      klAnnealing: { type: 'linear', steps: 200 },
      earlyStopping: { patience: 40, monitor: 'loss' },
    });
    const atBeta = h.epochs.map((e) => e.recon + beta * e.kl);
    const argmin = (v: number[]) => v.indexOf(Math.min(...v));
    expect(h.bestEpoch).toBe(argmin(atBeta));
    // the reported loss (at the β of the moment) would have picked another epoch: the test can tell the two apart
    expect(argmin(h.epochs.map((e) => e.loss))).not.toBe(argmin(atBeta));
    m.dispose();
  });

  it('the default patience is a tenth of the step budget (at least 150 steps), in epochs', async () => {
    // 45 training sequences in batches of 9: 5 steps per epoch; maxSteps 2000 → 200 steps → 40 epochs
    const m = small(6);
    const h = await m.fit(sines(50, 8, 6), { maxSteps: 2000, batchSize: 9, learningRate: 3e-2, beta: 0.5 });
    expect(h.stopped).toBe('converged');
    expect(h.epochs.length - 1 - h.bestEpoch!).toBe(40);
    // maxSteps 1000 → a tenth is 100 steps, below the floor of 150 steps → 30 epochs
    const m2 = small(6);
    const h2 = await m2.fit(sines(50, 8, 6), { maxSteps: 1000, batchSize: 9, learningRate: 3e-2, beta: 0.5 });
    expect(h2.stopped).toBe('converged');
    expect(h2.epochs.length - 1 - h2.bestEpoch!).toBe(30);
  }, 120_000);

  it('early stopping restores the best weights: the validation loss after fit is the best one in history', async () => {
    const m = small(4);
    const x = sines(50, 8, 5);
    const batchSize = 8;
    const beta = 0.5;
    // without averaged weights (emaDecay 0) the weights validated are the optimizer's
    // the generator state before each epoch's validation (after its last batch), and the weights after it
    const rngBeforeVal: number[][] = [];
    const weights: Float32Array[] = [];
    const h = await m.fit(x, {
      maxSteps: 2000,
      batchSize,
      beta,
      learningRate: 3e-2,
      patience: 1,
      emaDecay: 0,
      onBatchEnd: (s) => {
        rngBeforeVal[s.epoch] = m.rng.getState();
      },
      onEpochEnd: (s: EpochStats) => {
        weights[s.epoch] = m.weightsSnapshot();
      },
    });
    expect(h.stopped).toBe('converged');
    const best = h.bestEpoch!;
    expect(best).toBe(h.epochs.length - 2); // patience 1: the epoch after the best one did not improve
    const bestLoss = Math.min(...h.epochs.map((e) => e.valLoss!));
    expect(h.epochs[best].valLoss).toBe(bestLoss);
    // the weights are those of the best epoch, not of the last one
    expect(sameBits(m.weightsSnapshot(), weights[best])).toBe(true);
    expect(sameBits(m.weightsSnapshot(), weights[h.epochs.length - 1])).toBe(false);
    // the held-out split is the last 10 % (5 sequences); replaying the best epoch's validation noise gives its loss
    const T = 8,
      D = 2,
      nVal = 5,
      nTrain = 45;
    m.rng.setState(rngBeforeVal[best]);
    let sum = 0;
    for (let s = 0; s < nVal; s += batchSize) {
      const b = Math.min(nVal, s + batchSize) - s;
      const data = x.data.slice((nTrain + s) * T * D, (nTrain + s + b) * T * D);
      sum += m.evaluate({ data, shape: [b, T, D] }, { beta }).loss * b;
    }
    expect(Math.abs(sum / nVal - bestLoss)).toBeLessThanOrEqual(1e-5 * Math.abs(bestLoss));
    m.dispose();
  });

  it('by default validation measures the averaged weights, and early stopping keeps the best average', async () => {
    const m = small(4);
    const x = sines(50, 8, 5);
    const [batchSize, beta, decay] = [8, 0.5, 0.99];
    // the average computed here in float64 from the optimizer's weights after every step
    const avg = Float64Array.from(m.weightsSnapshot());
    let n = 0;
    const avgAtEpochEnd: Float64Array[] = [];
    const liveAtEpochEnd: Float32Array[] = [];
    const rngBeforeVal: number[][] = [];
    const h = await m.fit(x, {
      maxSteps: 2000,
      batchSize,
      beta,
      learningRate: 3e-2,
      patience: 1,
      onBatchEnd: (s) => {
        const w = m.weightsSnapshot();
        const d = Math.min(decay, (1 + n) / (10 + n));
        for (let i = 0; i < w.length; i++) avg[i] += (1 - d) * (w[i] - avg[i]);
        n++;
        rngBeforeVal[s.epoch] = m.rng.getState();
      },
      onEpochEnd: (s: EpochStats) => {
        avgAtEpochEnd[s.epoch] = avg.slice();
        liveAtEpochEnd[s.epoch] = m.weightsSnapshot();
      },
    });
    expect(h.stopped).toBe('converged');
    expect(n).toBe(h.steps);
    const best = h.bestEpoch!;
    const got = m.weightsSnapshot();
    // the model holds the average at the best epoch (float32 steps: within 1e-5 of the float64 average) ...
    let worst = 0;
    for (let i = 0; i < got.length; i++)
      worst = Math.max(worst, Math.abs(got[i] - avgAtEpochEnd[best][i]) / (1e-3 + Math.abs(avgAtEpochEnd[best][i])));
    expect(worst).toBeLessThan(1e-4);
    // ... not the optimizer's weights of that epoch
    expect(sameBits(got, liveAtEpochEnd[best])).toBe(false);
    // and replaying the best epoch's validation noise on it gives the best validation loss
    const bestLoss = Math.min(...h.epochs.map((e) => e.valLoss!));
    expect(h.epochs[best].valLoss).toBe(bestLoss);
    const [T, D, nVal, nTrain] = [8, 2, 5, 45];
    m.rng.setState(rngBeforeVal[best]);
    const data = x.data.slice(nTrain * T * D, (nTrain + nVal) * T * D);
    const replay = m.evaluate({ data, shape: [nVal, T, D] }, { beta }).loss;
    expect(Math.abs(replay - bestLoss)).toBeLessThanOrEqual(1e-5 * Math.abs(bestLoss));
    m.dispose();
  });

  it('emaDecay with epochs: training ends with the average; without it, with the optimizer weights', async () => {
    const x = sines(24, 8, 2);
    for (const emaDecay of [0.9, undefined]) {
      const m = small(5);
      const avg = Float64Array.from(m.weightsSnapshot());
      let n = 0;
      let last: Float32Array = new Float32Array(0);
      await m.fit(x, {
        epochs: 3,
        batchSize: 8,
        learningRate: 1e-2,
        ...(emaDecay === undefined ? {} : { emaDecay }),
        onBatchEnd: () => {
          last = m.weightsSnapshot();
          const d = Math.min(emaDecay ?? 0, (1 + n) / (10 + n));
          for (let i = 0; i < last.length; i++) avg[i] += (1 - d) * (last[i] - avg[i]);
          n++;
        },
      });
      expect(n).toBe(9);
      const got = m.weightsSnapshot();
      if (emaDecay === undefined) expect(sameBits(got, last)).toBe(true);
      else {
        expect(sameBits(got, last)).toBe(false);
        for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - avg[i])).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(avg[i]));
      }
      m.dispose();
    }
  });

  it('an emaDecay outside [0, 1) is a ConfigError before training', async () => {
    const m = small(3);
    const before = m.weightsSnapshot();
    for (const emaDecay of [1, -0.1, Number.NaN, '0.9' as unknown as number])
      await expect(m.fit(sines(20, 8), { maxSteps: 5, emaDecay })).rejects.toThrowError(/emaDecay must be a number in \[0, 1\)/);
    expect(sameBits(m.weightsSnapshot(), before)).toBe(true);
    m.dispose();
  });

  it('maxSeconds: 0.2 stops on time', async () => {
    const m = new LstmVae({ features: 2, hidden: 32, latent: 4, seed: 6 });
    const t0 = performance.now();
    const h = await m.fit(sines(400, 32, 7), { maxSteps: 1_000_000, maxSeconds: 0.2, patience: 1000, batchSize: 16 });
    const seconds = (performance.now() - t0) / 1000;
    expect(h.stopped).toBe('max-seconds');
    expect(h.steps).toBeGreaterThan(0);
    expect(h.steps).toBeLessThan(1_000_000);
    // 0.2 s of steps, then at most one more step and one validation pass (a busy machine gets slack)
    expect(seconds).toBeGreaterThanOrEqual(0.2);
    expect(seconds).toBeLessThan(3);
    m.dispose();
  });
});

describe('fit with explicit epochs', () => {
  it('runs exactly that many epochs on all the data', async () => {
    const m = small(8);
    let batches = 0;
    const h = await m.fit(sines(30, 8, 9), { epochs: 3, batchSize: 8, onBatchEnd: () => void batches++ });
    expect(h.epochs).toHaveLength(3);
    expect(h.stopped).toBe('epochs');
    expect(batches).toBe(3 * 4); // no validation split: 30 sequences in 4 batches per epoch
    expect(h.steps).toBe(12);
    expect(h.epochs[0].valLoss).toBeUndefined();
    m.dispose();
  });

  it('maxSteps, maxSeconds or patience together with epochs is a ConfigError', async () => {
    const m = small(9);
    const x = sines(10, 8);
    const before = m.weightsSnapshot();
    for (const extra of [{ maxSteps: 5 }, { maxSeconds: 1 }, { patience: 2 }]) {
      const p = m.fit(x, { epochs: 2, ...extra });
      await expect(p).rejects.toThrow(ConfigError);
      await expect(p).rejects.toThrow(/goes with convergent training/);
    }
    expect(sameBits(m.weightsSnapshot(), before)).toBe(true); // nothing trained
    m.dispose();
  });
});

describe('fit options', () => {
  it('rejects an unknown option with a ConfigError naming the closest one, before training', async () => {
    await init();
    const m = new LstmVae({ mode: 'continuous', features: 1, hidden: 4, latent: 2, layers: 1, seed: 1 });
    const before = m.toSafetensors();
    const x = { data: new Float32Array(4 * 5).fill(0.5), shape: [4, 5, 1] as [number, number, number] };
    await expect(m.fit(x, { epoch: 1 } as never)).rejects.toThrow(/unknown option epoch; did you mean epochs\?/);
    await expect(m.fit(x, { epoch: 1 } as never)).rejects.toBeInstanceOf(ConfigError);
    expect(m.toSafetensors()).toEqual(before);
    m.dispose();
  });

  it('keeps the error class names (they survive a minifier)', () => {
    expect(new ConfigError('x').name).toBe('ConfigError');
    expect(new DataError('x').name).toBe('DataError');
  });
});
