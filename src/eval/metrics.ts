/**
 * Evaluation metrics for anomaly scores (point-wise) and detected intervals (segment-wise).
 *
 * Point-wise metrics take `scores` (higher = more anomalous) and `labels` (1 = anomaly, 0 = normal)
 * of equal, non-zero length; scores must be finite and labels exactly 0 or 1. Bad input throws
 * `ShapeError` (lengths) or `DataError` (values, a single class), naming the argument.
 *
 * Segment-wise metrics follow the Orion benchmark's "overlapping segment" protocol.
 */

import { ConfigError, DataError, ShapeError } from '../core/errors.js';

// ---------------------------------------------------------------------------------------------
// Input checks
// ---------------------------------------------------------------------------------------------

function checkScores(scores: ArrayLike<number>, name = 'scores'): void {
  if (scores == null || typeof scores.length !== 'number') {
    throw new DataError(`${name} must be an array of numbers`, {
      argument: name,
      expected: 'ArrayLike<number>',
      actual: scores === null ? 'null' : typeof scores,
    });
  }
  if (scores.length === 0) {
    throw new DataError(`${name} is empty`, { argument: name, expected: 'at least one value', actual: 'length 0' });
  }
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new DataError(`${name} must be finite numbers`, {
        argument: `${name}[${i}]`,
        expected: 'a finite number',
        actual: typeof v === 'number' ? String(v) : typeof v,
      });
    }
  }
}

/** Checks scores and labels; returns the number of positives. */
function checkScoresLabels(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkScores(scores);
  if (labels == null || typeof labels.length !== 'number') {
    throw new DataError('labels must be an array of 0/1 values', {
      argument: 'labels',
      expected: 'ArrayLike<number> of 0 and 1',
      actual: labels === null ? 'null' : typeof labels,
    });
  }
  if (labels.length !== scores.length) {
    throw new ShapeError('scores and labels must have the same length', {
      argument: 'labels.length',
      expected: scores.length,
      actual: labels.length,
    });
  }
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === 1) positives++;
    else if (l !== 0) {
      throw new DataError('labels must be 0 (normal) or 1 (anomaly)', {
        argument: `labels[${i}]`,
        expected: '0 or 1',
        actual: typeof l === 'number' ? String(l) : typeof l,
      });
    }
  }
  return positives;
}

function requireBothClasses(fn: string, positives: number, n: number): void {
  if (positives === 0 || positives === n) {
    throw new DataError(`${fn} needs both classes in labels`, {
      argument: 'labels',
      expected: 'at least one 0 and one 1',
      actual: positives === 0 ? `all ${n} labels are 0` : `all ${n} labels are 1`,
    });
  }
}

/** Indices 0..n-1 sorted by score, descending (ties keep index order). */
function orderDescending(scores: ArrayLike<number>): Uint32Array {
  const n = scores.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const s = Float64Array.from(scores as ArrayLike<number>);
  idx.sort((a, b) => s[b] - s[a] || a - b);
  return idx;
}

// ---------------------------------------------------------------------------------------------
// Point-wise metrics
// ---------------------------------------------------------------------------------------------

/**
 * Area under the ROC curve: the probability that a random anomaly scores higher than a random
 * normal point, ties counting one half (Mann–Whitney U with average ranks). O(n log n).
 * Throws `DataError` when labels hold a single class.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const positives = checkScoresLabels(scores, labels);
  const n = scores.length;
  requireBothClasses('rocAuc', positives, n);
  const idx = orderDescending(scores);
  // Walk groups of equal scores from the top; for every positive in a group, count the negatives
  // strictly below it plus half of the negatives in its own group.
  const negatives = n - positives;
  let negAbove = 0; // negatives with a strictly higher score than the current group
  let u = 0; // number of (positive, negative) pairs with the positive ranked higher, ties = 1/2
  let i = 0;
  while (i < n) {
    const v = scores[idx[i]];
    let j = i;
    let p = 0;
    let q = 0;
    while (j < n && scores[idx[j]] === v) {
      if (labels[idx[j]] === 1) p++;
      else q++;
      j++;
    }
    const negBelow = negatives - negAbove - q;
    u += p * (negBelow + 0.5 * q);
    negAbove += q;
    i = j;
  }
  return u / (positives * negatives);
}

/**
 * Average precision as scikit-learn's `average_precision_score`: Σ_n (R_n − R_{n−1}) · P_n over the
 * distinct score thresholds taken from the highest down (prediction = score >= threshold), with R_0 = 0.
 * Needs at least one positive label (`DataError` otherwise); all-positive labels give 1.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const positives = checkScoresLabels(scores, labels);
  const n = scores.length;
  if (positives === 0) {
    throw new DataError('averagePrecision needs at least one positive label', {
      argument: 'labels',
      expected: 'at least one 1',
      actual: `all ${n} labels are 0`,
    });
  }
  const idx = orderDescending(scores);
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < n) {
    const v = scores[idx[i]];
    while (i < n && scores[idx[i]] === v) {
      if (labels[idx[i]] === 1) tp++;
      else fp++;
      i++;
    }
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

export interface BestF1 {
  /** The best F1 over all thresholds. */
  f1: number;
  /** The threshold reaching it (prediction = score >= threshold); the highest one when several tie. */
  threshold: number;
  precision: number;
  recall: number;
}

/**
 * The best F1 score over every distinct threshold (each distinct score value; prediction = score >= threshold),
 * with its threshold, precision and recall. When several thresholds reach the same F1 the highest is returned.
 * Needs at least one positive label (`DataError` otherwise).
 */
export function bestF1(scores: ArrayLike<number>, labels: ArrayLike<number>): BestF1 {
  const positives = checkScoresLabels(scores, labels);
  const n = scores.length;
  if (positives === 0) {
    throw new DataError('bestF1 needs at least one positive label', {
      argument: 'labels',
      expected: 'at least one 1',
      actual: `all ${n} labels are 0`,
    });
  }
  const idx = orderDescending(scores);
  let tp = 0;
  let fp = 0;
  let best: BestF1 = { f1: -1, threshold: scores[idx[0]], precision: 0, recall: 0 };
  let i = 0;
  while (i < n) {
    const v = scores[idx[i]];
    while (i < n && scores[idx[i]] === v) {
      if (labels[idx[i]] === 1) tp++;
      else fp++;
      i++;
    }
    const f1 = (2 * tp) / (2 * tp + fp + (positives - tp));
    if (f1 > best.f1) {
      best = { f1, threshold: v, precision: tp / (tp + fp), recall: tp / positives };
    }
  }
  return best;
}

/**
 * The q-th percentile of `scores`, q in [0, 100], with linear interpolation between order statistics
 * (NumPy's default `np.percentile`). Typical use: threshold = percentileThreshold(trainScores, 99).
 */
export function percentileThreshold(scores: ArrayLike<number>, q: number): number {
  checkScores(scores);
  if (typeof q !== 'number' || !Number.isFinite(q) || q < 0 || q > 100) {
    throw new ConfigError('percentile must be a number in [0, 100]', { argument: 'q', expected: '0 <= q <= 100', actual: q });
  }
  const sorted = Float64Array.from(scores as ArrayLike<number>).sort();
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const frac = pos - lo;
  return frac === 0 ? sorted[lo] : sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

// ---------------------------------------------------------------------------------------------
// Segment-wise metrics (Orion benchmark protocol)
// ---------------------------------------------------------------------------------------------

/** An inclusive interval `[start, end]` in index or time units (for example epoch milliseconds). */
export type Interval = readonly [number, number];

export interface SegmentCounts {
  tp: number;
  fp: number;
  fn: number;
}

export interface SegmentScores extends SegmentCounts {
  precision: number;
  recall: number;
  f1: number;
}

function checkIntervals(list: ReadonlyArray<Interval>, name: string): void {
  if (!Array.isArray(list)) {
    throw new DataError(`${name} must be an array of [start, end] intervals`, {
      argument: name,
      expected: 'Array<[start, end]>',
      actual: typeof list,
    });
  }
  list.forEach((iv, i) => {
    if (
      !Array.isArray(iv) ||
      iv.length !== 2 ||
      typeof iv[0] !== 'number' ||
      typeof iv[1] !== 'number' ||
      Number.isNaN(iv[0]) ||
      Number.isNaN(iv[1])
    ) {
      throw new DataError(`${name}[${i}] must be a [start, end] pair of numbers`, {
        argument: `${name}[${i}]`,
        expected: '[start, end]',
        actual: iv,
      });
    }
    if (iv[0] > iv[1]) {
      throw new DataError(`${name}[${i}] starts after it ends`, {
        argument: `${name}[${i}]`,
        expected: 'start <= end',
        actual: iv,
      });
    }
  });
}

function overlaps(a: Interval, b: Interval): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

/** Precision, recall and F1 from counts; a ratio with a zero denominator is 0. */
export function segmentScoresFromCounts(counts: SegmentCounts): SegmentScores {
  const { tp, fp, fn } = counts;
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fp, fn, precision, recall, f1 };
}

/**
 * Overlapping-segment scores as in the Orion benchmark (the protocol behind its published NAB F1 figures).
 * Intervals are inclusive `[start, end]`; two intervals overlap when they share at least one point
 * (`a.start <= b.end && b.start <= a.end`).
 * - tp: labelled windows that at least one detected interval overlaps (several detections inside one
 *   window count once, as Orion counts them; no detection is counted as a false positive for that);
 * - fp: detected intervals that overlap no labelled window;
 * - fn: labelled windows that no detected interval overlaps.
 * precision = tp / (tp + fp), recall = tp / (tp + fn), f1 their harmonic mean; a ratio whose
 * denominator is 0 is 0 (e.g. a file with no labelled window and no detection scores 0/0/0 — add the
 * counts over files with `sumSegmentCounts` and score the sum, as Orion does for a data set).
 */
export function overlappingSegmentF1(detected: ReadonlyArray<Interval>, labelled: ReadonlyArray<Interval>): SegmentScores {
  checkIntervals(detected, 'detected');
  checkIntervals(labelled, 'labelled');
  let tp = 0;
  let fn = 0;
  for (const w of labelled) {
    if (detected.some((d) => overlaps(d, w))) tp++;
    else fn++;
  }
  let fp = 0;
  for (const d of detected) {
    if (!labelled.some((w) => overlaps(d, w))) fp++;
  }
  return segmentScoresFromCounts({ tp, fp, fn });
}

/** Adds tp / fp / fn over several files and scores the totals (precision, recall, F1 of the sums). */
export function sumSegmentCounts(results: ReadonlyArray<SegmentCounts>): SegmentScores {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  results.forEach((r, i) => {
    for (const k of ['tp', 'fp', 'fn'] as const) {
      const v = r?.[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        throw new DataError('segment counts must be non-negative integers', {
          argument: `results[${i}].${k}`,
          expected: 'a non-negative integer',
          actual: v,
        });
      }
    }
    tp += r.tp;
    fp += r.fp;
    fn += r.fn;
  });
  return segmentScoresFromCounts({ tp, fp, fn });
}
