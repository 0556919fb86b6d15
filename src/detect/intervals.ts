/**
 * Intervals: runs of labelled points, and anomalous intervals detected in point scores.
 */

import { findAnomalies } from './find-anomalies.js';

/** Inclusive runs of 1s. */
export function labelRuns(labels: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = -1;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]) {
      if (s < 0) s = i;
    } else if (s >= 0) {
      out.push([s, i - 1]);
      s = -1;
    }
  }
  if (s >= 0) out.push([s, labels.length - 1]);
  return out;
}

export function detectIntervals(pts: Float64Array[], k: number | 'auto' = 4): Array<Array<[number, number]>> {
  return pts.map((p) => (p.length >= 3 ? findAnomalies(p, { k }) : []));
}
