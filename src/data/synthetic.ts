/**
 * Seeded synthetic labelled series for tests and the detector's development set: a seasonal signal (a sine
 * and its second harmonic) with a linear trend and Gaussian noise, and injected anomalies of one or several
 * kinds: spikes, level shifts, flat (shape) segments, frequency changes, amplitude changes.
 */
import { Rng } from '../core/rng.js';

export type AnomalyKind = 'spike' | 'level' | 'shape' | 'frequency' | 'amplitude';

export interface SyntheticSeries {
  name: string;
  /** Row-major `[n, d]`. */
  data: Float64Array;
  n: number;
  d: number;
  /** 1 at the anomalous rows. */
  labels: Uint8Array;
  /** Labelled intervals (inclusive), each anomaly widened by 2 rows on both sides. */
  windows: Array<[number, number]>;
}

export interface SyntheticOptions {
  n?: number;
  period?: number;
  kinds?: AnomalyKind[];
  anomalies?: number;
  trend?: number;
  noise?: number;
  features?: number;
}

/** A seeded series; options left out are drawn from the seed (n 1,000–5,000, period 20–140, 3–6 anomalies). */
export function synthetic(seed: number, o: SyntheticOptions = {}): SyntheticSeries {
  const g = new Rng(seed * 7919 + 17);
  const r = () => g.next();
  const gauss = () => g.normal();
  const n = o.n ?? Math.round(1000 + r() * 4000);
  const d = o.features ?? 1;
  const P = o.period ?? Math.round(20 + r() * 120);
  const kinds = o.kinds ?? ['spike', 'level', 'shape', 'frequency', 'amplitude'];
  const count = o.anomalies ?? 3 + Math.floor(r() * 4);
  const trend = o.trend ?? r() * 3;
  const noise = o.noise ?? 0.03 + r() * 0.12;
  const data = new Float64Array(n * d);
  const labels = new Uint8Array(n);
  const windows: Array<[number, number]> = [];
  // per feature: scale, offset, harmonic mix
  const scale = Array.from({ length: d }, () => Math.exp(gauss() * 1.5));
  const offset = Array.from({ length: d }, () => gauss() * 10);
  const h2 = Array.from({ length: d }, () => r() * 0.5);
  const phase = Array.from({ length: d }, () => r() * 2 * Math.PI);
  // phase accumulator so that frequency anomalies stay continuous
  const freq = new Float64Array(n).fill(1);
  const amp = new Float64Array(n).fill(1);
  const shift = new Float64Array(n);
  const flat = new Uint8Array(n);
  const spikes = new Float64Array(n);
  const used: Array<[number, number]> = [];
  const free = (a: number, b: number) => a >= P && b < n - 1 && used.every(([c, e]) => b < c - P || a > e + P);
  for (let k = 0; k < count; k++) {
    const kind = kinds[Math.floor(r() * kinds.length)];
    for (let attempt = 0; attempt < 50; attempt++) {
      const len = kind === 'spike' ? 1 : Math.round(P * (0.5 + r() * 1.5));
      const a = Math.floor(P + r() * (n - 2 * P - len));
      const b = a + len - 1;
      if (!free(a, b)) continue;
      used.push([a, b]);
      if (kind === 'spike') spikes[a] = (r() < 0.5 ? -1 : 1) * (2 + r() * 2);
      else if (kind === 'level') for (let i = a; i <= b; i++) shift[i] = (r() < 0.5 ? -1 : 1) * (0.6 + r() * 0.6) * 1;
      else if (kind === 'shape') for (let i = a; i <= b; i++) flat[i] = 1;
      else if (kind === 'frequency') for (let i = a; i <= b; i++) freq[i] = 2 + r();
      else if (kind === 'amplitude') {
        const f = r() < 0.5 ? 0.3 : 2;
        for (let i = a; i <= b; i++) amp[i] = f;
      }
      if (kind === 'level') {
        const s = shift[a];
        for (let i = a; i <= b; i++) shift[i] = s;
      }
      for (let i = a; i <= b; i++) labels[i] = 1;
      windows.push([Math.max(0, a - 2), Math.min(n - 1, b + 2)]);
      break;
    }
  }
  windows.sort((x, y) => x[0] - y[0]);
  let ph = 0;
  for (let i = 0; i < n; i++) {
    ph += (2 * Math.PI * freq[i]) / P;
    for (let j = 0; j < d; j++) {
      const season = flat[i] ? 0 : amp[i] * (Math.sin(ph + phase[j]) + h2[j] * Math.sin(2 * ph + 2 * phase[j]));
      const v = season + (trend * i) / n + shift[i] + spikes[i] + noise * gauss();
      data[i * d + j] = offset[j] + scale[j] * v;
    }
  }
  return { name: `synthetic-${seed}`, data, n, d, labels, windows };
}
