/**
 * Diagnostics of a trained continuous model (in ../model/diagnostics.ts, re-exported here) and the warning when the
 * anomalous intervals cover most of a series.
 */

export { DETECTOR_HINT, diagnose, looksLikeNoise } from '../model/diagnostics.js';

/** Share of a series' rows at or above which `coverageWarning` speaks (no development series came near it: at most 37%). */
export const COVERAGE_WARNING = 0.5;

/**
 * A one-line warning when the anomalous rows (`anomalies`, 0/1 per row) are at least half of the series: a threshold
 * meant for rare events that flags most of a series does not single them out. `training`: the series the detector
 * was fitted on (the window or the columns are then the suspects); otherwise a scored series (which may also differ
 * from the training series for most of its length). Undefined below the share.
 */
export function coverageWarning(anomalies: ArrayLike<number>, training: boolean): string | undefined {
  let flagged = 0;
  for (let i = 0; i < anomalies.length; i++) if (anomalies[i]) flagged++;
  const share = anomalies.length ? flagged / anomalies.length : 0;
  if (share < COVERAGE_WARNING) return undefined;
  const pct = `${(100 * share).toFixed(0)}%`;
  return training
    ? `the anomalous intervals cover ${pct} of the training series (${flagged} of ${anomalies.length} rows): the threshold does not single out rare events here; try another window (--window) or fewer columns (--columns)`
    : `the anomalous intervals cover ${pct} of the scored rows (${flagged} of ${anomalies.length}): most of this series differs from the series the detector was trained on, or the detector does not fit it`;
}
