/**
 * From point scores to anomalous intervals, in the manner of Orion's `find_anomalies`:
 * smooth the scores, threshold them at mean + k·std, group consecutive points above the threshold,
 * merge intervals separated by small gaps and drop very short ones.
 */

import { checkInt } from '../core/checks.js';
import { ConfigError, DataError } from '../core/errors.js';

export interface FindAnomaliesOptions {
  /**
   * Smoothing of the scores before thresholding:
   * `'ewma'` (default; causal exponentially weighted moving average with span `smoothingWindow`,
   * α = 2 / (span + 1), as pandas `ewm(span=…)` with `adjust=true`), `'moving-average'` (centred mean over
   * `smoothingWindow` points, the window shrinking at the edges) or `'none'`.
   */
  smoothing?: 'ewma' | 'moving-average' | 'none';
  /** Span / window of the smoothing, in points. Default: max(1, round(0.01·n)) (Orion's 1 % of the series). */
  smoothingWindow?: number;
  /**
   * Threshold = mean + k·std of the smoothed scores. A number (default 4, Orion's fixed threshold) or
   * `'auto'`: k from `kCandidates` maximising the criterion of Hundman et al. (2018),
   * (Δmean/mean + Δstd/std) / (#points above + #intervals²), where Δ is the drop in mean / std of the scores
   * once the points above the threshold are removed.
   */
  k?: number | 'auto';
  /** Candidates for `k: 'auto'`. Default 2, 2.5, …, 10. */
  kCandidates?: number[];
  /** Intervals separated by at most this many points (below threshold) are merged. Default max(1, round(0.01·n)). */
  minGap?: number;
  /** Intervals shorter than this many points (after merging) are dropped. Default max(1, round(0.001·n)). */
  minLength?: number;
}

export interface AnomalyDetails {
  /** Inclusive `[start, end]` point-index intervals. */
  intervals: Array<[number, number]>;
  /** The smoothed scores the threshold was applied to. */
  smoothed: Float64Array;
  threshold: number;
  /** The k used (the chosen one for `k: 'auto'`). */
  k: number;
}

/** Smooths scores: causal EWMA with the given span, centred moving average, or a copy (`'none'`). */
export function smoothScores(scores: ArrayLike<number>, method: 'ewma' | 'moving-average' | 'none' = 'ewma', window = 1): Float64Array {
  checkInt(window, 'options.smoothingWindow', 1);
  const n = scores.length;
  const out = new Float64Array(n);
  if (method === 'none' || window === 1) {
    for (let i = 0; i < n; i++) out[i] = scores[i];
    return out;
  }
  if (method === 'ewma') {
    // adjust=true form: y_t = Σ_{i<=t} (1−α)^{t−i} x_i / Σ_{i<=t} (1−α)^{t−i}
    const alpha = 2 / (window + 1);
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      num = num * (1 - alpha) + scores[i];
      den = den * (1 - alpha) + 1;
      out[i] = num / den;
    }
    return out;
  }
  if (method === 'moving-average') {
    const prefix = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + scores[i];
    const before = Math.floor((window - 1) / 2);
    const after = window - 1 - before;
    for (let i = 0; i < n; i++) {
      const lo = Math.max(0, i - before);
      const hi = Math.min(n - 1, i + after);
      out[i] = (prefix[hi + 1] - prefix[lo]) / (hi - lo + 1);
    }
    return out;
  }
  throw new ConfigError('unknown smoothing method', {
    argument: 'options.smoothing',
    expected: ['ewma', 'moving-average', 'none'],
    actual: method,
  });
}

/** Mean, population standard deviation and count of `x` (the entries where `mask` is 0, when given). */
export function meanStd(x: Float64Array, mask?: Uint8Array): [number, number, number] {
  let n = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    if (mask?.[i]) continue;
    s += x[i];
    n++;
  }
  if (n === 0) return [0, 0, 0];
  const m = s / n;
  let v = 0;
  for (let i = 0; i < x.length; i++) {
    if (mask?.[i]) continue;
    v += (x[i] - m) ** 2;
  }
  return [m, Math.sqrt(v / n), n];
}

/** Runs of consecutive points strictly above `threshold`, as inclusive intervals. */
function runsAbove(x: Float64Array, threshold: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > threshold) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      out.push([start, i - 1]);
      start = -1;
    }
  }
  if (start >= 0) out.push([start, x.length - 1]);
  return out;
}

/** Hundman et al.'s criterion for a threshold (higher is better); -Infinity when nothing is above it. */
function thresholdCriterion(x: Float64Array, mean: number, std: number, threshold: number): number {
  const runs = runsAbove(x, threshold);
  if (runs.length === 0) return -Infinity;
  const mask = new Uint8Array(x.length);
  let above = 0;
  for (const [s, e] of runs) {
    for (let i = s; i <= e; i++) mask[i] = 1;
    above += e - s + 1;
  }
  if (above === x.length) return -Infinity;
  const [m2, s2] = meanStd(x, mask);
  const dMean = mean !== 0 ? (mean - m2) / Math.abs(mean) : 0;
  const dStd = std > 0 ? (std - s2) / std : 0;
  return (dMean + dStd) / (above + runs.length * runs.length);
}

/** Like `findAnomalies`, also returning the smoothed scores, the threshold and k. */
export function findAnomaliesDetailed(pointScores: ArrayLike<number>, options: FindAnomaliesOptions = {}): AnomalyDetails {
  if (pointScores == null || typeof pointScores.length !== 'number') {
    throw new DataError('pointScores must be an array of numbers', {
      argument: 'pointScores',
      expected: 'ArrayLike<number>',
      actual: typeof pointScores,
    });
  }
  const n = pointScores.length;
  if (n === 0) throw new DataError('pointScores is empty', { argument: 'pointScores', expected: 'at least one score', actual: 'length 0' });
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(pointScores[i])) {
      throw new DataError('pointScores must be finite numbers', {
        argument: `pointScores[${i}]`,
        expected: 'a finite number',
        actual: String(pointScores[i]),
      });
    }
  }
  const pct = (f: number) => Math.max(1, Math.round(f * n));
  const window = options.smoothingWindow ?? pct(0.01);
  const minGap = checkInt(options.minGap ?? pct(0.01), 'options.minGap', 0);
  const minLength = checkInt(options.minLength ?? pct(0.001), 'options.minLength', 1);
  const smoothed = smoothScores(pointScores, options.smoothing ?? 'ewma', window);
  const [mean, std] = meanStd(smoothed);

  let k: number;
  const kOpt = options.k ?? 4;
  if (kOpt === 'auto') {
    const candidates = options.kCandidates ?? Array.from({ length: 17 }, (_, i) => 2 + 0.5 * i);
    if (!Array.isArray(candidates) || candidates.length === 0 || !candidates.every((c) => Number.isFinite(c))) {
      throw new ConfigError('kCandidates must be a non-empty list of numbers', {
        argument: 'options.kCandidates',
        expected: 'number[]',
        actual: candidates,
      });
    }
    let best = -Infinity;
    k = Math.max(...candidates);
    for (const c of candidates) {
      const v = thresholdCriterion(smoothed, mean, std, mean + c * std);
      if (v > best) {
        best = v;
        k = c;
      }
    }
  } else if (typeof kOpt === 'number' && Number.isFinite(kOpt)) {
    k = kOpt;
  } else {
    throw new ConfigError('k must be a number or "auto"', { argument: 'options.k', expected: 'a finite number or "auto"', actual: kOpt });
  }
  const threshold = mean + k * std;
  // A flat signal (std 0) has nothing above mean + k·0 = mean.
  const raw = runsAbove(smoothed, threshold);
  const merged: Array<[number, number]> = [];
  for (const iv of raw) {
    const last = merged[merged.length - 1];
    if (last && iv[0] - last[1] - 1 <= minGap) last[1] = iv[1];
    else merged.push([iv[0], iv[1]]);
  }
  const intervals = merged.filter(([s, e]) => e - s + 1 >= minLength);
  return { intervals, smoothed, threshold, k };
}

/**
 * Anomalous intervals (inclusive `[start, end]` point indices) from per-point anomaly scores.
 *
 * Defaults (n = number of points): EWMA smoothing with span max(1, round(0.01·n)); threshold
 * mean + 4·std of the smoothed scores; points strictly above it grouped into runs; runs separated by at
 * most max(1, round(0.01·n)) points merged; intervals shorter than max(1, round(0.001·n)) points dropped.
 * See `FindAnomaliesOptions` to change each step (including `k: 'auto'`).
 */
export function findAnomalies(pointScores: ArrayLike<number>, options: FindAnomaliesOptions = {}): Array<[number, number]> {
  return findAnomaliesDetailed(pointScores, options).intervals;
}
