/**
 * Scores of windows (reconstruction error) and of points (from the windows covering each point).
 */

import type { Segment } from '../data/series.js';
import { windowPointScores } from '../data/windows.js';
import type { Windowed } from './windows.js';

/** The part of the model API the pipeline uses. */
export interface ContinuousModel {
  reconstruct(x: { data: Float32Array; shape: number[] }): Float32Array;
  encode(x: { data: Float32Array; shape: number[] }): { mu: Float32Array; logvar: Float32Array };
}

export interface WindowScores {
  /** Σ over steps and features of the squared reconstruction error, per window `[W]`. */
  window: Float64Array;
  /** Σ over features of the squared error, per window and step `[W, T]`. */
  step: Float32Array;
  /** Reconstructions `[W, T, D]` (normalised units), when asked for. */
  recon?: Float32Array;
  /** Latent means `[W, Z]`, when asked for. */
  mu?: Float32Array;
}

/** Scores windows in chunks (bounded memory): reconstruction error per window and per step. */
export function scoreWindows(
  model: ContinuousModel,
  x: { data: Float32Array; shape: [number, number, number] },
  o: { recon?: boolean; mu?: boolean; latent?: number; chunk?: number } = {},
): WindowScores {
  const [w, t, d] = x.shape;
  const chunk = o.chunk ?? 512;
  const window = new Float64Array(w);
  const step = new Float32Array(w * t);
  const recon = o.recon ? new Float32Array(w * t * d) : undefined;
  let mu: Float32Array | undefined;
  for (let a = 0; a < w; a += chunk) {
    const b = Math.min(w, a + chunk);
    const part = { data: x.data.subarray(a * t * d, b * t * d), shape: [b - a, t, d] };
    const y = model.reconstruct(part);
    if (recon) recon.set(y, a * t * d);
    for (let i = 0; i < b - a; i++) {
      let sw = 0;
      for (let s = 0; s < t; s++) {
        let e = 0;
        const base = (i * t + s) * d;
        for (let k = 0; k < d; k++) {
          const diff = part.data[base + k] - y[base + k];
          e += diff * diff;
        }
        step[(a + i) * t + s] = e;
        sw += e;
      }
      window[a + i] = sw;
    }
    if (o.mu) {
      const m = model.encode(part).mu;
      if (!mu) mu = new Float32Array(w * (m.length / (b - a)));
      mu.set(m, a * (m.length / (b - a)));
    }
  }
  return { window, step, recon, mu };
}

/**
 * How per-point scores come from window scores:
 * - `q10`, `q25`, `median`, `min`, `mean`, `max`: that statistic of the scores (total squared error) of
 *   every window that contains the point. Low quantiles localise best: a normal point next to an
 *   anomaly is also covered by windows that miss the anomaly, while every window covering an anomalous
 *   point contains it (`q10` is the default).
 * - `step-mean`, `step-max`: mean / max over the covering windows of the squared error at the point's
 *   own step (with a repeat decoder the error spreads over the whole window, so these localise less).
 */
export type Reduce = 'q10' | 'q25' | 'median' | 'min' | 'mean' | 'max' | 'step-mean' | 'step-max';

export const REDUCE_CHOICES: Reduce[] = ['q10', 'q25', 'median', 'min', 'mean', 'max', 'step-mean', 'step-max'];

/**
 * Point scores of a series of `n` points from window scores (`starts` ascending, windows of `length`):
 * each point gets the `reduce` statistic over the windows covering it; uncovered points (stride above
 * the length) carry the previous point's score.
 */
export function windowsToPointScores(
  scores: ArrayLike<number>,
  starts: ArrayLike<number>,
  length: number,
  n: number,
  reduce: Exclude<Reduce, 'step-mean' | 'step-max'>,
): Float64Array {
  return windowPointScores(scores, starts, length, n, reduce, 'previous');
}

/** Per-point scores of each segment. */
export function pointScores(
  ws: Windowed,
  sc: { window: Float64Array; step: Float32Array },
  segments: Segment[],
  reduce: Reduce,
): Float64Array[] {
  return segments.map((s, i) => {
    const a = ws.offsets[i];
    const b = ws.offsets[i + 1];
    const starts = ws.start.subarray(a, b);
    if (reduce === 'step-mean' || reduce === 'step-max') {
      return windowPointScores(
        sc.step.subarray(a * ws.length, b * ws.length),
        starts,
        ws.length,
        s.n,
        reduce === 'step-mean' ? 'mean' : 'max',
        'previous',
      );
    }
    return windowPointScores(sc.window.subarray(a, b), starts, ws.length, s.n, reduce, 'previous');
  });
}

/** Mean over windows of the reconstruction at each point (for `reconstruct`), normalised units. */
export function pointReconstructions(ws: Windowed, recon: Float32Array, segments: Segment[], d: number): Float32Array[] {
  return segments.map((s, i) => {
    const acc = new Float64Array(s.n * d);
    const cnt = new Uint32Array(s.n);
    for (let k = ws.offsets[i]; k < ws.offsets[i + 1]; k++) {
      const st = ws.start[k];
      for (let t = 0; t < ws.length; t++) {
        const p = st + t;
        cnt[p]++;
        for (let j = 0; j < d; j++) acc[p * d + j] += recon[(k * ws.length + t) * d + j];
      }
    }
    const out = new Float32Array(s.n * d);
    for (let p = 0; p < s.n; p++) for (let j = 0; j < d; j++) out[p * d + j] = cnt[p] ? acc[p * d + j] / cnt[p] : NaN;
    return out;
  });
}
