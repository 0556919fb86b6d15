/**
 * Thresholds: precision / recall / F1 of the scores above a threshold, and scores pooled over segments.
 */

export function thresholdScores(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): { threshold: number; precision: number; recall: number; f1: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i] > threshold;
    if (p && labels[i]) tp++;
    else if (p) fp++;
    else if (labels[i]) fn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return { threshold, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
}

export function concat(arrays: ArrayLike<number>[]): Float64Array {
  const n = arrays.reduce((a, x) => a + x.length, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const a of arrays) {
    out.set(a as ArrayLike<number>, o);
    o += a.length;
  }
  return out;
}
