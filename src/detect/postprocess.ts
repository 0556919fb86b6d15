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
export function scoreSource(
  smoothed: number,
  error: number,
  smoothedLatent: number,
  latent: number,
  plan: DetectorPlan,
  columnRatio = Number.NaN,
): ScoreSource {
  let by: ScoreSource = 'error';
  let best = smoothed;
  if (plan.pointThreshold !== undefined) {
    const v = (error * plan.threshold) / plan.pointThreshold;
    if (v > best) [by, best] = ['point', v];
  }
  const l = plan.latent;
  if (l && !Number.isNaN(smoothedLatent)) {
    const s = (smoothedLatent * plan.threshold) / l.threshold;
    if (s > best) [by, best] = ['latent', s];
    if (l.pointThreshold !== undefined) {
      const v = (((latent * l.threshold) / l.pointThreshold) * plan.threshold) / l.threshold;
      if (v > best) [by, best] = ['latent-point', v];
    }
  }
  if (plan.columnBars && !Number.isNaN(columnRatio) && columnRatio * plan.threshold > best) by = 'column';
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

/** Called after each chunk of windows: `done` of `total` windows reconstructed (over every model). */
export type Progress = (done: number, total: number) => void;

/** What `reconstructionErrors` returns. */
export interface Reconstructions {
  error: Float64Array;
  share: Float32Array;
  rec: Float64Array;
  sq: Float64Array;
  mu: Float32Array[];
  tail?: TailStats;
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
  o: { tail?: boolean; onProgress?: Progress } = {},
): Reconstructions {
  const starts = strideStarts(n, w, 1);
  // With `tail`: on up to TAIL_SAMPLES evenly spaced points that every window holds, the error each would have if
  // only the windows that hold it in their last c positions were there, as only the last c windows hold the c-th
  // row from the end of a series (see `tailStats`).
  const samples = o.tail ? tailSamples(n, w) : undefined;
  const tailSum = samples ? new Float64Array(samples.length * w) : undefined; // [sample, c − 1], summed over the models
  const sorted = samples ? new Float64Array(w * d) : undefined;
  let nextSample = 0;
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
    nextSample = 0;
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
        if (samples && tailSum && sorted && nextSample < samples.length && samples[nextSample] === p) {
          tailErrors(band, bandMeans, xs, p, first, w, d, sorted, tailSum.subarray(nextSample * w, (nextSample + 1) * w));
          nextSample++;
        }
      }
      next = last + 1;
      o.onProgress?.(mus.length * count + b, models.length * count);
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
  const tail = tailSum && samples?.length ? tailStats(tailSum, samples.length, w, k) : undefined;
  return { error, share, rec, sq, mu: mus, ...(tail ? { tail } : {}) };
}

/** At most this many points measure the tail statistics. */
const TAIL_SAMPLES = 256;

/**
 * How a point's error depends on how many windows hold it, measured on points that every window holds: `mean[c − 1]`
 * and `std[c − 1]` (population) of their errors when reconstructed only by the windows that hold them in their last c
 * positions, for c = 1 … w (c = w: by every window, their own errors).
 */
export interface TailStats {
  mean: number[];
  std: number[];
}

/** The points that measure the tail statistics: evenly spaced from w − 1 to n − w (ascending), none when there are none. */
function tailSamples(n: number, w: number): Int32Array {
  const lo = w - 1;
  const hi = n - w;
  if (hi < lo) return new Int32Array(0);
  const count = Math.min(TAIL_SAMPLES, hi - lo + 1);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = count === 1 ? lo : lo + Math.round((i * (hi - lo)) / (count - 1));
  return out;
}

/**
 * For point `p` (held by windows p − w + 1 … p, in the band from window `first`): adds to `sum[c − 1]` the error norm
 * of its median reconstruction from the windows that hold it in their last c positions (windows p − w + 1 … p − w + c),
 * for c = 1 … w (c = w: every window, the point's own error). The medians grow one window at a time (sorted insertion).
 */
function tailErrors(
  band: Float32Array,
  bandMeans: Float64Array,
  xs: Float64Array,
  p: number,
  first: number,
  w: number,
  d: number,
  sorted: Float64Array,
  sum: Float64Array,
): void {
  for (let c = 1; c <= w; c++) {
    const k = p - w + c;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = band[((k - first) * w + (p - k)) * d + j] + bandMeans[(k - first) * d + j];
      const col = sorted.subarray(j * w, j * w + c);
      let i = c - 1;
      while (i > 0 && col[i - 1] > v) {
        col[i] = col[i - 1];
        i--;
      }
      col[i] = v;
      const r = c % 2 ? col[(c - 1) >> 1] : 0.5 * (col[c / 2 - 1] + col[c / 2]);
      s += (xs[p * d + j] - r) ** 2;
    }
    sum[c - 1] += Math.sqrt(s);
  }
}

/** Mean and std over the sampled points of their errors (summed over `models` in `sum` `[samples, w]`), per c. */
function tailStats(sum: Float64Array, samples: number, w: number, models: number): TailStats | undefined {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < w; c++) {
    let m = 0;
    for (let i = 0; i < samples; i++) m += sum[i * w + c] / models;
    m /= samples;
    let v = 0;
    for (let i = 0; i < samples; i++) v += (sum[i * w + c] / models - m) ** 2;
    mean.push(m);
    std.push(Math.sqrt(v / samples));
  }
  return mean.every(Number.isFinite) && std.every(Number.isFinite) && std[w - 1] > 0 ? { mean, std } : undefined;
}

/**
 * The errors of the last w − 1 points put on the scale of a point that every window holds, in place: point n − c, which
 * only the last c windows hold (in their last c positions), gets `mean_w + (e − mean_c)·std_w / std_c` (the same
 * standard score among such errors as among every-window errors), never more than its own error nor below 0. A model
 * reconstructs the last steps of a window less well than the middle ones, depending on where in its cycle the window
 * ends, and a median of few windows is noisier than one of w: without this the end of a normal series looks anomalous
 * for being the end. `tail` absent (files made before it): unchanged.
 */
export function correctTail(error: Float64Array, tail: TailStats | undefined): void {
  if (!tail) return;
  const w = tail.mean.length;
  const n = error.length;
  const mw = tail.mean[w - 1];
  const sw = tail.std[w - 1];
  for (let c = 1; c < w && c <= n; c++) {
    const sc = tail.std[c - 1];
    if (!(sc > 0)) continue;
    const e = error[n - c];
    error[n - c] = Math.min(e, Math.max(0, mw + ((e - tail.mean[c - 1]) * sw) / sc));
  }
}
