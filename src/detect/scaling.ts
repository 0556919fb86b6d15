/**
 * Scaling of continuous data before windowing: a normalizer fitted on every point of every segment.
 */

import { MinMaxNormalizer, type Normalizer, ZScoreNormalizer } from '../data/normalize.js';
import type { ContinuousInput, Segment } from '../data/series.js';

/** Fits a normalizer (min-max to [-1, 1] by default, or z-score) on every point of every segment. */
export function fitNormalizer(input: ContinuousInput, kind: 'minmax' | 'zscore' = 'minmax'): Normalizer {
  let total = 0;
  for (const s of input.segments) total += s.data.length;
  const all = new Float32Array(total);
  let o = 0;
  for (const s of input.segments) {
    all.set(s.data, o);
    o += s.data.length;
  }
  return (kind === 'zscore' ? new ZScoreNormalizer() : new MinMaxNormalizer([-1, 1])).fit(all, input.features);
}

export function normalizeSegments(segments: Segment[], normalizer: Normalizer | undefined): Segment[] {
  if (!normalizer) return segments;
  return segments.map((s) => ({ ...s, data: normalizer.transform(s.data) }));
}
