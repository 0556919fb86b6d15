/**
 * Seeded wide labelled series (8, 16 or 32 columns) for the detector's development set, where each anomaly is in ONE
 * column: the case of a machine's table (SMD, MSL / SMAP, SKAB) where one sensor misbehaves while the others go on.
 * The columns are unlike each other, as a real table's are: seasonal (one period shared, its own phase and second
 * harmonic), a slow random walk, or noise alone, each with its own noise level. An anomaly is a spike (3–5 of its
 * column's standard deviations), a level shift (1–2), an amplitude change (×0.2 or ×2.5 around its first value) or a
 * flat stretch (the column stuck at its first value), 0.5–2 periods long.
 */
import { Rng } from '../core/rng.js';
import type { SyntheticSeries } from './synthetic.js';

export type WideAnomalyKind = 'spike' | 'level' | 'amplitude' | 'flat';
export type WideColumnKind = 'seasonal' | 'walk' | 'noise';

export interface WideSeries extends SyntheticSeries {
  /** Each column's kind. */
  columns: WideColumnKind[];
  /** Each anomaly: its rows (inclusive, before the labelled window's widening), kind and column. */
  anomalies: Array<{ rows: [number, number]; kind: WideAnomalyKind; column: number }>;
}

/**
 * A seeded wide series (n 2,000–6,000, period 20–140, 3–6 anomalies, each in one column). With `anomalies: 0`, the
 * same series without its anomalies (the base values are drawn before them).
 */
export function wideSynthetic(seed: number, o: { anomalies?: number } = {}): WideSeries {
  const g = new Rng(seed * 7919 + 17);
  const r = () => g.next();
  const n = Math.round(2000 + r() * 4000);
  const d = [8, 16, 32][Math.floor(r() * 3)];
  const P = Math.round(20 + r() * 120);
  const kinds: WideColumnKind[] = ['seasonal', 'seasonal', 'walk', 'noise'];
  const columns = Array.from({ length: d }, () => kinds[Math.floor(r() * kinds.length)]);
  const noise = Array.from({ length: d }, () => 0.02 + r() * 0.4);
  const phase = Array.from({ length: d }, () => r() * 2 * Math.PI);
  const h2 = Array.from({ length: d }, () => r() * 0.5);
  const data = new Float64Array(n * d);
  for (let j = 0; j < d; j++) {
    let walk = 0;
    for (let i = 0; i < n; i++) {
      walk = 0.995 * walk + 0.1 * g.normal();
      const ph = (2 * Math.PI * i) / P + phase[j];
      const base = columns[j] === 'seasonal' ? Math.sin(ph) + h2[j] * Math.sin(2 * ph) : columns[j] === 'walk' ? walk : 0;
      data[i * d + j] = base + noise[j] * g.normal();
    }
  }
  const labels = new Uint8Array(n);
  const windows: Array<[number, number]> = [];
  const anomalies: WideSeries['anomalies'] = [];
  const count = 3 + Math.floor(r() * 4);
  const wanted = o.anomalies ?? count;
  const anomalyKinds: WideAnomalyKind[] = ['spike', 'level', 'amplitude', 'flat'];
  for (let k = 0; k < wanted; k++) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const kind = anomalyKinds[Math.floor(r() * anomalyKinds.length)];
      const len = kind === 'spike' ? 1 : Math.round(P * (0.5 + r() * 1.5));
      const a = Math.floor(P + r() * (n - 2 * P - len));
      const b = a + len - 1;
      if (anomalies.some(({ rows: [c, e] }) => !(b < c - P || a > e + P))) continue;
      const j = Math.floor(r() * d);
      const sd = columnStd(data, n, d, j);
      if (kind === 'spike') data[a * d + j] += (r() < 0.5 ? -1 : 1) * (3 + r() * 2) * sd;
      else if (kind === 'level') {
        const s = (r() < 0.5 ? -1 : 1) * (1 + r()) * sd;
        for (let i = a; i <= b; i++) data[i * d + j] += s;
      } else if (kind === 'amplitude') {
        const f = r() < 0.5 ? 0.2 : 2.5;
        const m = data[a * d + j];
        for (let i = a; i <= b; i++) data[i * d + j] = m + (data[i * d + j] - m) * f;
      } else {
        const m = data[a * d + j];
        for (let i = a; i <= b; i++) data[i * d + j] = m + 0.02 * sd * g.normal();
      }
      labels.fill(1, a, b + 1);
      anomalies.push({ rows: [a, b], kind, column: j });
      windows.push([Math.max(0, a - 2), Math.min(n - 1, b + 2)]);
      break;
    }
  }
  windows.sort((x, y) => x[0] - y[0]);
  anomalies.sort((x, y) => x.rows[0] - y.rows[0]);
  return { name: `wide-${seed}`, data, n, d, labels, windows, columns, anomalies };
}

/** The population standard deviation of column `j` of `[n, d]`. */
function columnStd(data: Float64Array, n: number, d: number, j: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) m += data[i * d + j];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (data[i * d + j] - m) ** 2;
  return Math.sqrt(v / n);
}
