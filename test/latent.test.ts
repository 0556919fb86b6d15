// The detector's latent score (src/detect/latent.ts): the statistics of the posterior means, the distances, and how a
// point's score is taken from its windows.
import { beforeAll, describe, expect, it } from 'vitest';
import { AnomalyDetector, type DetectorPlan, decodeSafetensors, encodeSafetensors, init } from '../dist/index.node.js';
import { synthetic } from '../src/data/synthetic.js';
import { interior, latentDistance, latentStats, pointLatentScores, smoothLatent, windowLatentDistances } from '../src/detect/latent.js';
import { mulberry32 } from './shared/numeric.js';

/** `count` correlated Gaussian vectors of `z` values: x = A·g with a fixed mixing A, plus an offset. */
function correlated(count: number, z: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const a = Array.from({ length: z * z }, (_, i) => (i % (z + 1) === 0 ? 1 + (i % 3) : 0.4 * gauss()));
  const out = new Float32Array(count * z);
  const g = new Float64Array(z);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < z; j++) g[j] = gauss();
    for (let r = 0; r < z; r++) {
      let s = 3 - r;
      for (let c = 0; c < z; c++) s += a[r * z + c] * g[c];
      out[i * z + r] = s;
    }
  }
  return out;
}

describe('latent statistics and distances', () => {
  it('the precision inverts the covariance, and the mean distance over the training means is the dimension', () => {
    const z = 6;
    const count = 3000;
    const mu = correlated(count, z, 7);
    const s = latentStats(mu, count, z)!;
    expect(s).not.toBeNull();
    // the covariance, computed directly
    const cov = new Float64Array(z * z);
    for (let i = 0; i < count; i++)
      for (let a = 0; a < z; a++)
        for (let b = 0; b < z; b++) cov[a * z + b] += ((mu[i * z + a] - s.mean[a]) * (mu[i * z + b] - s.mean[b])) / count;
    for (let a = 0; a < z; a++)
      for (let b = 0; b < z; b++) {
        let t = 0;
        for (let k = 0; k < z; k++) t += cov[a * z + k] * s.precision[k * z + b];
        expect(Math.abs(t - (a === b ? 1 : 0))).toBeLessThan(1e-4); // the ridge (1e-6 of the mean variance) is all that differs
      }
    // E[d²] over the sample = trace(P·C) = z (up to the 1e-6 ridge)
    let mean = 0;
    for (let i = 0; i < count; i++) mean += latentDistance(mu, i * z, s, z) / count;
    expect(mean).toBeCloseTo(z, 3);
    // a point 4 standard deviations out along the first axis (others at the mean) has d² = 16 / (1 − R²) ≥ 16
    const far = Float64Array.from(s.mean);
    far[0] += 4 * Math.sqrt(cov[0]);
    expect(latentDistance(far, 0, s, z)).toBeGreaterThanOrEqual(16 - 1e-6);
  });

  it('means that do not spread give no statistics (a collapsed latent: no latent score)', () => {
    const z = 4;
    const mu = new Float32Array(100 * z).fill(0.25);
    expect(latentStats(mu, 100, z)).toBeNull();
  });

  it("a window's distance is its models' mean; a point's the median over its w windows, only where w windows hold it", () => {
    const z = 2;
    const count = 9;
    const mus = [correlated(count, z, 1), correlated(count, z, 2)];
    const stats = mus.map((m) => latentStats(m, count, z)!);
    const win = windowLatentDistances(mus, stats, count, z);
    for (let i = 0; i < count; i++)
      expect(win[i]).toBe((latentDistance(mus[0], i * z, stats[0], z) + latentDistance(mus[1], i * z, stats[1], z)) / 2);
    // n = 12 points, w = 4: windows 0..8; points 3..8 have four windows each
    const n = 12;
    const w = 4;
    const p = pointLatentScores(win, n, w);
    for (let q = 0; q < n; q++) {
      if (q < w - 1 || q > n - w) {
        expect(p[q]).toBe(0);
        continue;
      }
      const s = Array.from(win.subarray(q - w + 1, q + 1)).sort((a, b) => a - b);
      expect(p[q]).toBe((s[1] + s[2]) / 2);
    }
    // smoothing over 3 points: the mean over the neighbours that have a score, NaN elsewhere
    const sm = smoothLatent(p, n, w, 3);
    for (let q = 0; q < n; q++) {
      if (q < w - 1 || q > n - w) {
        expect(sm[q]).toBeNaN();
        continue;
      }
      const lo = Math.max(w - 1, q - 1);
      const hi = Math.min(n - w, q + 1);
      let t = 0;
      for (let k = lo; k <= hi; k++) t += p[k];
      expect(sm[q]).toBeCloseTo(t / (hi - lo + 1), 12);
    }
    expect(Array.from(interior(p, n, w))).toEqual(Array.from(p.subarray(3, 9)));
  });
});

describe("a detected interval's bar (explanation.by)", () => {
  beforeAll(async () => {
    await init();
  });

  it('names the part of the score that its highest score comes from, as plans without that part recompute it', async () => {
    const n = 1500;
    const s = synthetic(11, { n, period: 40, kinds: ['spike', 'level'], anomalies: 3 });
    const series = { data: Float32Array.from(s.data), shape: [n, 1] as [number, number] };
    const det = await AnomalyDetector.fit(series, { maxSteps: 60 });
    const file = decodeSafetensors(det.toSafetensors());
    det.dispose();
    /** The detector with its plan edited. */
    const edited = (edit: (p: DetectorPlan) => void) => {
      const meta = JSON.parse(file.metadata.metadata);
      edit(meta.detector);
      return AnomalyDetector.fromSafetensors(encodeSafetensors(file.tensors, { ...file.metadata, metadata: JSON.stringify(meta) }));
    };
    const seen = new Set<string>();
    // the saved plan; its error bars halved and latent bars raised tenfold (the error then decides); its latent bars
    // lowered tenfold (the latent score then decides where it is high)
    for (const [name, errorBars, latentBars] of [
      ['saved', 1, 1],
      ['error', 0.5, 10],
      ['latent', 1, 0.1],
    ] as const) {
      const scale = (p: DetectorPlan) => {
        if (!p.latent) throw new Error('the detector has no latent score');
        p.threshold *= errorBars;
        if (p.pointThreshold !== undefined) p.pointThreshold *= errorBars;
        p.latent.threshold *= latentBars;
        if (p.latent.pointThreshold !== undefined) p.latent.pointThreshold *= latentBars;
      };
      const full = edited(scale);
      const noLatent = edited((p) => {
        scale(p);
        delete p.latent;
      });
      const smoothedOnly = edited((p) => {
        scale(p);
        delete p.latent;
        delete p.pointThreshold;
      });
      try {
        const r = full.score(series);
        const e = noLatent.score(series).scores;
        const m = smoothedOnly.score(series).scores;
        const { threshold, warmup = 0 } = full.plan;
        if (name !== 'saved') expect(r.intervals.length).toBeGreaterThan(0);
        r.intervals.forEach(([a, b], k) => {
          let peak = -1;
          for (let i = Math.max(a, warmup); i <= b; i++)
            if (r.scores[i] > threshold && (peak < 0 || r.scores[i] > r.scores[peak])) peak = i;
          const by = r.explanations[k].by;
          seen.add(`${name}:${by}`);
          if (by === 'error') expect(r.scores[peak]).toBe(m[peak]);
          else if (by === 'point') {
            expect(r.scores[peak]).toBe(e[peak]);
            expect(r.scores[peak]).toBeGreaterThan(m[peak]);
          } else {
            expect(['latent', 'latent-point']).toContain(by);
            expect(r.scores[peak]).toBeGreaterThan(e[peak]);
          }
        });
      } finally {
        for (const d of [full, noLatent, smoothedOnly]) d.dispose();
      }
    }
    // each kind of bar decides where the edit makes it the larger
    expect([...seen].some((x) => x === 'error:error' || x === 'error:point')).toBe(true);
    expect([...seen].some((x) => x === 'latent:latent' || x === 'latent:latent-point')).toBe(true);
  });
});
