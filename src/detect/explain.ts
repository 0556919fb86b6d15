/**
 * Explanations of a detected interval: which features and which rows carry its reconstruction error. Built from
 * the per-row, per-feature squared reconstruction error (in the detector's scaled units), the same quantity whose
 * per-row shares are `contributions` and whose per-row norm is the unsmoothed score.
 */

import { ConfigError, ShapeError } from '../core/errors.js';

/** Steps listed in an explanation (the rows with the largest error). */
export const EXPLAIN_STEPS = 10;

/**
 * The bar behind a score: `error` the smoothed reconstruction error, `point` one point's own reconstruction error,
 * `latent` the smoothed latent score (how far the windows' posterior means lie from the training windows'),
 * `latent-point` one point's own latent score, `column` one column's own smoothed error (a table of two or more columns;
 * the features below say which column carries the interval's error).
 */
export type ScoreSource = 'error' | 'point' | 'latent' | 'latent-point' | 'column';

export interface IntervalExplanation {
  /** The interval, inclusive rows. */
  interval: [number, number];
  /**
   * The bar that the interval's highest score crossed (a detected interval; absent for rows explained with
   * `explainRows` or intervals of a threshold given by hand). With `latent` or `latent-point` the features and steps
   * below still split the reconstruction error, which did not decide the interval.
   */
  by?: ScoreSource;
  /**
   * With `by: 'column'`: the column whose own error crossed its bar at the interval's highest score. It may carry a
   * small share of the interval's squared error (a quiet column beside noisy ones), so the `features` below need not
   * start with it.
   */
  column?: { feature: number; name: string };
  /** Every feature with its share of the interval's squared error, largest first (shares sum to 1). */
  features: Array<{ feature: number; name: string; share: number }>;
  /**
   * The rows carrying the most error (at most 10), largest first: each row's share of the interval's squared error,
   * and each feature's share of that row's error (`[D]`, summing to 1). With aggregated rows, the rows of one point
   * carry the same error.
   */
  steps: Array<{ index: number; share: number; features: number[] }>;
}

/** A running tally of squared errors over rows: per-feature sums and the rows with the largest error. */
export interface Tally {
  /** Sum of each feature's squared error. */
  sum: number[];
  /** The largest rows: [row, its squared error summed over features, each feature's squared error…], largest first. */
  top: number[][];
}

export function emptyTally(d: number): Tally {
  return { sum: new Array<number>(d).fill(0), top: [] };
}

/** Adds row `index` with squared errors `e[off .. off + d)`. */
export function tallyRow(t: Tally, index: number, e: ArrayLike<number>, off: number, d: number): void {
  let total = 0;
  for (let j = 0; j < d; j++) {
    t.sum[j] += e[off + j];
    total += e[off + j];
  }
  insertTop(t.top, [index, total, ...Array.from({ length: d }, (_, j) => e[off + j])]);
}

/** Adds the rows of `b` (which follow the rows of `a`) to `a`. */
export function mergeTally(a: Tally, b: Tally): void {
  for (let j = 0; j < a.sum.length; j++) a.sum[j] += b.sum[j];
  for (const r of b.top) insertTop(a.top, r);
}

/** Larger error first, then the earlier row: a total order, so the kept rows do not depend on how rows were merged. */
function insertTop(top: number[][], r: number[]): void {
  let i = top.length;
  while (i > 0 && (top[i - 1][1] < r[1] || (top[i - 1][1] === r[1] && top[i - 1][0] > r[0]))) i--;
  if (i >= EXPLAIN_STEPS) return;
  top.splice(i, 0, r);
  if (top.length > EXPLAIN_STEPS) top.length = EXPLAIN_STEPS;
}

/** The explanation of an interval from its tally; `names` are the columns' names. */
export function explanationOf(
  t: Tally,
  interval: [number, number],
  names: readonly string[],
  by?: ScoreSource,
  column?: number,
): IntervalExplanation {
  const d = t.sum.length;
  let total = 0;
  for (const v of t.sum) total += v;
  const share = (v: number, of: number, n: number) => (of > 0 ? v / of : 1 / n);
  const features = t.sum
    .map((v, j) => ({ feature: j, name: names[j] ?? `column ${j}`, share: share(v, total, d) }))
    .sort((a, b) => b.share - a.share || a.feature - b.feature);
  const steps = t.top.map((r) => ({
    index: r[0],
    share: share(r[1], total, t.top.length),
    features: r.slice(2).map((v) => share(v, r[1], d)),
  }));
  const col =
    by === 'column' && column !== undefined && column >= 0
      ? { column: { feature: column, name: names[column] ?? `column ${column}` } }
      : {};
  return { interval: [interval[0], interval[1]], ...(by ? { by } : {}), ...col, features, steps };
}

/**
 * Explains rows `interval` (inclusive) of a scored series from its per-row, per-feature squared errors `errors`
 * `[N, D]` (`det.score(series).errors`).
 */
export function explainRows(
  errors: ArrayLike<number>,
  features: number,
  interval: readonly [number, number],
  names: readonly string[] = [],
): IntervalExplanation {
  if (errors == null || typeof errors.length !== 'number' || !Number.isInteger(features) || features < 1 || errors.length % features)
    throw new ShapeError('errors must hold N·D values', {
      argument: 'errors',
      expected: `a multiple of ${features}`,
      actual: errors?.length,
    });
  const n = errors.length / features;
  const ok = Array.isArray(interval) && interval.length === 2 && interval.every((v) => Number.isInteger(v));
  if (!ok || interval[0] < 0 || interval[1] < interval[0] || interval[1] >= n)
    throw new ConfigError('interval must be [first, last] rows of the series', {
      argument: 'interval',
      expected: `whole numbers 0 ≤ first ≤ last < ${n}`,
      actual: Array.isArray(interval) ? `[${interval.join(', ')}]` : String(interval),
    });
  const [a, b] = interval;
  const t = emptyTally(features);
  for (let i = a; i <= b; i++) tallyRow(t, i, errors, i * features, features);
  return explanationOf(t, [a, b], names);
}
