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
  /** Centred moving average of the point errors over `smoothing` (aggregated) points. */
  smoothing: number;
  /** Scores above `threshold` are anomalous; runs `gap` points apart merge; each interval widens by `padding`. */
  threshold: number;
  thresholdRule: string;
  k: number;
  gap: number;
  padding: number;
  /**
   * The first `warmup` points cannot open an alarm (their scores are still reported): every window that holds them
   * holds them in its first half, where the decoder, starting from its zero state, reconstructs worst. Files
   * without it: 0.
   */
  warmup?: number;
  /**
   * The last points of a scored series, whose scores are not final yet (`unsettledPoints(plan)` of them: not every
   * window that holds them, or every point their smoothing averages, is in the series; the live stream reports them
   * only once those points arrive), open an alarm only above `tailFactor` × `threshold`: their reconstructions are
   * medians over a few windows, and their scores run higher on series with no anomaly. An alarm opened before them
   * continues through them at the threshold. Files without it: no such rule.
   */
  tailFactor?: number;
  training: { rows: number; windows: number; filled: number; steps: number; stopped: History['stopped']; seconds: number };
  diagnostics: Diagnostics;
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
  if (!Number.isInteger(p.window) || p.window! < 2 || !Number.isInteger(p.aggregate) || p.aggregate! < 1)
    throw bad('window / aggregate are not whole numbers');
  if (p.warmup !== undefined && !(Number.isInteger(p.warmup) && p.warmup >= 0)) throw bad('warmup is not a whole number >= 0');
  if (p.tailFactor !== undefined && !(typeof p.tailFactor === 'number' && p.tailFactor >= 1 && Number.isFinite(p.tailFactor)))
    throw bad('tailFactor is not a number >= 1');
  return p as DetectorPlan;
}

/**
 * How many of the last (aggregated) points of a scored series have scores that are not final: the windows that
 * hold a point end up to `window − 1` points after it, and its centred moving average reaches `after` points
 * further (0 for plans without `tailFactor`).
 */
export function unsettledPoints(plan: Pick<DetectorPlan, 'window' | 'smoothing' | 'tailFactor'>): number {
  if (plan.tailFactor === undefined) return 0;
  const after = plan.smoothing - 1 - Math.floor((plan.smoothing - 1) / 2);
  return plan.window - 1 + after;
}
