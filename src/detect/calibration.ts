/**
 * The detector's bars: from its models' reconstructions of the training (or a recalibration) series, the threshold
 * on the smoothed errors, the point error bar, the end rows' statistics and the latent score's statistics and bars.
 * `AnomalyDetector.fit` and `recalibrate` call it; `score` and the live stream apply what it returns (the plan).
 */
import { columnBars, columnPointErrors, smoothColumnErrors } from './columns.js';
import { smoothScores } from './find-anomalies.js';
import { interior, type LatentModelStats, latentStats, pointLatentScores, smoothLatent, windowLatentDistances } from './latent.js';
import type { DetectorPlan } from './plan.js';
import { correctTail, meanPlusStd, type Progress, type Reconstructions, reconstructionErrors, type WindowModel } from './postprocess.js';

/** The error's bar: mean + THRESHOLD_K·std of the training series' smoothed errors. */
const THRESHOLD_K = 3;
/**
 * The latent score's bar: mean + LATENT_K·std of the training series' smoothed latent scores (4: with 3, as the
 * error's, a clean development series got two false intervals; 4 kept at most one on each, docs/training.md).
 */
const LATENT_K = 4;
/**
 * Each column's own bar (tables of two or more columns): mean + COLUMN_K·std of its smoothed errors (detect/columns.ts;
 * chosen on the development set's wide tables, docs/training.md).
 */
export const COLUMN_K = 6;
/**
 * Each column's own point bar (beside COLUMN_K's): mean + COLUMN_POINT_K·std of its point errors, for the one-point
 * events that the smoothing dilutes (chosen on the development set's wide tables, docs/training.md).
 */
export const COLUMN_POINT_K = 8;
/** A point whose own error is above mean + POINT_K·std of the series' point errors is anomalous (pointScore). */
const POINT_K = 12;

/** The parts of a plan that `calibration` sets (and `recalibrate` replaces). */
export type Bars = Pick<
  DetectorPlan,
  'smoothing' | 'gap' | 'threshold' | 'thresholdRule' | 'k' | 'pointThreshold' | 'pointK' | 'latent' | 'tail' | 'columnBars'
>;

/**
 * The detector's bars from its models' reconstructions of a (scaled, aggregated) series `xs` `[n, d]`: the threshold
 * on the series' own smoothed errors, the point error bar, and the latent score's statistics and bars; and those
 * reconstructions as they came (`rec`: `score` on the same series and weights would compute them again).
 */
export function calibration(
  models: readonly WindowModel[],
  xs: Float64Array,
  n: number,
  d: number,
  w: number,
  latentScore: boolean,
  tailCorrection: boolean,
  series = "the training series'",
  onProgress?: Progress,
): { bars: Bars; rec: Reconstructions } {
  // Threshold on the training series' own smoothed scores: mean + 3·std after a centred moving average
  // over 1 % of the points (chosen on the development set among fixed k = 3, 4, 5 and Hundman's automatic k,
  // moving average or EWMA over W/4, W or 1 % of the points, squared or plain errors, with or without padding).
  const smoothing = Math.max(1, Math.round(0.01 * n));
  const rec = reconstructionErrors(models, xs, n, d, w, { tail: tailCorrection, onProgress });
  const tail = rec.tail;
  const errors = Float64Array.from(rec.error);
  correctTail(errors, tail);
  const smoothed = smoothScores(errors, 'moving-average', smoothing);
  const threshold = meanPlusStd(smoothed, THRESHOLD_K);
  // A one-point anomaly is diluted by the moving average's span; a point whose own error is above mean +
  // 12·std of the point errors is anomalous too (chosen on the development set among 6, 8, 10 and 12; see
  // docs/training.md). Its score is its error scaled so that this bar falls on the threshold.
  const pointThreshold = meanPlusStd(errors, POINT_K);
  const latent = latentPlan(rec.mu, n, w, smoothing, latentScore);
  const colPoints = d >= 2 ? columnPointErrors(rec.sq, n, d, w) : undefined;
  const cols = colPoints ? columnBars(smoothColumnErrors(colPoints, n, w, smoothing), n, w, COLUMN_K) : undefined;
  const colPoint = colPoints ? columnBars(colPoints, n, w, COLUMN_POINT_K) : undefined;
  const colBars =
    cols?.some((b) => b > 0) || colPoint?.some((b) => b > 0)
      ? {
          threshold: cols ?? new Array<number>(d).fill(0),
          k: COLUMN_K,
          point: colPoint ?? new Array<number>(d).fill(0),
          pointK: COLUMN_POINT_K,
        }
      : undefined;
  const bars: Bars = {
    smoothing,
    gap: smoothing,
    threshold,
    thresholdRule: `mean + ${THRESHOLD_K}·std of ${series} smoothed errors (over ${smoothing === 1 ? '1 point' : `${smoothing} points`}), or a point's own error above mean + ${POINT_K}·std of its point errors${tail ? ` (the last ${w - 1} points' errors first put on the scale of points that every window holds)` : ''}${latent ? `; or the latent score (the distance of the windows' posterior means from the training windows') above mean + ${LATENT_K}·std of its smoothed values or ${POINT_K}·std of its point values` : ''}${colBars ? `; or a column's own smoothed error above mean + ${COLUMN_K}·std of its values, or its point error above mean + ${COLUMN_POINT_K}·std of its point errors` : ''}`,
    k: THRESHOLD_K,
    ...(pointThreshold > 0 ? { pointThreshold, pointK: POINT_K } : {}),
    ...(latent ? { latent } : {}),
    ...(tail ? { tail } : {}),
    ...(colBars ? { columnBars: colBars } : {}),
  };
  return { bars, rec };
}

/**
 * The latent part of a plan (see `DetectorPlan.latent`) from the models' posterior means of the training series'
 * stride-1 windows, or undefined when a model's means do not spread (a collapsed latent) or `enabled` is false.
 */
function latentPlan(mus: Float32Array[], n: number, w: number, smoothing: number, enabled: boolean): DetectorPlan['latent'] {
  if (!enabled) return undefined;
  const count = n - w + 1;
  const z = mus[0].length / count;
  const stats: LatentModelStats[] = [];
  for (const mu of mus) {
    const s = latentStats(mu, count, z);
    if (!s) return undefined;
    stats.push(s);
  }
  const lat = pointLatentScores(windowLatentDistances(mus, stats, count, z), n, w);
  const threshold = meanPlusStd(interior(smoothLatent(lat, n, w, smoothing), n, w), LATENT_K);
  const pointThreshold = meanPlusStd(interior(lat, n, w), POINT_K);
  if (!(threshold > 0 && Number.isFinite(threshold))) return undefined;
  return {
    models: stats,
    threshold,
    k: LATENT_K,
    ...(pointThreshold > 0 && Number.isFinite(pointThreshold) ? { pointThreshold, pointK: POINT_K } : {}),
  };
}
