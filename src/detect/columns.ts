/**
 * Per-column bars, for tables of two or more columns: each column's own error, smoothed as the error is, against its
 * own bar. The detector's error is the norm over all columns, so an event in one column of a wide table is diluted
 * by the other columns' errors; a column whose own smoothed error rises above mean + k·std of its values on the
 * training series is anomalous too. Only at the points that every window holds (w − 1 … n − w), as the latent score:
 * a point nearer an end is reconstructed from fewer windows, and its error is not comparable (docs/training.md, "One
 * column's event in a wide table").
 */
import { interior, smoothLatent } from './latent.js';
import type { DetectorPlan } from './plan.js';
import { meanPlusStd } from './postprocess.js';

/**
 * Each column's smoothed error: its point errors (`columnPointErrors`: NaN outside the points `w − 1 … n − w`, taken
 * as 0 there), then the centred moving average over `smoothing` points among those (NaN at the others), from prefix
 * sums as the live stream keeps them. `points` is not changed.
 */
export function smoothColumnErrors(points: readonly Float64Array[], n: number, w: number, smoothing: number): Float64Array[] {
  return points.map((v) =>
    smoothLatent(
      Float64Array.from(v)
        .fill(0, 0, w - 1)
        .fill(0, Math.max(w - 1, n - w + 1)),
      n,
      w,
      smoothing,
    ),
  );
}

/**
 * Each column's point error: the square root of its squared error averaged over the models (`sq` `[n, d]`) at the
 * points `w − 1 … n − w`, NaN elsewhere (before the smoothing of `smoothColumnErrors`).
 */
export function columnPointErrors(sq: ArrayLike<number>, n: number, d: number, w: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let j = 0; j < d; j++) {
    const v = new Float64Array(n).fill(Number.NaN);
    for (let p = w - 1; p <= n - w; p++) v[p] = Math.sqrt(sq[p * d + j]);
    out.push(v);
  }
  return out;
}

/**
 * Each column's bar: mean + `k`·std of its smoothed errors at the points that every window holds; 0 (no bar) for a
 * column whose bar is not a positive number (its errors are all 0). Undefined when no point has every window.
 */
export function columnBars(smoothed: readonly Float64Array[], n: number, w: number, k: number): number[] | undefined {
  if (n - w < w - 1) return undefined;
  return smoothed.map((v) => {
    const bar = meanPlusStd(interior(v, n, w), k);
    return bar > 0 && Number.isFinite(bar) ? bar : 0;
  });
}

/**
 * At each point, the largest ratio of a column's smoothed error to its bar, or of its point error (`points`, from
 * `columnPointErrors`) to its point bar (`pointBars`), when given (`ratio`; NaN where no column has one: the points
 * nearer an end than a window) and that column (`column`, the first on a tie; −1 where none), from
 * `smoothColumnErrors` (the smoothed ratios first, as the live stream takes them).
 */
export function columnRatios(
  smoothed: readonly Float64Array[],
  bars: readonly number[],
  n: number,
  points?: readonly Float64Array[],
  pointBars?: readonly number[],
): { ratio: Float64Array; column: Int32Array } {
  const ratio = new Float64Array(n).fill(Number.NaN);
  const column = new Int32Array(n).fill(-1);
  const take = (v: Float64Array, bar: number, j: number) => {
    if (!(bar > 0)) return;
    for (let p = 0; p < n; p++) {
      const r = v[p] / bar;
      if (!Number.isNaN(r) && !(ratio[p] >= r)) [ratio[p], column[p]] = [r, j];
    }
  };
  for (let j = 0; j < smoothed.length; j++) take(smoothed[j], bars[j], j);
  if (points && pointBars) for (let j = 0; j < points.length; j++) take(points[j], pointBars[j], j);
  return { ratio, column };
}

/**
 * A point's score with the column bars beside (`score` from `withLatent`): the larger of the two, a column's ratio to
 * its bar scaled so that the bar falls on the threshold. Without `plan.columnBars` (one column, or files made before
 * them), `score`.
 */
export function withColumns(score: number, ratio: number, plan: DetectorPlan): number {
  if (!plan.columnBars || Number.isNaN(ratio)) return score;
  return Math.max(score, ratio * plan.threshold);
}
