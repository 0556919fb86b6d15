// The diagnostics must fire on the failure the issue reported (a model that learnt each window's level, not its
// shape: the old CLI recipe on a seasonal series with a trend) and stay quiet on the detector's default model.
import { beforeAll, describe, expect, it } from 'vitest';
import { AnomalyDetector, diagnose, init, LstmVae, windows } from '../dist/index.node.js';
import { synthetic } from '../src/data/synthetic.js';
import { COVERAGE_WARNING, coverageWarning } from '../src/detect/diagnostics.js';
import { Rng } from '../src/core/rng.js';

describe('diagnostics', () => {
  beforeAll(async () => {
    await init();
  });

  // a seasonal series (period 50) with a rising trend and spikes, 1,000 points
  const s = synthetic(7, { n: 1000, period: 50, kinds: ['spike'], anomalies: 5, trend: 3, noise: 0.05 });
  const x = Float32Array.from(s.data);

  it('fire on the old recipe: global min-max, windows of 100 every 10, 20 epochs at β = 1', async () => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of x) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const scaled = Float32Array.from(x, (v) => (2 * (v - lo)) / (hi - lo) - 1);
    const w = windows({ data: scaled, shape: [x.length, 1] }, 100, 10);
    const m = new LstmVae({ mode: 'continuous', features: 1, hidden: 32, latent: 8, layers: 1, seed: 1 });
    await m.fit(w, { epochs: 20, batchSize: 32, learningRate: 1e-3, clipNorm: 5 });
    const dg = diagnose(m, w);
    m.dispose();
    expect(dg.notLearnt, dg.message).toBe(true);
    expect(dg.message).toMatch(/not learnt the shape|collapsed/);
  });

  it('stay quiet on the detector trained with its defaults, whose reconstructions follow the shape', async () => {
    const det = await AnomalyDetector.fit(x);
    const dg = det.diagnostics;
    det.dispose();
    expect(dg.notLearnt, dg.message).toBe(false);
    expect(dg.modelError).toBeLessThan(0.3 * dg.meanError);
    expect(dg.activeDimensions).toBeGreaterThan(0);
  });

  // A model that reconstructs every window as its own mean (no better than the trivial reconstruction): the advice
  // depends on whether the windows have a shape to learn.
  const meanModel = {
    reconstruct(x: { data: Float32Array; shape: number[] }) {
      const [b, t] = x.shape;
      const y = new Float32Array(x.data.length);
      for (let k = 0; k < b; k++) {
        let m = 0;
        for (let s = 0; s < t; s++) m += x.data[k * t + s];
        y.fill(m / t, k * t, (k + 1) * t);
      }
      return y;
    },
    encode(x: { data: Float32Array; shape: number[] }) {
      return { mu: new Float32Array(x.shape[0] * 2).fill(1), logvar: new Float32Array(x.shape[0] * 2) };
    },
  };
  const windowsOf = (f: (i: number) => number) => {
    const [b, t] = [40, 64];
    return { data: Float32Array.from({ length: b * t }, (_, i) => f(i)), shape: [b, t, 1] as [number, number, number] };
  };

  it('say that noise-like windows may have no shape to learn, rather than "train longer"', () => {
    const g = new Rng(3);
    const dg = diagnose(
      meanModel,
      windowsOf(() => g.normal()),
    );
    expect(dg.notLearnt).toBe(true);
    expect(dg.lastValueError / 63).toBeGreaterThan(dg.meanError / 64);
    expect(dg.message).toMatch(/look like noise around their level/);
    expect(dg.message).not.toMatch(/train longer/);
  });

  it('keep "train longer" when the windows have a shape the model missed', () => {
    const g = new Rng(4);
    const dg = diagnose(
      meanModel,
      windowsOf((i) => Math.sin((2 * Math.PI * i) / 50) + 0.05 * g.normal()),
    );
    expect(dg.notLearnt).toBe(true);
    expect(dg.message).toMatch(/train longer/);
    expect(dg.message).not.toMatch(/noise/);
  });

  it('fit sets history.diagnostics on its validation sequences: quiet when the model learnt the shape, firing when not', async () => {
    // sines of period 24 and random phase over windows of 48: a shape to learn
    const g = new Rng(5);
    const n = 200;
    const t = 48;
    const data = new Float32Array(n * t);
    for (let k = 0; k < n; k++) {
      const ph = g.uniform(0, 2 * Math.PI);
      for (let s = 0; s < t; s++) data[k * t + s] = Math.sin(ph + (2 * Math.PI * s) / 24) + 0.05 * g.normal();
    }
    const x = { data, shape: [n, t, 1] as [number, number, number] };
    const good = new LstmVae({ mode: 'continuous', features: 1, hidden: 32, latent: 4, layers: 1, seed: 2 });
    // Adam: with this short budget (patience 150 steps) AdamW, fit's convergent default, stopped on the early plateau
    // in one seed of two (seed 2: 540 steps, error 0.89 of the mean's; Adam 0.01); with the default budget both learn
    const h = await good.fit(x, { maxSteps: 1500, learningRate: 5e-3, optimizer: 'adam' });
    const dg = h.diagnostics;
    expect(dg, 'fit without epochs holds out validation data, so it diagnoses').toBeDefined();
    expect(dg!.notLearnt, dg!.message).toBe(false);
    expect(dg!.modelError).toBeLessThan(0.5 * dg!.meanError);
    expect(dg!.message).toMatch(/^learnt: reconstruction error \d+% of the window mean's/);
    // the same numbers as diagnose() on the validation split (the last 10 % of the sequences)
    const val = { data: data.slice((n - 20) * t), shape: [20, t, 1] as [number, number, number] };
    expect(diagnose(good, val).modelError).toBeCloseTo(dg!.modelError, 4);
    good.dispose();
    // three steps: the model has learnt nothing yet, and fit's hint is its own options, not the detector's
    const raw = new LstmVae({ mode: 'continuous', features: 1, hidden: 32, latent: 4, layers: 1, seed: 2 });
    const h0 = await raw.fit(x, { maxSteps: 3 });
    expect(h0.diagnostics!.notLearnt).toBe(true);
    expect(h0.diagnostics!.message).toMatch(/has not learnt the shape.*train longer \(a larger maxSteps, or more epochs\)$/);
    // no validation data (epochs, no split): nothing measured
    const h1 = await raw.fit(x, { epochs: 1 });
    expect(h1.diagnostics).toBeUndefined();
    raw.dispose();
  }, 120_000);

  it('sequences of several lengths: only their real steps count, not the padding', () => {
    // a perfect model (reconstructs its input) on 3 sequences of lengths 5, 2 and 4 in [3, 5, 1], padding 1000
    const lengths = Int32Array.from([5, 2, 4]);
    const real = [
      [1, 2, 3, 4, 5],
      [2, -2],
      [0, 1, 0, 1],
    ];
    const data = new Float32Array(15).fill(1000);
    real.forEach((r, k) => data.set(r, k * 5));
    const perfect = {
      reconstruct: (x: { data: Float32Array }) => Float32Array.from(x.data),
      encode: (x: { shape: number[] }) => ({ mu: new Float32Array(x.shape[0]).fill(1), logvar: new Float32Array(x.shape[0]) }),
    };
    const dg = diagnose(perfect, { data, shape: [3, 5, 1], lengths });
    const sq = (r: number[]) => {
      const m = r.reduce((a, v) => a + v, 0) / r.length;
      return r.reduce((a, v) => a + (v - m) ** 2, 0);
    };
    const lastValue = (r: number[]) => r.slice(1).reduce((a, v, i) => a + (v - r[i]) ** 2, 0);
    expect(dg.modelError).toBe(0);
    expect(dg.meanError).toBeCloseTo(real.reduce((a, r) => a + sq(r), 0) / 3, 10);
    expect(dg.lastValueError).toBeCloseTo(real.reduce((a, r) => a + lastValue(r), 0) / 3, 10);
    expect(dg.notLearnt).toBe(false);
  });

  it('many windows: measured 512 at a time (the same figures as one pass), at most 4,096 of them evenly spaced', () => {
    const g = new Rng(9);
    const t = 8;
    // a model whose posterior mean is each window's first value, and whose reconstruction is the input halved
    const fake = {
      calls: 0,
      reconstruct(x: { data: Float32Array; shape: number[] }) {
        this.calls++;
        return Float32Array.from(x.data, (v) => v / 2);
      },
      encode(x: { data: Float32Array; shape: number[] }) {
        return { mu: Float32Array.from({ length: x.shape[0] }, (_, k) => x.data[k * t]), logvar: new Float32Array(x.shape[0]) };
      },
    };
    const want = (data: Float32Array, b: number) => {
      let model = 0;
      let kl = 0;
      for (let k = 0; k < b; k++) {
        for (let s = 0; s < t; s++) model += (data[k * t + s] / 2) ** 2;
        kl += 0.5 * data[k * t] ** 2;
      }
      return [model / b, kl / b];
    };
    const b = 1300;
    const data = Float32Array.from({ length: b * t }, () => g.normal());
    const dg = diagnose(fake, { data, shape: [b, t, 1] });
    expect(fake.calls).toBe(3);
    const [model, kl] = want(data, b);
    expect(dg.modelError).toBeCloseTo(model, 6);
    expect(dg.klPerDimension[0]).toBeCloseTo(kl, 6);
    // 10,000 windows: the 4,096 at floor(i · 10000 / 4096)
    const big = Float32Array.from({ length: 10_000 * t }, () => g.normal());
    fake.calls = 0;
    const dgBig = diagnose(fake, { data: big, shape: [10_000, t, 1] });
    expect(fake.calls).toBe(8);
    const picked = new Float32Array(4096 * t);
    for (let i = 0; i < 4096; i++)
      picked.set(big.subarray(Math.floor((i * 10_000) / 4096) * t, (Math.floor((i * 10_000) / 4096) + 1) * t), i * t);
    const [modelBig, klBig] = want(picked, 4096);
    expect(dgBig.modelError).toBeCloseTo(modelBig, 6);
    expect(dgBig.klPerDimension[0]).toBeCloseTo(klBig, 6);
  });

  it('warn when the anomalous rows are half of a series or more, and not below', () => {
    const rows = (flagged: number, n = 1000) => Uint8Array.from({ length: n }, (_, i) => (i < flagged ? 1 : 0));
    expect(COVERAGE_WARNING).toBe(0.5);
    expect(coverageWarning(rows(499), true)).toBeUndefined();
    expect(coverageWarning(rows(370), false)).toBeUndefined();
    expect(coverageWarning(rows(0, 0), true)).toBeUndefined();
    const t = coverageWarning(rows(890), true);
    expect(t).toMatch(/cover 89% of the training series \(890 of 1000 rows\)/);
    expect(t).toMatch(/--window/);
    expect(coverageWarning(rows(500), false)).toMatch(/cover 50% of the scored rows \(500 of 1000\)/);
  });
});
