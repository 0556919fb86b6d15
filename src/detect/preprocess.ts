/**
 * The detector's preprocessing, as plain functions over row-major `[n, d]` float64 data: filling missing
 * values, finding the dominant period, aggregating into bins, robust per-feature scaling, and windows
 * centred on their own mean.
 */

import { DataError } from '../core/errors.js';

/**
 * Fills missing values (NaN) of each column by linear interpolation between the nearest values on each side
 * (the ends take the nearest value). Returns how many cells were filled. A column with no value at all, or
 * an infinite value, is a `DataError`.
 */
export function fillMissing(data: Float64Array, n: number, d: number, names?: readonly string[]): number {
  let filled = 0;
  for (let j = 0; j < d; j++) {
    const name = names?.[j] ?? `column ${j}`;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const v = data[i * d + j];
      if (Number.isNaN(v)) continue;
      if (!Number.isFinite(v)) {
        throw new DataError(`${name}, row ${i}: ${v} is not a finite number`, {
          argument: `series[${i * d + j}]`,
          expected: 'a finite number (NaN marks a missing value)',
          actual: String(v),
        });
      }
      for (let k = last + 1; k < i; k++) {
        data[k * d + j] = last < 0 ? v : data[last * d + j] + ((v - data[last * d + j]) * (k - last)) / (i - last);
        filled++;
      }
      last = i;
    }
    if (last < 0)
      throw new DataError(`${name} has no values (all ${n} are missing)`, {
        argument: 'series',
        expected: 'at least one value in each column',
        actual: `${name}: all missing`,
      });
    for (let k = last + 1; k < n; k++) {
      data[k * d + j] = data[last * d + j];
      filled++;
    }
  }
  return filled;
}

/**
 * Autocorrelation of the linearly detrended columns, averaged over the columns that vary, at lags 0..maxLag
 * (only from `fromLag` on; the entries below it stay 0).
 */
export function autocorrelation(data: Float64Array, n: number, d: number, maxLag: number, fromLag = 0): Float64Array {
  const out = new Float64Array(maxLag + 1);
  const x = new Float64Array(n);
  let used = 0;
  for (let j = 0; j < d; j++) {
    let sx = 0,
      sy = 0,
      sxx = 0,
      sxy = 0;
    for (let i = 0; i < n; i++) {
      const y = data[i * d + j];
      sx += i;
      sy += y;
      sxx += i * i;
      sxy += i * y;
    }
    const den = n * sxx - sx * sx;
    const b = den !== 0 ? (n * sxy - sx * sy) / den : 0;
    const a = (sy - b * sx) / n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      x[i] = data[i * d + j] - (a + b * i);
      v += x[i] * x[i];
    }
    if (!(v > 0)) continue;
    used++;
    for (let lag = fromLag; lag <= maxLag; lag++) {
      let s = 0;
      for (let i = 0; i + lag < n; i++) s += x[i] * x[i + lag];
      out[lag] += s / v;
    }
  }
  if (used > 0) for (let lag = 0; lag <= maxLag; lag++) out[lag] /= used;
  return out;
}

export interface Period {
  /** The dominant period in points, or null when the series shows none. */
  period: number | null;
  /** The autocorrelation at that lag (at the best candidate when none qualified). */
  acf: number;
}

/** The lags `dominantPeriod` searches. */
const FINE_LAGS = 1000;
/** The longest period `longPeriod` looks for: a week of minutes is 10,080 rows. */
const LONGEST_PERIOD = 20_000;

/**
 * The dominant period: the lag of the highest local maximum of the autocorrelation after it first drops
 * to or below zero, between `minLag` and a third of the series (at most `maxLag`, default 1,000), when that
 * maximum reaches `minAcf`.
 */
export function dominantPeriod(
  data: Float64Array,
  n: number,
  d: number,
  o: { minLag?: number; maxLag?: number; minAcf?: number } = {},
): Period {
  return periodUpTo(data, n, d, Math.min(o.maxLag ?? FINE_LAGS, Math.floor(n / 3)), o.minLag ?? 4, o.minAcf);
}

/**
 * A period longer than `dominantPeriod` searches (1,000 rows to 20,000, and a third of the series at most), such
 * as a day of minute data (1,440 rows), whose autocorrelation is still rising at lag 1,000: searched on the series
 * averaged over groups of `g` rows (so that the search covers about 1,000 lags), the lag found refined on the rows
 * themselves. Null when the series is too short or shows none. The detector reports it; its windows do not
 * follow it (see docs/training.md, "Periods longer than 1,000 rows").
 */
export function longPeriod(data: Float64Array, n: number, d: number, minAcf = 0.2): Period {
  const longest = Math.min(LONGEST_PERIOD, Math.floor(n / 3));
  if (longest <= FINE_LAGS) return { period: null, acf: 0 };
  const g = Math.ceil(longest / FINE_LAGS);
  const m = Math.floor(n / g);
  const L = Math.floor(longest / g);
  const rc = autocorrelation(aggregate(data, n, d, g), m, d, L);
  let start = 1;
  while (start < L && rc[start] > 0) start++;
  // A peak must be the highest point within a tenth of its lag on both sides, and that neighbourhood must lie
  // inside the lags searched: a wiggle of noise on the rising slope at the end of the range is not a period.
  let best = -1;
  for (let lag = Math.max(start, Math.ceil(FINE_LAGS / g)); lag < L; lag++) {
    const h = Math.max(1, Math.round(lag / 10));
    if (lag + h > L) break;
    let top = true;
    for (let j = lag - h; j <= lag + h && top; j++) if (rc[j] > rc[lag]) top = false;
    if (top && (best < 0 || rc[lag] > rc[best])) best = lag;
  }
  if (best < 0 || rc[best] < minAcf) return { period: null, acf: best < 0 ? 0 : rc[best] };
  // Refine on the rows: the best lag within one group of the coarse one.
  const lo = Math.max(FINE_LAGS, (best - 1) * g);
  const hi = Math.min(longest, (best + 1) * g);
  const r = autocorrelation(data, n, d, hi, lo);
  let lag = Math.min(hi, Math.max(lo, best * g));
  for (let k = lo; k <= hi; k++) if (r[k] > r[lag]) lag = k;
  return { period: lag, acf: r[lag] };
}

/** The search of `dominantPeriod` over lags up to `maxLag` (exclusive). */
function periodUpTo(data: Float64Array, n: number, d: number, maxLag: number, minLag: number, minAcf = 0.2): Period {
  if (maxLag <= minLag + 1) return { period: null, acf: 0 };
  const r = autocorrelation(data, n, d, maxLag);
  let start = 1;
  while (start < maxLag && r[start] > 0) start++;
  let best = -1;
  let bestV = -Infinity;
  for (let lag = Math.max(start, minLag); lag < maxLag; lag++) {
    if (r[lag] > r[lag - 1] && r[lag] >= r[lag + 1] && r[lag] > bestV) {
      bestV = r[lag];
      best = lag;
    }
  }
  if (best < 0) return { period: null, acf: 0 };
  if (bestV < minAcf) return { period: null, acf: bestV };
  return { period: best, acf: bestV };
}

/** Means of consecutive groups of `f` rows (the last, incomplete group is dropped): `[floor(n / f), d]`. */
export function aggregate(data: Float64Array, n: number, d: number, f: number): Float64Array {
  if (f === 1) return data.slice(0, n * d);
  const m = Math.floor(n / f);
  const out = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < f; k++) s += data[(i * f + k) * d + j];
      out[i * d + j] = s / f;
    }
  }
  return out;
}

/** Linear-interpolated quantile of a copy of `x`. */
export function quantile(x: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(x).sort();
  const pos = q * (s.length - 1);
  const f = Math.floor(pos);
  const c = Math.min(s.length - 1, f + 1);
  return s[f] + (pos - f) * (s[c] - s[f]);
}

/**
 * Per-feature centre (median) and scale: the root mean square of windows of `w` points around their own mean.
 *
 * A column that is constant while others vary (as SMD's and MSL's tables have several) is kept: its centre is its
 * value and its scale the median scale of the varying columns, so that it is 0 in training and a later change from
 * that value counts as error like a change of one typical column's spread; `constant` lists such columns. A series
 * whose every column is constant is a DataError: there is nothing to learn from it.
 */
export function fitScale(
  data: Float64Array,
  n: number,
  d: number,
  w: number,
  names?: readonly string[],
): { center: number[]; scale: number[]; constant: number[] } {
  const center: number[] = [];
  const scale: number[] = [];
  const constant: number[] = [];
  const col = new Float64Array(n);
  const stride = Math.max(1, Math.floor(w / 4));
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) col[i] = data[i * d + j];
    const med = quantile(col, 0.5);
    let ss = 0;
    let count = 0;
    for (let s = 0; s + w <= n; s += stride) {
      let m = 0;
      for (let t = 0; t < w; t++) m += col[s + t];
      m /= w;
      for (let t = 0; t < w; t++) ss += (col[s + t] - m) ** 2;
      count += w;
    }
    let sc = count ? Math.sqrt(ss / count) : 0;
    // constant up to rounding, relative to the column's own magnitude (a series in units of 1e-9 still varies)
    let big = 0;
    for (let i = 0; i < n; i++) big = Math.max(big, Math.abs(col[i]));
    const tiny = 1e-9 * big;
    if (!(sc > tiny)) {
      // piecewise-constant inside windows: the spread of the whole column
      let m = 0;
      for (let i = 0; i < n; i++) m += col[i];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (col[i] - m) ** 2;
      sc = Math.sqrt(v / n);
    }
    if (!(sc > tiny)) constant.push(j);
    center.push(constant.includes(j) ? data[j] : med);
    scale.push(sc);
  }
  if (constant.length === d) {
    const name = (j: number) => names?.[j] ?? `column ${j}`;
    throw new DataError(
      d === 1
        ? `${name(0)} is constant (every value is ${data[0]}): there is nothing to learn from this series`
        : `every column is constant (${constant.map((j) => `${name(j)} = ${data[j]}`).join(', ')}): there is nothing to learn from this series`,
      { argument: 'series', expected: 'a column whose values vary', actual: constant.map((j) => `${name(j)} constant`).join(', ') },
    );
  }
  if (constant.length > 0) {
    const varying = scale.filter((_, j) => !constant.includes(j));
    const typical = quantile(varying, 0.5);
    for (const j of constant) scale[j] = typical;
  }
  return { center, scale, constant };
}

/**
 * Windows `[starts.length, w, d]` (float32) of `x`, each centred on its own per-feature mean (`centre`), and
 * those means `[starts.length, d]`.
 */
export function centredWindows(
  x: Float64Array,
  d: number,
  w: number,
  starts: ArrayLike<number>,
  centre = true,
): { data: Float32Array; means: Float64Array } {
  const count = starts.length;
  const data = new Float32Array(count * w * d);
  const means = new Float64Array(count * d);
  for (let k = 0; k < count; k++) {
    const s = starts[k];
    for (let j = 0; j < d; j++) {
      let m = 0;
      if (centre) {
        for (let t = 0; t < w; t++) m += x[(s + t) * d + j];
        m /= w;
      }
      means[k * d + j] = m;
      for (let t = 0; t < w; t++) data[(k * w + t) * d + j] = x[(s + t) * d + j] - m;
    }
  }
  return { data, means };
}

/** Starts of windows of `w` in `n` points every `stride`, the last window ending at the last point. */
export function strideStarts(n: number, w: number, stride: number): Int32Array {
  const out: number[] = [];
  for (let s = 0; s + w <= n; s += stride) out.push(s);
  if (out.length === 0 || out[out.length - 1] !== n - w) out.push(n - w);
  return Int32Array.from(out);
}

/**
 * Puts rows with irregular times onto a regular grid of `interval` (default: the median gap): each grid slot
 * holds the mean of the rows that fall in it (NaN when none does, to be filled as missing), and `slot[i]` is the
 * slot of row i. Times must be finite and non-decreasing. `regular` is false when the rows needed it (a gap off
 * the median by more than 1 %, or several rows in one slot).
 */
export function regularize(
  times: ArrayLike<number>,
  data: ArrayLike<number>,
  d: number,
  interval?: number,
): { data: Float64Array; n: number; slot: Int32Array; interval: number; regular: boolean } {
  const rows = times.length;
  for (let i = 0; i < rows; i++) {
    if (!Number.isFinite(times[i]))
      throw new DataError(`timestamp of row ${i} cannot be read`, {
        argument: `timestamps[${i}]`,
        expected: 'a date and time',
        actual: String(times[i]),
      });
    if (i > 0 && times[i] < times[i - 1])
      throw new DataError(`the timestamps go back in time at row ${i}; sort the rows by time`, {
        argument: `timestamps[${i}]`,
        expected: `>= the previous row's`,
        actual: String(times[i]),
      });
  }
  let step = interval;
  if (step === undefined) {
    const gaps = Float64Array.from({ length: Math.max(0, rows - 1) }, (_, i) => times[i + 1] - times[i]).filter((g) => g > 0);
    step = gaps.length ? quantile(gaps, 0.5) : 1;
  }
  if (!(step > 0))
    throw new DataError('the timestamps are all equal', { argument: 'timestamps', expected: 'increasing times', actual: 'no gap' });
  const t0 = times[0];
  const slot = Int32Array.from({ length: rows }, (_, i) => Math.round((times[i] - t0) / step!));
  const n = rows ? slot[rows - 1] + 1 : 0;
  const sum = new Float64Array(n * d);
  const count = new Int32Array(n * d);
  let regular = n === rows;
  for (let i = 0; i < rows; i++) {
    if (i > 0 && slot[i] !== slot[i - 1] + 1) regular = false;
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j];
      if (Number.isNaN(v)) continue;
      sum[slot[i] * d + j] += v;
      count[slot[i] * d + j]++;
    }
  }
  const out = new Float64Array(n * d);
  for (let k = 0; k < n * d; k++) out[k] = count[k] ? sum[k] / count[k] : NaN;
  return { data: out, n, slot, interval: step, regular };
}
