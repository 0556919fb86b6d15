import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { averagePrecision, bestF1, overlappingSegmentF1, percentileThreshold, rocAuc, sumSegmentCounts } from '../src/eval/metrics.js';
import { findAnomalies, findAnomaliesDetailed, smoothScores } from '../src/detect/find-anomalies.js';
import { ConfigError, DataError, ShapeError } from '../src/core/errors.js';

// ---------------------------------------------------------------------------------------------
// Brute-force references, straight from the definitions
// ---------------------------------------------------------------------------------------------

/** P(score_pos > score_neg) + ½ P(equal), over every (positive, negative) pair. O(n²). */
function bruteAuc(s: number[], l: number[]): number {
  let num = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    if (l[i] !== 1) continue;
    for (let j = 0; j < s.length; j++) {
      if (l[j] !== 0) continue;
      pairs++;
      if (s[i] > s[j]) num += 1;
      else if (s[i] === s[j]) num += 0.5;
    }
  }
  return num / pairs;
}

/** Precision and recall of the prediction score >= t, counted from scratch. */
function prAt(s: number[], l: number[], t: number): { p: number; r: number; tp: number; fp: number; fn: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < s.length; i++) {
    const pred = s[i] >= t;
    if (pred && l[i] === 1) tp++;
    else if (pred) fp++;
    else if (l[i] === 1) fn++;
  }
  return { p: tp + fp ? tp / (tp + fp) : 0, r: tp / (tp + fn), tp, fp, fn };
}

function distinctDesc(s: number[]): number[] {
  return [...new Set(s)].sort((a, b) => b - a);
}

/** Σ (R_n − R_{n−1}) P_n over distinct thresholds, high to low. */
function bruteAp(s: number[], l: number[]): number {
  let prevR = 0;
  let ap = 0;
  for (const t of distinctDesc(s)) {
    const { p, r } = prAt(s, l, t);
    ap += (r - prevR) * p;
    prevR = r;
  }
  return ap;
}

function bruteBestF1(s: number[], l: number[]): number {
  let best = 0;
  for (const t of distinctDesc(s)) {
    const { tp, fp, fn } = prAt(s, l, t);
    best = Math.max(best, (2 * tp) / (2 * tp + fp + fn));
  }
  return best;
}

/** Random scored, labelled samples with both classes; scores from a small set to create ties. */
const samples = fc
  .array(
    fc.record({
      s: fc.oneof(
        fc.integer({ min: 0, max: 8 }).map((x) => x / 4),
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
      ),
      l: fc.integer({ min: 0, max: 1 }),
    }),
    { minLength: 2, maxLength: 60 },
  )
  .filter((a) => a.some((x) => x.l === 1) && a.some((x) => x.l === 0))
  .map((a) => ({ s: a.map((x) => x.s), l: a.map((x) => x.l) }));

describe('rocAuc', () => {
  it('equals the pairwise count with ties = 1/2 (property)', () => {
    fc.assert(
      fc.property(samples, ({ s, l }) => {
        expect(rocAuc(s, l)).toBeCloseTo(bruteAuc(s, l), 12);
      }),
      { numRuns: 300 },
    );
  });

  it('matches known values', () => {
    // scikit-learn's documentation example: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 15);
    expect(rocAuc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5); // all tied
    expect(rocAuc([0, 1], [0, 1])).toBe(1);
    expect(rocAuc([1, 0], [0, 1])).toBe(0);
    // typed arrays are accepted
    expect(rocAuc(new Float32Array([0.1, 0.4, 0.35, 0.8]), new Uint8Array([0, 0, 1, 1]))).toBeCloseTo(0.75, 7);
  });

  it('runs in O(n log n) on large inputs', () => {
    const n = 200_000;
    const s = new Float64Array(n);
    const l = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      l[i] = i % 7 === 0 ? 1 : 0;
      s[i] = ((i * 7919) % 1000) / 1000 + l[i] * 0.3;
    }
    const t0 = performance.now();
    const auc = rocAuc(s, l);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(auc).toBeGreaterThan(0.5);
  });

  it('throws typed errors on bad input', () => {
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(DataError);
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(/both classes.*all 2 labels are 1/);
    expect(() => rocAuc([0.1, 0.2], [0, 0])).toThrow(/all 2 labels are 0/);
    expect(() => rocAuc([0.1, 0.2, 0.3], [0, 1])).toThrow(ShapeError);
    expect(() => rocAuc([0.1, 0.2, 0.3], [0, 1])).toThrow(/argument: labels.length; expected: 3; got: 2/);
    expect(() => rocAuc([], [])).toThrow(DataError);
    expect(() => rocAuc([], [])).toThrow(/scores is empty/);
    expect(() => rocAuc([0.1, NaN], [0, 1])).toThrow(DataError);
    expect(() => rocAuc([0.1, NaN], [0, 1])).toThrow(/argument: scores\[1\]; expected: a finite number; got: NaN/);
    expect(() => rocAuc([0.1, Infinity], [0, 1])).toThrow(/scores\[1\]/);
    expect(() => rocAuc([0.1, 0.2], [0, 2])).toThrow(DataError);
    expect(() => rocAuc([0.1, 0.2], [0, 2])).toThrow(/argument: labels\[1\]; expected: 0 or 1; got: 2/);
  });
});

describe('averagePrecision', () => {
  it('equals the brute-force definition (property)', () => {
    fc.assert(
      fc.property(samples, ({ s, l }) => {
        expect(averagePrecision(s, l)).toBeCloseTo(bruteAp(s, l), 12);
      }),
      { numRuns: 300 },
    );
  });

  it('matches known values', () => {
    // scikit-learn's documentation example: average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.8333…
    // thresholds 0.8: P=1, R=.5; 0.4: P=.5, R=.5; 0.35: P=2/3, R=1 → .5·1 + 0 + .5·2/3 = 5/6
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(5 / 6, 15);
    // all tied: one threshold, P = prevalence, R = 1
    expect(averagePrecision([3, 3, 3, 3], [0, 1, 0, 0])).toBeCloseTo(0.25, 15);
    // all positive: 1
    expect(averagePrecision([0.3, 0.1], [1, 1])).toBe(1);
  });

  it('needs a positive label', () => {
    expect(() => averagePrecision([0.1, 0.2], [0, 0])).toThrow(DataError);
    expect(() => averagePrecision([0.1, 0.2], [0, 0])).toThrow(/at least one positive/);
  });
});

describe('bestF1', () => {
  it('equals the best F1 of a brute-force sweep, and its threshold reproduces it (property)', () => {
    fc.assert(
      fc.property(samples, ({ s, l }) => {
        const r = bestF1(s, l);
        expect(r.f1).toBeCloseTo(bruteBestF1(s, l), 12);
        const at = prAt(s, l, r.threshold);
        expect(r.precision).toBeCloseTo(at.p, 12);
        expect(r.recall).toBeCloseTo(at.r, 12);
        expect(r.f1).toBeCloseTo((2 * at.tp) / (2 * at.tp + at.fp + at.fn), 12);
        expect(s).toContain(r.threshold);
      }),
      { numRuns: 300 },
    );
  });

  it('finds a perfect separation', () => {
    expect(bestF1([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1])).toEqual({ f1: 1, threshold: 0.8, precision: 1, recall: 1 });
  });

  it('needs a positive label', () => {
    expect(() => bestF1([0.1, 0.2], [0, 0])).toThrow(DataError);
  });
});

describe('percentileThreshold', () => {
  it('interpolates linearly like numpy.percentile', () => {
    expect(percentileThreshold([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentileThreshold([4, 1, 3, 2], 90)).toBeCloseTo(3.7, 12);
    expect(percentileThreshold([4, 1, 3, 2], 0)).toBe(1);
    expect(percentileThreshold([4, 1, 3, 2], 100)).toBe(4);
    expect(percentileThreshold([7], 37)).toBe(7);
  });

  it('rejects q outside [0, 100]', () => {
    expect(() => percentileThreshold([1, 2], 101)).toThrow(ConfigError);
    expect(() => percentileThreshold([1, 2], -1)).toThrow(/argument: q; expected: 0 <= q <= 100; got: -1/);
    expect(() => percentileThreshold([], 50)).toThrow(DataError);
  });
});

describe('overlappingSegmentF1 (Orion protocol)', () => {
  it('counts a mixed case', () => {
    const labelled: Array<[number, number]> = [
      [10, 20],
      [40, 50],
      [80, 90],
    ];
    const detected: Array<[number, number]> = [
      [5, 12], // overlaps [10,20]
      [15, 18], // also inside [10,20]: that window is already found, not a false positive either
      [30, 35], // overlaps nothing → fp
      [45, 60], // overlaps [40,50]
      [95, 99], // overlaps nothing → fp
    ];
    // tp = windows found: [10,20], [40,50] = 2; fn = [80,90] = 1; fp = [30,35], [95,99] = 2
    // precision = 2/4, recall = 2/3, f1 = 2·(1/2)(2/3)/(1/2 + 2/3) = 4/7
    const r = overlappingSegmentF1(detected, labelled);
    expect(r).toMatchObject({ tp: 2, fp: 2, fn: 1 });
    expect(r.precision).toBeCloseTo(0.5, 15);
    expect(r.recall).toBeCloseTo(2 / 3, 15);
    expect(r.f1).toBeCloseTo(4 / 7, 15);
  });

  it('treats intervals as inclusive', () => {
    // [20,25] shares point 20 with [10,20] → tp 1, fp 0, fn 0
    expect(overlappingSegmentF1([[20, 25]], [[10, 20]])).toMatchObject({ tp: 1, fp: 0, fn: 0, f1: 1 });
    // [21,25] touches nothing → fp 1; the window is missed → fn 1; precision = recall = 0
    expect(overlappingSegmentF1([[21, 25]], [[10, 20]])).toMatchObject({ tp: 0, fp: 1, fn: 1, precision: 0, recall: 0, f1: 0 });
    // a one-point detection inside a window
    expect(overlappingSegmentF1([[15, 15]], [[10, 20]])).toMatchObject({ tp: 1, fp: 0, fn: 0 });
  });

  it('handles empty sides and spanning detections', () => {
    // nothing detected: tp 0, fp 0, fn 2 → all ratios 0
    expect(
      overlappingSegmentF1(
        [],
        [
          [1, 2],
          [5, 6],
        ],
      ),
    ).toEqual({ tp: 0, fp: 0, fn: 2, precision: 0, recall: 0, f1: 0 });
    // nothing labelled: every detection is an fp
    expect(
      overlappingSegmentF1(
        [
          [1, 2],
          [5, 6],
        ],
        [],
      ),
    ).toMatchObject({ tp: 0, fp: 2, fn: 0 });
    // one detection spanning two windows finds both: tp 2, fp 0, fn 0
    expect(
      overlappingSegmentF1(
        [[0, 100]],
        [
          [10, 20],
          [40, 50],
        ],
      ),
    ).toMatchObject({ tp: 2, fp: 0, fn: 0, f1: 1 });
    // time units (epoch ms) work the same
    const t = Date.UTC(2014, 3, 10);
    expect(overlappingSegmentF1([[t + 1000, t + 5000]], [[t, t + 2000]])).toMatchObject({ tp: 1, fp: 0, fn: 0 });
  });

  it('sums counts over files', () => {
    // mixed case (2, 2, 1) + spanning case (2, 0, 0) = (4, 2, 1): precision 4/6, recall 4/5, f1 = 8/11
    const r = sumSegmentCounts([
      { tp: 2, fp: 2, fn: 1 },
      { tp: 2, fp: 0, fn: 0 },
    ]);
    expect(r).toMatchObject({ tp: 4, fp: 2, fn: 1 });
    expect(r.precision).toBeCloseTo(2 / 3, 15);
    expect(r.recall).toBeCloseTo(0.8, 15);
    expect(r.f1).toBeCloseTo(8 / 11, 15);
    expect(sumSegmentCounts([])).toEqual({ tp: 0, fp: 0, fn: 0, precision: 0, recall: 0, f1: 0 });
    expect(() => sumSegmentCounts([{ tp: -1, fp: 0, fn: 0 }])).toThrow(DataError);
  });

  it('rejects malformed intervals', () => {
    expect(() => overlappingSegmentF1([[5, 1]], [])).toThrow(DataError);
    expect(() => overlappingSegmentF1([[5, 1]], [])).toThrow(/argument: detected\[0\]; expected: start <= end; got: \[5,1\]/);
    expect(() => overlappingSegmentF1([], [[1, NaN]] as Array<[number, number]>)).toThrow(/labelled\[0\]/);
  });
});

describe('findAnomalies', () => {
  function signal(n: number, bumps: Array<[number, number]>): Float64Array {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = 0.1 + 0.05 * Math.sin(i * 0.7) * Math.cos(i * 0.13);
    for (const [s, e] of bumps) for (let i = s; i <= e; i++) x[i] += 5;
    return x;
  }

  it('finds planted bumps with the defaults', () => {
    const x = signal(4000, [
      [1000, 1040],
      [3000, 3030],
    ]);
    const found = findAnomalies(x);
    expect(found.length).toBe(2);
    const r = overlappingSegmentF1(found, [
      [1000, 1040],
      [3000, 3030],
    ]);
    expect(r).toMatchObject({ tp: 2, fp: 0, fn: 0 });
  });

  it('groups, merges and drops without smoothing', () => {
    const x = new Float64Array(100);
    x[10] = x[11] = x[12] = 10; // run [10,12]
    x[15] = 10; // 2 points below in between → merged with minGap 2
    x[50] = 10; // a single point → dropped with minLength 2
    const d = findAnomaliesDetailed(x, { smoothing: 'none', k: 2, minGap: 2, minLength: 2 });
    expect(d.intervals).toEqual([[10, 15]]);
    expect(d.k).toBe(2);
    expect(findAnomalies(x, { smoothing: 'none', k: 2, minGap: 1, minLength: 1 })).toEqual([
      [10, 12],
      [15, 15],
      [50, 50],
    ]);
  });

  it('chooses k automatically and returns nothing on a flat signal', () => {
    const x = signal(2000, [[500, 520]]);
    const d = findAnomaliesDetailed(x, { k: 'auto' });
    expect(d.k).toBeGreaterThanOrEqual(2);
    expect(overlappingSegmentF1(d.intervals, [[500, 520]])).toMatchObject({ tp: 1, fn: 0 });
    expect(findAnomalies(new Float64Array(50).fill(3))).toEqual([]);
  });

  it('smooths like pandas ewm(span).mean() and a centred moving average', () => {
    // span 3 → α = 0.5; y0 = 1, y1 = (2 + .5·1)/(1 + .5) = 5/3, y2 = (4 + .5·2 + .25·1)/(1.75) = 3
    const e = smoothScores([1, 2, 4], 'ewma', 3);
    expect(Array.from(e).map((v) => +v.toFixed(12))).toEqual([1, +(5 / 3).toFixed(12), 3]);
    expect(Array.from(smoothScores([1, 2, 3, 4, 5], 'moving-average', 3))).toEqual([1.5, 2, 3, 4, 4.5]);
  });

  it('rejects bad input', () => {
    expect(() => findAnomalies([])).toThrow(DataError);
    expect(() => findAnomalies([1, NaN])).toThrow(/pointScores\[1\]/);
    expect(() => findAnomalies([1, 2], { minLength: 0 })).toThrow(ConfigError);
    expect(() => findAnomalies([1, 2], { k: Number.NaN })).toThrow(ConfigError);
  });
});
