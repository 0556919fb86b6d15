/**
 * The detector's second score: how far a window's posterior mean lies from where the training series' windows put
 * theirs. A window whose shape the decoder can still copy (its reconstruction error stays low) may be encoded to an
 * unusual place in the latent space, and a window unlike the training windows may be, too: a level shift inside the
 * window, a change of frequency or amplitude. For each model: the squared Mahalanobis distance of the window's `mu`
 * from the mean of the training windows' `mu`s under their covariance; a window's latent distance is its models' mean,
 * a point's the median over the windows that hold it (as its reconstruction is). Chosen on the development set
 * (docs/training.md, "A latent-space score").
 */

/** A model's statistics of its posterior means over the training windows: `mean` `[Z]`, `precision` `[Z·Z]` (row-major). */
export interface LatentModelStats {
  mean: number[];
  precision: number[];
}

/**
 * Mean and precision (the inverse of the covariance, its diagonal raised by 1e-6 of its mean variance so that a
 * latent dimension every window shares does not make it singular) of `count` posterior means `mu` `[count, z]`, or
 * null when the covariance cannot be inverted (every window encoded to one point).
 */
export function latentStats(mu: Float32Array, count: number, z: number): LatentModelStats | null {
  const mean = new Float64Array(z);
  for (let i = 0; i < count; i++) for (let j = 0; j < z; j++) mean[j] += mu[i * z + j];
  for (let j = 0; j < z; j++) mean[j] /= count;
  const c = new Float64Array(z * z);
  const v = new Float64Array(z);
  for (let i = 0; i < count; i++) {
    for (let a = 0; a < z; a++) v[a] = mu[i * z + a] - mean[a];
    for (let a = 0; a < z; a++) for (let b = 0; b < z; b++) c[a * z + b] += v[a] * v[b];
  }
  let trace = 0;
  for (let a = 0; a < z; a++) trace += c[a * z + a] / count;
  if (!(trace > 0) || !Number.isFinite(trace)) return null;
  for (let i = 0; i < z * z; i++) c[i] /= count;
  for (let a = 0; a < z; a++) c[a * z + a] += (1e-6 * trace) / z;
  const inv = invert(c, z);
  if (!inv) return null;
  return { mean: Array.from(mean), precision: Array.from(inv) };
}

/** Gauss–Jordan inverse of the symmetric `z × z` matrix `m` (partial pivoting), or null when a pivot vanishes. */
function invert(m: Float64Array, z: number): Float64Array | null {
  const a = Float64Array.from(m);
  const inv = new Float64Array(z * z);
  for (let i = 0; i < z; i++) inv[i * z + i] = 1;
  for (let col = 0; col < z; col++) {
    let p = col;
    for (let r = col + 1; r < z; r++) if (Math.abs(a[r * z + col]) > Math.abs(a[p * z + col])) p = r;
    if (!(Math.abs(a[p * z + col]) > 0)) return null;
    if (p !== col)
      for (let k = 0; k < z; k++) {
        [a[col * z + k], a[p * z + k]] = [a[p * z + k], a[col * z + k]];
        [inv[col * z + k], inv[p * z + k]] = [inv[p * z + k], inv[col * z + k]];
      }
    const piv = a[col * z + col];
    for (let k = 0; k < z; k++) {
      a[col * z + k] /= piv;
      inv[col * z + k] /= piv;
    }
    for (let r = 0; r < z; r++) {
      if (r === col) continue;
      const f = a[r * z + col];
      if (f === 0) continue;
      for (let k = 0; k < z; k++) {
        a[r * z + k] -= f * a[col * z + k];
        inv[r * z + k] -= f * inv[col * z + k];
      }
    }
  }
  for (let i = 0; i < z * z; i++) if (!Number.isFinite(inv[i])) return null;
  return inv;
}

/** Squared Mahalanobis distance of `mu[offset .. offset + z)` from `s.mean` under `s.precision`. */
export function latentDistance(mu: ArrayLike<number>, offset: number, s: LatentModelStats, z: number): number {
  let d2 = 0;
  for (let a = 0; a < z; a++) {
    const va = mu[offset + a] - s.mean[a];
    let t = 0;
    for (let b = 0; b < z; b++) t += s.precision[a * z + b] * (mu[offset + b] - s.mean[b]);
    d2 += va * t;
  }
  return d2;
}

/**
 * The latent distance of each of `count` windows: the mean over the models of each model's distance (`mus[m]` holds
 * model m's posterior means `[count, z]`), summed in the models' order and then divided by their number.
 */
export function windowLatentDistances(
  mus: readonly Float32Array[],
  stats: readonly LatentModelStats[],
  count: number,
  z: number,
): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let m = 0; m < mus.length; m++) s += latentDistance(mus[m], i * z, stats[m], z);
    out[i] = s / mus.length;
  }
  return out;
}

/**
 * Each point's latent score for stride-1 windows (window k holds points k .. k + w − 1, `n − w + 1` of them): the
 * median of the distances of the w windows that hold it, for the points that w windows hold (`w − 1 .. n − w`); 0
 * elsewhere (not a score: `smoothLatent` leaves those points out). A point nearer an end than w − 1 has fewer windows,
 * and their median is not comparable: on a periodic series the distance follows the window's phase, the median over a
 * whole period is nearly constant, and a median over part of one stands out at both ends of every series.
 */
export function pointLatentScores(windows: Float64Array, n: number, w: number): Float64Array {
  const out = new Float64Array(n);
  const buf = new Float64Array(w);
  for (let p = w - 1; p <= n - w; p++) {
    for (let k = p - w + 1, c = 0; k <= p; k++) buf[c++] = windows[k];
    out[p] = medianSorted(buf);
  }
  return out;
}

/**
 * The centred moving average (`smoothing` points, as the errors') of the point latent scores over the points that w
 * windows hold, `w − 1 .. n − w`, from prefix sums as the live stream keeps them; NaN at the other points (no latent
 * score there).
 */
export function smoothLatent(lat: Float64Array, n: number, w: number, smoothing: number): Float64Array {
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + lat[i];
  const before = Math.floor((smoothing - 1) / 2);
  const after = smoothing - 1 - before;
  const out = new Float64Array(n).fill(Number.NaN);
  for (let c = w - 1; c <= n - w; c++) {
    const lo = Math.max(w - 1, c - before);
    const hi = Math.min(n - w, c + after);
    out[c] = (prefix[hi + 1] - prefix[lo]) / (hi - lo + 1);
  }
  return out;
}

/** The values of `v` at points `w − 1 .. n − w` (those with a latent score). */
export function interior(v: Float64Array, n: number, w: number): Float64Array {
  return v.subarray(w - 1, Math.max(w - 1, n - w + 1));
}

/** The median of `v` (sorted in place). */
export function medianSorted(v: Float64Array): number {
  const c = v.length;
  v.sort();
  return c % 2 ? v[(c - 1) >> 1] : 0.5 * (v[c / 2 - 1] + v[c / 2]);
}
