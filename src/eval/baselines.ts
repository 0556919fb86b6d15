/**
 * Non-neural baselines for anomaly scores (pure TypeScript, float64).
 */

import { checkInt } from '../core/checks.js';
import { ConfigError, DataError, ShapeError } from '../core/errors.js';

/** A matrix `[N, F]` (or a tensor `[N, …]`, flattened to F = product of the trailing sizes), or rows of numbers. */
export type MatrixLike = { data: ArrayLike<number>; shape: readonly number[] } | ArrayLike<number>[];

interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

function toMatrix(m: MatrixLike, argument: string): Matrix {
  if (Array.isArray(m)) {
    const rows = m.length;
    const cols = rows > 0 ? m[0].length : 0;
    const data = new Float64Array(rows * cols);
    m.forEach((r, i) => {
      if (r == null || r.length !== cols) {
        throw new ShapeError(`${argument} rows must all have the same length`, {
          argument: `${argument}[${i}].length`,
          expected: cols,
          actual: r?.length,
        });
      }
      for (let j = 0; j < cols; j++) data[i * cols + j] = r[j];
    });
    return checkFinite({ data, rows, cols }, argument);
  }
  if (m == null || m.data == null || !Array.isArray(m.shape) || m.shape.length < 2) {
    throw new ShapeError(`${argument} must be { data, shape: [N, F] } or an array of rows`, {
      argument: `${argument}.shape`,
      expected: '[N, F] (or [N, T, D], flattened per row)',
      actual: m == null ? String(m) : (m as { shape?: unknown }).shape,
    });
  }
  const rows = m.shape[0];
  let cols = 1;
  for (const s of m.shape.slice(1)) cols *= s;
  if (!m.shape.every((s) => Number.isInteger(s) && s >= 0) || m.data.length !== rows * cols) {
    throw new ShapeError(`${argument}.data length does not match its shape`, {
      argument: `${argument}.data.length`,
      expected: `${m.shape.join(' × ')} = ${rows * cols}`,
      actual: m.data.length,
    });
  }
  return checkFinite({ data: Float64Array.from(m.data), rows, cols }, argument);
}

function checkFinite(m: Matrix, argument: string): Matrix {
  if (m.rows === 0 || m.cols === 0) {
    throw new DataError(`${argument} is empty`, { argument, expected: 'at least one row and one column', actual: [m.rows, m.cols] });
  }
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      throw new DataError(`${argument} must be finite numbers`, {
        argument: `${argument} row ${Math.floor(i / m.cols)}, column ${i % m.cols}`,
        expected: 'a finite number',
        actual: String(m.data[i]),
      });
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Symmetric eigen decomposition (cyclic Jacobi)
// ---------------------------------------------------------------------------------------------

export interface SymmetricEigen {
  /** Eigenvalues, in decreasing order. */
  values: Float64Array;
  /** Row-major `[n, n]`: row k is the unit eigenvector of `values[k]`. */
  vectors: Float64Array;
}

/**
 * Eigenvalues and eigenvectors of a symmetric `n × n` matrix (row-major; only symmetry is assumed, the
 * input is not modified) by the cyclic Jacobi method in float64. Deterministic: the same input gives the
 * same output bit for bit. Each eigenvector's sign is fixed so that its largest-magnitude component is positive.
 * Cost O(n³) per sweep, usually 6–10 sweeps; meant for n up to a few hundred.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): SymmetricEigen {
  if (!Number.isInteger(n) || n < 1 || matrix.length !== n * n) {
    throw new ShapeError('symmetricEigen needs an n × n matrix', {
      argument: 'matrix.length',
      expected: `n * n = ${n * n}`,
      actual: matrix.length,
    });
  }
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(a[i]));
  const tiny = Number.EPSILON * Number.EPSILON * scale * scale * n * n;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= tiny || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        if (sweep > 3 && Math.abs(app) + 100 * Math.abs(apq) === Math.abs(app) && Math.abs(aqq) + 100 * Math.abs(apq) === Math.abs(aqq)) {
          // negligible next to both diagonal entries: set to zero instead of rotating
          a[p * n + q] = 0;
          a[q * n + p] = 0;
          continue;
        }
        // Rotation angle that zeroes a[p][q]: t = tan θ, the smaller root of t² + 2τt − 1 = 0.
        const tau = (aqq - app) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p and q
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          // rows p and q
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = 0;
        a[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          // accumulate V ← V·J (columns of V are eigenvectors)
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i] || i - j);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((col, k) => {
    values[k] = a[col * n + col];
    let big = 0;
    for (let i = 0; i < n; i++) if (Math.abs(v[i * n + col]) > Math.abs(big)) big = v[i * n + col];
    const sign = big < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) vectors[k * n + i] = sign * v[i * n + col];
  });
  return { values, vectors };
}

// ---------------------------------------------------------------------------------------------
// PCA reconstruction error
// ---------------------------------------------------------------------------------------------

/**
 * The top `k` principal directions of the rows of `x` (centred on `mean`), as a row-major `[k, F]` array
 * of orthonormal vectors. Uses the F × F covariance when F <= N and the N × N Gram matrix otherwise
 * (the same directions, mapped back through Xᵀ), so the Jacobi solver works on min(N, F).
 */
function principalDirections(x: Matrix, mean: Float64Array, k: number): Float64Array {
  const { rows: n, cols: f } = x;
  const c = new Float64Array(n * f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) c[i * f + j] = x.data[i * f + j] - mean[j];
  const out = new Float64Array(k * f);
  if (k === 0) return out;
  if (f <= n) {
    const cov = new Float64Array(f * f);
    for (let i = 0; i < n; i++) {
      const row = i * f;
      for (let p = 0; p < f; p++) {
        const xp = c[row + p];
        if (xp === 0) continue;
        for (let q = p; q < f; q++) cov[p * f + q] += xp * c[row + q];
      }
    }
    for (let p = 0; p < f; p++) {
      for (let q = p; q < f; q++) {
        cov[p * f + q] /= n;
        cov[q * f + p] = cov[p * f + q];
      }
    }
    const { vectors } = symmetricEigen(cov, f);
    out.set(vectors.subarray(0, k * f));
    return out;
  }
  // Dual form: eigenvectors u of G = C Cᵀ / n give directions Cᵀu / ‖Cᵀu‖.
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let t = 0; t < f; t++) s += c[i * f + t] * c[j * f + t];
      g[i * n + j] = s / n;
      g[j * n + i] = s / n;
    }
  }
  const { values, vectors } = symmetricEigen(g, n);
  const floor = Math.max(values[0], 0) * 1e-12;
  for (let m = 0; m < k; m++) {
    const dir = out.subarray(m * f, (m + 1) * f);
    if (m < n && values[m] > floor) {
      for (let i = 0; i < n; i++) {
        const u = vectors[m * n + i];
        if (u === 0) continue;
        for (let t = 0; t < f; t++) dir[t] += u * c[i * f + t];
      }
    }
    // Directions beyond the data's rank carry no variance: leave them out (zero vector) — they would
    // not change the training reconstruction, and without them test scores stay well defined.
    let norm = 0;
    for (let t = 0; t < f; t++) norm += dir[t] * dir[t];
    norm = Math.sqrt(norm);
    if (norm > 0) for (let t = 0; t < f; t++) dir[t] /= norm;
  }
  return out;
}

/**
 * PCA reconstruction-error scores. Fits PCA on `train` (`[N, F]`; a `[N, T, D]` tensor is flattened to
 * F = T·D per row): centre on the training mean, take the top `components` eigenvectors of the covariance
 * (Jacobi, float64, deterministic); then for every row x of `test` (`[M, F]`) the score is the squared
 * reconstruction error ‖(x − mean) − P Pᵀ (x − mean)‖². Returns `Float64Array [M]`.
 * `components` may be 0 (score = squared distance to the mean) up to F.
 */
export function pcaReconstructionScores(train: MatrixLike, test: MatrixLike, components: number): Float64Array {
  const x = toMatrix(train, 'train');
  const y = toMatrix(test, 'test');
  if (y.cols !== x.cols) {
    throw new ShapeError('test must have as many features as train', { argument: 'test features', expected: x.cols, actual: y.cols });
  }
  const f = x.cols;
  if (!Number.isInteger(components) || components < 0 || components > f) {
    throw new ConfigError('components must be an integer between 0 and the number of features', {
      argument: 'components',
      expected: `0 <= components <= ${f}`,
      actual: components,
    });
  }
  const mean = new Float64Array(f);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < f; j++) mean[j] += x.data[i * f + j];
  for (let j = 0; j < f; j++) mean[j] /= x.rows;
  const k = components;
  const p = principalDirections(x, mean, k);
  const scores = new Float64Array(y.rows);
  const centred = new Float64Array(f);
  const coef = new Float64Array(k);
  for (let i = 0; i < y.rows; i++) {
    for (let j = 0; j < f; j++) centred[j] = y.data[i * f + j] - mean[j];
    for (let m = 0; m < k; m++) {
      let s = 0;
      for (let j = 0; j < f; j++) s += p[m * f + j] * centred[j];
      coef[m] = s;
    }
    let err = 0;
    for (let j = 0; j < f; j++) {
      let r = centred[j];
      for (let m = 0; m < k; m++) r -= coef[m] * p[m * f + j];
      err += r * r;
    }
    scores[i] = err;
  }
  return scores;
}

// ---------------------------------------------------------------------------------------------
// Z-score baseline
// ---------------------------------------------------------------------------------------------

/**
 * Per-feature z-score scores: fit the mean and population standard deviation of each of the D features on
 * `series` itself (`[N, D]` row-major), and score each row by max over features of |x − mean| / std.
 * A constant feature contributes 0. Returns `Float64Array [N]`.
 *
 * The "per-mote z-score baseline" on the single-hop sensor network data (`loadSensorNetwork()`) applies this
 * to each mote's `[n, 2]` humidity & temperature series separately (fitted on all of that mote's readings,
 * anomalous ones included), concatenates the four motes' scores and evaluates them against the labels of
 * all 18,914 readings: ROC-AUC 0.9525, average precision 0.7433.
 */
export function zScoreScores(series: ArrayLike<number>, features: number): Float64Array {
  if (!Number.isInteger(features) || features < 1) {
    throw new ConfigError('features must be a positive integer', { argument: 'features', expected: 'an integer >= 1', actual: features });
  }
  const d = features;
  const n = seriesRows(series, d);
  if (n === 0) throw new DataError('series is empty', { argument: 'series', expected: 'at least one row', actual: 'length 0' });
  const mean = new Float64Array(d);
  for (let i = 0; i < series.length; i++) {
    const v = series[i];
    if (!Number.isFinite(v)) {
      throw new DataError('series must be finite numbers', {
        argument: `series[${i}] (row ${Math.floor(i / d)}, feature ${i % d})`,
        expected: 'a finite number',
        actual: String(v),
      });
    }
    mean[i % d] += v;
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  const std = new Float64Array(d);
  for (let i = 0; i < series.length; i++) {
    const e = series[i] - mean[i % d];
    std[i % d] += e * e;
  }
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(std[j] / n);
    std[j] = s > 1e-12 * Math.max(1, Math.abs(mean[j])) ? s : 0;
  }
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 0; j < d; j++) {
      if (std[j] === 0) continue;
      const z = Math.abs(series[i * d + j] - mean[j]) / std[j];
      if (z > best) best = z;
    }
    scores[i] = best;
  }
  return scores;
}

/** Rows of a row-major `[N, d]` series (ShapeError when its length is not a multiple of d). */
function seriesRows(series: ArrayLike<number>, d: number): number {
  if (series == null || typeof series.length !== 'number' || series.length % d !== 0) {
    throw new ShapeError('series length must be a multiple of the number of features', {
      argument: 'series.length',
      expected: `a multiple of ${d}`,
      actual: series?.length,
    });
  }
  return series.length / d;
}

/**
 * Rolling z-score scores: each row scored by the max over features of |x − mean| / std of the previous
 * `window` rows (population std; fewer rows at the start, none for the first two rows, which score 0;
 * a feature with no spread in its window contributes 0). `series` is `[N, D]` row-major. Returns `Float64Array [N]`.
 */
export function rollingZScores(series: ArrayLike<number>, features: number, window = 100): Float64Array {
  const d = checkInt(features, 'features', 1);
  checkInt(window, 'window', 2);
  const n = seriesRows(series, d);
  const out = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    let s = 0;
    let ss = 0;
    for (let p = 0; p < n; p++) {
      const v = series[p * d + j];
      if (!Number.isFinite(v))
        throw new DataError('series must be finite numbers', {
          argument: `series[${p * d + j}]`,
          expected: 'a finite number',
          actual: String(v),
        });
      const c = Math.min(p, window);
      if (c >= 2) {
        const m = s / c;
        const sd = Math.sqrt(Math.max(0, ss / c - m * m));
        const z = sd > 1e-12 * Math.max(1, Math.abs(m)) ? Math.abs(v - m) / sd : 0;
        if (z > out[p]) out[p] = z;
      }
      s += v;
      ss += v * v;
      if (p >= window) {
        const o = series[(p - window) * d + j];
        s -= o;
        ss -= o * o;
      }
    }
  }
  return out;
}
