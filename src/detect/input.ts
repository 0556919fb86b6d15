/**
 * A series as the detector takes it (`AnomalyDetector.fit`, `score`, `recalibrate`): the accepted shapes checked (a
 * ShapeError or DataError with one sentence otherwise), values copied to float64, missing values filled.
 */
import { DataError, ShapeError } from '../core/errors.js';
import { fillMissing } from './preprocess.js';

/**
 * A series: `{ data, shape: [N, D] }` row-major, a plain array / typed array of N values (univariate), or an array
 * of N rows of D values each (`[[a, b], [c, d], …]`). NaN (or null in an array) marks a missing value.
 */
export type SeriesInput =
  | { data: ArrayLike<number>; shape: readonly number[] }
  | ArrayLike<number>
  | ReadonlyArray<ArrayLike<number | null | undefined>>;

export interface Prepared {
  x: Float64Array;
  n: number;
  d: number;
  filled: number;
}

/** The series `[n, d]` as float64 with its missing values filled (`filled`: how many). */
export function prepare(series: SeriesInput, features: number | undefined, columns?: readonly string[]): Prepared {
  let raw: ArrayLike<number>;
  let n: number;
  let d: number;
  if (series !== null && typeof series === 'object' && 'shape' in series && !ArrayBuffer.isView(series) && !Array.isArray(series)) {
    const s = series as { data: ArrayLike<number>; shape: readonly number[] };
    if (!Array.isArray(s.shape) || s.shape.length !== 2 || !s.shape.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new ShapeError('series.shape must be [N, D]', { argument: 'series.shape', expected: '[N, D]', actual: s.shape });
    }
    [n, d] = s.shape as [number, number];
    raw = s.data;
    if (raw == null || typeof raw.length !== 'number' || raw.length !== n * d) {
      throw new ShapeError(`series.data has ${raw?.length} values but shape [${n}, ${d}] needs ${n * d}`, {
        argument: 'series.data.length',
        expected: n * d,
        actual: raw?.length,
      });
    }
  } else if (Array.isArray(series) && series.length > 0 && series.every((r) => Array.isArray(r) || ArrayBuffer.isView(r))) {
    // rows: [[a, b], [c, d], …] is the series [N, D]
    const rows = series as ReadonlyArray<ArrayLike<number>>;
    n = rows.length;
    d = rows[0].length;
    const flat = new Array<number>(n * d);
    rows.forEach((r, i) => {
      if (r.length !== d)
        throw new ShapeError(`row ${i} has ${r.length} values but row 0 has ${d}: every row needs one value per column`, {
          argument: `series[${i}].length`,
          expected: d,
          actual: r.length,
        });
      for (let j = 0; j < d; j++) flat[i * d + j] = r[j];
    });
    raw = flat;
  } else if (series != null && typeof (series as ArrayLike<number>).length === 'number' && typeof series !== 'string') {
    raw = series as ArrayLike<number>;
    n = raw.length;
    d = 1;
  } else {
    throw new ShapeError('series must be { data, shape: [N, D] }, an array of numbers or an array of rows', {
      argument: 'series',
      expected: '{ data, shape } | number[] | number[][]',
      actual: series === null ? 'null' : typeof series,
    });
  }
  if (d < 1) throw new ShapeError('series needs at least one column', { argument: 'series.shape[1]', expected: '>= 1', actual: d });
  if (features !== undefined && d !== features) {
    throw new ShapeError(`the series has ${d} columns but the detector was trained on ${features}`, {
      argument: 'series.shape[1]',
      expected: features,
      actual: d,
    });
  }
  if (n === 0) throw new DataError('the series is empty', { argument: 'series', expected: 'at least one row', actual: 0 });
  const x = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) {
    const v = raw[i] as unknown;
    if (typeof v === 'number') x[i] = v;
    else if (v === null || v === undefined) x[i] = NaN;
    else {
      const name = columns?.[i % d] ?? `column ${i % d}`;
      throw new DataError(`${name}, row ${Math.floor(i / d)}: ${JSON.stringify(v)} is not a number`, {
        argument: `series[${i}]`,
        expected: 'a number (NaN, null or undefined for a missing value)',
        actual: String(v),
      });
    }
  }
  const filled = fillMissing(x, n, d, columns);
  return { x, n, d, filled };
}
