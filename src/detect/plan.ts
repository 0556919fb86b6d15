/**
 * The plan an `AnomalyDetector` saves beside its model's weights (`metadata.detector`), and its reader.
 */

import { FormatError } from '../core/errors.js';
import type { Diagnostics, History } from '../train/index.js';

/** What a detector saves besides the model's weights (`metadata.detector` in its file). */
export interface DetectorPlan {
  version: 1;
  features: number;
  columns?: string[];
  /** Rows per point (1 = no aggregation). */
  aggregate: number;
  /** Dominant period found in the training series (rows), or null, with its autocorrelation. */
  period: number | null;
  periodAcf: number;
  /** Window length in (aggregated) points; windows are centred on their own mean. */
  window: number;
  /** How the window was chosen, in words. */
  windowReason: string;
  /** Per-feature median and scale of the training series. */
  center: number[];
  scale: number[];
  /**
   * Columns that were constant in the training series while others varied: centred on their value, on the median
   * scale of the varying columns, so that a change from that value counts as error. Files without it: none.
   */
  constantColumns?: number[];
  /** Centred moving average of the point errors over `smoothing` (aggregated) points. */
  smoothing: number;
  /** Scores above `threshold` are anomalous; runs `gap` points apart merge; each interval widens by `padding`. */
  threshold: number;
  thresholdRule: string;
  k: number;
  /**
   * A point whose own (unsmoothed) error is above `pointThreshold` (mean + `pointK`·std of the training series'
   * point errors) is anomalous too: its score is the larger of its smoothed error and its error ×
   * `threshold / pointThreshold`. Files without it: the smoothed error alone.
   */
  pointThreshold?: number;
  pointK?: number;
  gap: number;
  padding: number;
  /**
   * The first `warmup` points cannot open an alarm (their scores are still reported): every window that holds them
   * holds them in its first half, where the decoder, starting from its zero state, reconstructs worst. Files
   * without it: 0.
   */
  warmup?: number;
  /**
   * How a point's error depends on how many windows hold it, measured on the training (or recalibration) series:
   * `mean[c − 1]`, `std[c − 1]` of the errors of points reconstructed only by the windows that hold them in their last
   * c positions (c = 1 … window; c = window: by every window). The c-th row from the end of a series is held by the
   * last c windows alone; its error is put on the scale of the others (`correctTail`) before smoothing, so that the end
   * of a normal series does not look anomalous for being the end. Files without it: no correction.
   */
  tail?: { mean: number[]; std: number[] };
  /**
   * Training: `steps` over all the models, `stopped` the first model's reason, `members` each model's steps and
   * reason (with more than one model).
   */
  training: {
    rows: number;
    windows: number;
    filled: number;
    steps: number;
    stopped: History['stopped'];
    seconds: number;
    members?: Array<{ steps: number; stopped: History['stopped'] }>;
  };
  /** The first model's diagnostics. */
  diagnostics: Diagnostics;
  /**
   * The latent score (detect/latent.ts): each model's mean and precision of its posterior means over the training
   * series' windows; `threshold` (mean + `k`·std of the training series' smoothed latent scores) and `pointThreshold`
   * (mean + `pointK`·std of its point latent scores) play the parts the error's `threshold` and `pointThreshold` play
   * for it. A point's score is the larger of its error score and its latent score × `threshold / latent.threshold`, so
   * that either crossing its own bar crosses `threshold`. Files without it: the error score alone.
   */
  latent?: {
    models: Array<{ mean: number[]; precision: number[] }>;
    threshold: number;
    k: number;
    pointThreshold?: number;
    pointK?: number;
  };
  /**
   * Per-column bars (detect/columns.ts; tables of two or more columns): `threshold[j]` is mean + `k`·std of column j's
   * smoothed own error on the training (or recalibration) series, at the points that every window holds (0: no bar
   * for that column). A point's score is also at least its largest column ratio × `threshold`, so that a column
   * crossing its own bar crosses `threshold`. `point[j]` (when present) is mean + `pointK`·std of column j's point
   * errors (before the smoothing), a second bar for one-point events (0: none). Files without it: no column bars;
   * files with `threshold` and no `point` (made before 2026-12-04 17:00 UTC): no point bars.
   */
  columnBars?: { threshold: number[]; k: number; point?: number[]; pointK?: number };
  /** Models whose point errors are averaged (files without it: 1); the file holds the others as `detector.member<j>.*`. */
  members?: number;
  /** Set by `recalibrate`: the bars come from a series of `rows` rows, not from the training series. */
  calibration?: { rows: number };
}

/** Checks a saved plan (FormatError naming what is wrong). */
export function readPlan(v: unknown): DetectorPlan {
  const bad = (what: string) =>
    new FormatError(
      `this file is a model but not an anomaly detector (${what}); train one with AnomalyDetector.fit or \`lstm-vae train\``,
      { argument: '__metadata__.metadata.detector', expected: 'a detector plan (version 1)', actual: what },
    );
  if (v === undefined) throw bad('no detector plan');
  if (v === null || typeof v !== 'object') throw bad('the plan is not an object');
  const p = v as Partial<DetectorPlan>;
  if (p.version !== 1) throw bad(`plan version ${JSON.stringify(p.version)}`);
  const nums = ['features', 'aggregate', 'window', 'smoothing', 'threshold', 'gap', 'padding'] as const;
  for (const k of nums) if (typeof p[k] !== 'number' || !Number.isFinite(p[k])) throw bad(`${k} is not a number`);
  if (!Array.isArray(p.center) || !Array.isArray(p.scale) || p.center.length !== p.features || p.scale.length !== p.features)
    throw bad('center / scale do not match the features');
  if (!p.scale.every((s) => typeof s === 'number' && s > 0) || !p.center.every((c) => typeof c === 'number' && Number.isFinite(c)))
    throw bad('center / scale are not finite positive numbers');
  if (
    p.constantColumns !== undefined &&
    !(Array.isArray(p.constantColumns) && p.constantColumns.every((j) => Number.isInteger(j) && j >= 0 && j < p.features!))
  )
    throw bad('constantColumns are not column indices');
  if (!Number.isInteger(p.window) || p.window! < 2 || !Number.isInteger(p.aggregate) || p.aggregate! < 1)
    throw bad('window / aggregate are not whole numbers');
  if (p.warmup !== undefined && !(Number.isInteger(p.warmup) && p.warmup >= 0)) throw bad('warmup is not a whole number >= 0');
  if (p.tail !== undefined) {
    const t = p.tail as Partial<NonNullable<DetectorPlan['tail']>> | null;
    const list = (a: unknown) =>
      Array.isArray(a) && a.length === p.window && a.every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v));
    if (t === null || typeof t !== 'object' || !list(t.mean) || !list(t.std))
      throw bad('tail is not a mean and a std of window numbers >= 0');
  }
  if (
    p.pointThreshold !== undefined &&
    !(typeof p.pointThreshold === 'number' && p.pointThreshold > 0 && Number.isFinite(p.pointThreshold))
  )
    throw bad('pointThreshold is not a positive number');
  if (p.members !== undefined && !(Number.isInteger(p.members) && p.members >= 1 && p.members <= 64))
    throw bad('members is not a whole number from 1 to 64');
  if (p.calibration !== undefined && !(p.calibration && Number.isInteger(p.calibration.rows) && p.calibration.rows >= 1))
    throw bad('calibration.rows is not a whole number >= 1');
  if (p.columnBars !== undefined) {
    const c = p.columnBars as Partial<NonNullable<DetectorPlan['columnBars']>> | null;
    if (
      c === null ||
      typeof c !== 'object' ||
      !Array.isArray(c.threshold) ||
      c.threshold.length !== p.features ||
      !c.threshold.every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v)) ||
      typeof c.k !== 'number' ||
      !Number.isFinite(c.k) ||
      (c.point !== undefined &&
        !(
          Array.isArray(c.point) &&
          c.point.length === p.features &&
          c.point.every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v)) &&
          typeof c.pointK === 'number' &&
          Number.isFinite(c.pointK)
        ))
    )
      throw bad('columnBars are not one number >= 0 per column and a k (and, with point bars, one per column and a pointK)');
  }
  if (p.latent !== undefined) {
    const l = p.latent as Partial<NonNullable<DetectorPlan['latent']>>;
    const pos = (v: unknown) => typeof v === 'number' && v > 0 && Number.isFinite(v);
    if (l === null || typeof l !== 'object' || !pos(l.threshold) || (l.pointThreshold !== undefined && !pos(l.pointThreshold)))
      throw bad('the latent thresholds are not positive numbers');
    const finite = (a: unknown, len: number) =>
      Array.isArray(a) && a.length === len && a.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (
      !Array.isArray(l.models) ||
      l.models.length !== (p.members ?? 1) ||
      !l.models.every(
        (m) => m && Array.isArray(m.mean) && finite(m.mean, m.mean.length) && m.mean.length > 0 && finite(m.precision, m.mean.length ** 2),
      )
    )
      throw bad('the latent statistics do not match the models');
  }
  return p as DetectorPlan;
}
