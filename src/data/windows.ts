/**
 * Sliding windows over a multivariate series, and the way back from window scores to point scores.
 */

import { checkInt } from '../core/checks.js';
import { ConfigError, DataError, ShapeError } from '../core/errors.js';

export interface Series {
  /** Row-major `[N, D]` values. */
  data: Float32Array | Float64Array | ArrayLike<number>;
  shape: readonly [number, number];
}

export interface Windows {
  /** Row-major `[W, length, D]` (float32), window w holding points `starts[w] .. starts[w] + length - 1`. */
  data: Float32Array;
  shape: [number, number, number];
  /** Index of the first point of each window. */
  starts: number[];
}

/**
 * Window start indices for a series of `n` points: 0, stride, 2·stride, … while the window fits, then,
 * if the last of them does not reach the end, one more window aligned to the end (start n − length)
 * so every point is covered. Throws `DataError` when n < length.
 */
export function windowStarts(n: number, length: number, stride: number): number[] {
  checkInt(length, 'length', 1);
  checkInt(stride, 'stride', 1);
  if (!Number.isInteger(n) || n < length) {
    throw new DataError('the series is shorter than one window', {
      argument: 'series.shape[0]',
      expected: `at least length = ${length} points`,
      actual: n,
    });
  }
  const starts: number[] = [];
  let s = 0;
  for (; s + length <= n; s += stride) starts.push(s);
  const last = starts[starts.length - 1];
  if (last + length < n) starts.push(n - length);
  return starts;
}

/**
 * Cuts `series` (`[N, D]`) into windows of `length` points every `stride` points; the last window is
 * aligned to the end of the series so that, with stride <= length, every point is in at least one window
 * (a stride above the length subsamples: the points between windows are skipped).
 * Returns `{ data: Float32Array [W, length, D], shape: [W, length, D], starts }`.
 */
export function windows(series: Series, length: number, stride = 1): Windows {
  if (series == null || series.data == null || series.shape == null) {
    throw new ShapeError('series must be { data, shape: [N, D] }', {
      argument: 'series',
      expected: '{ data, shape: [N, D] }',
      actual: series == null ? String(series) : Object.keys(series),
    });
  }
  const shape = series.shape;
  if (
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !Number.isInteger(shape[0]) ||
    !Number.isInteger(shape[1]) ||
    shape[0] < 0 ||
    shape[1] < 1
  ) {
    throw new ShapeError('series.shape must be [N, D] with integer sizes', {
      argument: 'series.shape',
      expected: '[N, D]',
      actual: shape,
    });
  }
  const [n, d] = shape;
  if (series.data.length !== n * d) {
    throw new ShapeError('series.data length does not match series.shape', {
      argument: 'series.data.length',
      expected: `N * D = ${n * d}`,
      actual: series.data.length,
    });
  }
  const starts = windowStarts(n, length, stride);
  const w = starts.length;
  const out = new Float32Array(w * length * d);
  const src = series.data;
  const block = length * d;
  for (let k = 0; k < w; k++) {
    const from = starts[k] * d;
    if (src instanceof Float32Array || src instanceof Float64Array) {
      out.set(src.subarray(from, from + block), k * block);
    } else {
      for (let j = 0; j < block; j++) out[k * block + j] = src[from + j];
    }
  }
  return { data: out, shape: [w, length, d], starts };
}

/**
 * Maps window scores back to the `n` points of the series: each point gets the mean or the max of
 * the scores of the windows that contain it.
 *
 * `scores` is either one score per window (length W = starts.length) or one score per window and
 * time step (length W·length, row-major `[W, length]`, e.g. the reconstruction error at each step);
 * in the second form a point takes, from every window containing it, the score of its own step.
 * Points no window covers get NaN (never the case for `windows()` output).
 */
export function windowScoresToPoints(
  scores: ArrayLike<number>,
  starts: ReadonlyArray<number>,
  length: number,
  n: number,
  reduce: 'mean' | 'max' = 'mean',
): Float64Array {
  checkInt(length, 'length', 1);
  if (!Number.isInteger(n) || n < 0) {
    throw new ConfigError('n must be a non-negative integer', { argument: 'n', expected: 'an integer >= 0', actual: n });
  }
  if (reduce !== 'mean' && reduce !== 'max') {
    throw new ConfigError('reduce must be "mean" or "max"', { argument: 'reduce', expected: ['mean', 'max'], actual: reduce });
  }
  const w = starts.length;
  const perStep = scores.length === w * length && length > 1;
  if (scores.length !== w && !perStep) {
    throw new ShapeError('scores must have one value per window or per window step', {
      argument: 'scores.length',
      expected: `${w} (windows) or ${w * length} (windows × length)`,
      actual: scores.length,
    });
  }
  for (let k = 0; k < w; k++) {
    const s = starts[k];
    if (!Number.isInteger(s) || s < 0 || s + length > n) {
      throw new DataError('a window start lies outside the series', {
        argument: `starts[${k}]`,
        expected: `an integer in [0, ${n - length}]`,
        actual: s,
      });
    }
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new DataError('scores must be finite numbers', {
        argument: `scores[${i}]`,
        expected: 'a finite number',
        actual: String(scores[i]),
      });
    }
  }
  return windowPointScores(scores, starts, length, n, reduce);
}

/** How a point's score comes from the scores of the windows covering it. */
export type WindowReduce = 'mean' | 'max' | 'min' | 'q10' | 'q25' | 'median';

const QUANTILE: Record<WindowReduce, number> = { mean: -1, max: -1, min: 0, q10: 0.1, q25: 0.25, median: 0.5 };

/**
 * The one mapping from window scores to point scores, without argument checks (callers check).
 * `scores` holds one value per window, or one per window step (`[W, length]`, when length > 1); a
 * point gets the `reduce` statistic of the values of the windows covering it (quantiles interpolate
 * linearly between order statistics, as NumPy's default percentile, and need `starts` ascending).
 * Uncovered points get NaN, or with `fill: 'previous'` the previous point's score (0 for the first).
 */
export function windowPointScores(
  scores: ArrayLike<number>,
  starts: ArrayLike<number>,
  length: number,
  n: number,
  reduce: WindowReduce,
  fill: 'nan' | 'previous' = 'nan',
): Float64Array {
  const w = starts.length;
  const perStep = scores.length === w * length && length > 1;
  const q = QUANTILE[reduce];
  const out = new Float64Array(n);
  if (q < 0) {
    const count = new Uint32Array(n);
    if (reduce === 'max') out.fill(-Infinity);
    for (let k = 0; k < w; k++) {
      const s = starts[k];
      for (let t = 0; t < length; t++) {
        const v = perStep ? scores[k * length + t] : scores[k];
        const p = s + t;
        if (reduce === 'max') {
          if (v > out[p]) out[p] = v;
        } else out[p] += v;
        count[p]++;
      }
    }
    for (let p = 0; p < n; p++) {
      if (count[p] === 0) out[p] = fill === 'nan' ? NaN : p > 0 ? out[p - 1] : 0;
      else if (reduce === 'mean') out[p] /= count[p];
    }
    return out;
  }
  let lo = 0; // first window that may cover p (start + length > p)
  let hi = 0; // one past the last window with start <= p
  const buf = new Float64Array(Math.max(1, w));
  for (let p = 0; p < n; p++) {
    while (hi < w && starts[hi] <= p) hi++;
    while (lo < hi && starts[lo] + length <= p) lo++;
    const k = hi - lo;
    if (k === 0) {
      out[p] = fill === 'nan' ? NaN : p > 0 ? out[p - 1] : 0;
      continue;
    }
    const b = buf.subarray(0, k);
    for (let i = lo; i < hi; i++) b[i - lo] = perStep ? scores[i * length + (p - starts[i])] : scores[i];
    b.sort();
    const pos = q * (k - 1);
    const f = Math.floor(pos);
    const c = Math.min(k - 1, f + 1);
    out[p] = b[f] + (pos - f) * (b[c] - b[f]);
  }
  return out;
}
