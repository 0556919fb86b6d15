/**
 * The detector's scoring after the model: point reconstructions from overlapping windows, point errors averaged
 * over the detector's models, and intervals above a saved threshold.
 */

import type { ScoreSource } from './explain.js';
import { meanStd } from './find-anomalies.js';
import type { DetectorPlan } from './plan.js';
import { centredWindows, strideStarts } from './preprocess.js';

/** The median of `v` (sorted in place): the middle value, or the mean of the two middle ones. */
function medianOf(v: Float64Array): number {
  const c = v.length;
  v.sort();
  return c % 2 ? v[(c - 1) >> 1] : 0.5 * (v[c / 2 - 1] + v[c / 2]);
}

/**
 * For stride-1 windows (window k starts at point k, `n − w + 1` of them) with reconstructions `y`
 * `[windows, w, d]` of centred inputs and the windows' means: each point's reconstruction is the median,
 * over the windows that hold it, of that window's reconstruction of it (its mean added back), as Orion's
 * `reconstruction_errors` does. Returns `[n, d]`. (All windows at once: `reconstructionErrors` takes the same medians
 * band by band, and its test checks the two agree to the last bit.)
 */
export function medianReconstruction(y: Float32Array, means: Float64Array, n: number, d: number, w: number): Float64Array {
  const out = new Float64Array(n * d);
  const buf = new Float64Array(w);
  for (let p = 0; p < n; p++) {
    const lo = Math.max(0, p - w + 1);
    const hi = Math.min(p, n - w);
    for (let j = 0; j < d; j++) {
      let c = 0;
      for (let k = lo; k <= hi; k++) buf[c++] = y[(k * w + (p - k)) * d + j] + means[k * d + j];
      out[p * d + j] = medianOf(buf.subarray(0, c));
    }
  }
  return out;
}

/**
 * Mean + `k`·std (population) of `values`: the detector's threshold rule, on its smoothed scores (k = 3) and on its
 * point errors (k = 12).
 */
export function meanPlusStd(values: Float64Array, k: number): number {
  const [mean, sd] = meanStd(values);
  return mean + k * sd;
}

/**
 * A point's score: its smoothed error, or its own error scaled so that `pointThreshold` falls on `threshold`, whichever
 * is larger. The score is then above `threshold` when the smoothed error is, or when the point's own error is above
 * `pointThreshold` (a one-point anomaly, which the moving average dilutes by its span). Without a point threshold
 * (files made before it), the smoothed error.
 */
export function pointScore(smoothed: number, error: number, threshold: number, pointThreshold: number | undefined): number {
  if (pointThreshold === undefined) return smoothed;
  return Math.max(smoothed, (error * threshold) / pointThreshold);
}

/**
 * A point's score with the latent score beside the error's (`score`, from `pointScore`): the larger of the two, the
 * latent one (its own `pointScore` with the latent bars) scaled so that its threshold falls on the error's. Without
 * `plan.latent` (files made before it), `score`.
 */
export function withLatent(score: number, smoothedLatent: number, latent: number, plan: DetectorPlan): number {
  const l = plan.latent;
  if (!l || Number.isNaN(smoothedLatent)) return score; // NaN: a point without a latent score (smoothLatent)
  return Math.max(score, (pointScore(smoothedLatent, latent, l.threshold, l.pointThreshold) * plan.threshold) / l.threshold);
}

/**
 * Which bar a point's score comes from (the part of `withLatent(pointScore(…))` that equals it, the earlier on a tie;
 * see `ScoreSource`). The same arithmetic on the same values in the batch and the stream, so the two agree.
 */
export function scoreSource(smoothed: number, error: number, smoothedLatent: number, latent: number, plan: DetectorPlan): ScoreSource {
  let by: ScoreSource = 'error';
  let best = smoothed;
  if (plan.pointThreshold !== undefined) {
    const v = (error * plan.threshold) / plan.pointThreshold;
    if (v > best) [by, best] = ['point', v];
  }
  const l = plan.latent;
  if (!l || Number.isNaN(smoothedLatent)) return by;
  const s = (smoothedLatent * plan.threshold) / l.threshold;
  if (s > best) [by, best] = ['latent', s];
  if (l.pointThreshold !== undefined) {
    const v = (((latent * l.threshold) / l.pointThreshold) * plan.threshold) / l.threshold;
    if (v > best) by = 'latent-point';
  }
  return by;
}

/**
 * Intervals where `smoothed` is above `threshold`: runs of points above it, runs at most `gap` points apart
 * merged, then each widened by `pad` points on both sides (clipped to the series) and overlapping ones merged.
 * Points before `from` are never above (they cannot open an interval; padding may still reach them).
 */
export function intervalsAbove(
  smoothed: ArrayLike<number>,
  threshold: number,
  gap: number,
  pad: number,
  from = 0,
): Array<[number, number]> {
  const n = smoothed.length;
  const runs: Array<[number, number]> = [];
  let s = -1;
  for (let i = 0; i <= n; i++) {
    const above = i < n && i >= from && smoothed[i] > threshold;
    if (above && s < 0) s = i;
    else if (!above && s >= 0) {
      const last = runs[runs.length - 1];
      if (last && s - last[1] - 1 <= gap) last[1] = i - 1;
      else runs.push([s, i - 1]);
      s = -1;
    }
  }
  const out: Array<[number, number]> = [];
  for (const [a, b] of runs) {
    const lo = Math.max(0, a - pad);
    const hi = Math.min(n - 1, b + pad);
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** What the detector needs of a model: reconstructions of windows and their posterior means, from one encoder pass. */
export type WindowModel = {
  reconstructWithMean(x: { data: Float32Array; shape: number[] }): { reconstruction: Float32Array; mu: Float32Array };
};

/**
 * Reconstructions `[count, w, d]` of `count` centred windows and their posterior means `[count, Z]`. A window gives the
 * same bits alone as inside a batch (the kernels compute every row of a batch as they compute a single one), so the
 * live stream, which reconstructs one window at a time, gives the batch's scores to the last bit.
 */
export function reconstructWindows(
  model: WindowModel,
  data: Float32Array,
  count: number,
  w: number,
  d: number,
): { reconstruction: Float32Array; mu: Float32Array } {
  return model.reconstructWithMean({ data, shape: [count, w, d] });
}

/**
 * Every model's median reconstruction of each point from all stride-1 windows (in chunks), and the point errors
 * averaged over the models: `error` [n] the mean of the models' error norms, `sq` [n, d] the mean squared error of
 * each feature, `share` each feature's share of the summed squares, `rec` the mean reconstruction. (The live stream
 * (stream.ts) does the same arithmetic in the same order, so its scores equal these to the last bit.) `mu`: each model's
 * posterior means of the windows `[n − w + 1, Z]`.
 */
export function reconstructionErrors(
  models: readonly WindowModel[],
  xs: Float64Array,
  n: number,
  d: number,
  w: number,
): { error: Float64Array; share: Float32Array; rec: Float64Array; sq: Float64Array; mu: Float32Array[] } {
  const starts = strideStarts(n, w, 1);
  const count = starts.length;
  const chunk = 1024;
  const error = new Float64Array(n);
  const sq = new Float64Array(n * d);
  const rec = new Float64Array(n * d);
  // Windows are reconstructed chunk by chunk, and a point's median taken as soon as every window that covers it is
  // done, so memory holds one chunk and the w − 1 windows before it (not all n windows: a long, wide series would
  // need n·w·d floats twice). Same chunks, same values, same order as reconstructing all windows first.
  const keep = w - 1;
  const band = new Float32Array((chunk + keep) * w * d);
  const bandMeans = new Float64Array((chunk + keep) * d);
  const buf = new Float64Array(w);
  const mus: Float32Array[] = [];
  for (const model of models) {
    let mu: Float32Array | undefined;
    let first = 0; // window index of band[0]
    let held = 0; // windows in the band
    let next = 0; // first point not yet done
    for (let a = 0; a < count; a += chunk) {
      const b = Math.min(count, a + chunk);
      // drop the windows no point from `next` on needs (those before next − w + 1), keep the rest at the front
      const from = Math.max(first, next - w + 1);
      const shift = from - first;
      band.copyWithin(0, shift * w * d, held * w * d);
      bandMeans.copyWithin(0, shift * d, held * d);
      held -= shift;
      first = from;
      const part = centredWindows(xs, d, w, starts.subarray(a, b));
      const out = reconstructWindows(model, part.data, b - a, w, d);
      band.set(out.reconstruction, held * w * d);
      const z = out.mu.length / (b - a);
      mu ??= new Float32Array(count * z);
      mu.set(out.mu, a * z);
      bandMeans.set(part.means, held * d);
      held += b - a;
      // points whose last covering window (min(p, n − w)) is done
      const last = b === count ? n - 1 : b - 1;
      for (let p = next; p <= last; p++) {
        const lo = Math.max(0, p - w + 1);
        const hi = Math.min(p, n - w);
        let s = 0;
        for (let j = 0; j < d; j++) {
          let c = 0;
          for (let k = lo; k <= hi; k++) buf[c++] = band[((k - first) * w + (p - k)) * d + j] + bandMeans[(k - first) * d + j];
          const r = medianOf(buf.subarray(0, c));
          const e = (xs[p * d + j] - r) ** 2;
          sq[p * d + j] += e;
          rec[p * d + j] += r;
          s += e;
        }
        error[p] += Math.sqrt(s);
      }
      next = last + 1;
    }
    mus.push(mu ?? new Float32Array(0));
  }
  const k = models.length;
  const share = new Float32Array(n * d);
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += sq[p * d + j];
    for (let j = 0; j < d; j++) share[p * d + j] = s > 0 ? Math.fround(sq[p * d + j]) / s : 1 / d;
    error[p] /= k;
    for (let j = 0; j < d; j++) {
      sq[p * d + j] /= k;
      rec[p * d + j] /= k;
    }
  }
  return { error, share, rec, sq, mu: mus };
}
