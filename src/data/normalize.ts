/**
 * Per-feature normalizers for row-major `[N, D]` data. Both fit on training data, transform and invert
 * any data with the same D, and serialise to plain JSON (to be saved with a model's configuration).
 *
 * A constant feature (max = min, or standard deviation 0) never produces NaN: MinMax maps it to the
 * middle of the target range, z-score to 0, and `inverse` maps those back to the constant.
 */

import { ConfigError, DataError, FormatError, ShapeError } from '../core/errors.js';

export interface MinMaxJSON {
  type: 'minmax';
  features: number;
  /** Target range `[lo, hi]`. */
  range: [number, number];
  min: number[];
  max: number[];
}

export interface ZScoreJSON {
  type: 'zscore';
  features: number;
  mean: number[];
  /** Population standard deviation (divides by N); 0 for a constant feature. */
  std: number[];
}

export type NormalizerJSON = MinMaxJSON | ZScoreJSON;

function checkFeatures(d: unknown): number {
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
    throw new ConfigError('the number of features must be a positive integer', {
      argument: 'features',
      expected: 'an integer >= 1',
      actual: d,
    });
  }
  return d;
}

function checkData(data: ArrayLike<number>, d: number, requireRows: boolean): void {
  if (data == null || typeof data.length !== 'number') {
    throw new DataError('data must be an array of numbers', {
      argument: 'data',
      expected: 'ArrayLike<number> [N * D]',
      actual: typeof data,
    });
  }
  if (data.length % d !== 0) {
    throw new ShapeError('data length is not a multiple of the number of features', {
      argument: 'data.length',
      expected: `a multiple of D = ${d}`,
      actual: data.length,
    });
  }
  if (requireRows && data.length === 0) {
    throw new DataError('cannot fit a normalizer on empty data', { argument: 'data', expected: 'at least one row', actual: 'length 0' });
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new DataError('data must be finite numbers', {
        argument: `data[${i}] (row ${Math.floor(i / d)}, feature ${i % d})`,
        expected: 'a finite number',
        actual: String(data[i]),
      });
    }
  }
}

function numberArray(json: Record<string, unknown>, key: string, d: number): number[] {
  const v = json[key];
  if (!Array.isArray(v) || v.length !== d || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new FormatError(`normalizer JSON: ${key} must be ${d} finite numbers`, {
      argument: key,
      expected: `number[${d}]`,
      actual: v,
    });
  }
  return v.slice() as number[];
}

function jsonObject(json: unknown, type: string): Record<string, unknown> {
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch {
      throw new FormatError('normalizer JSON is not valid JSON', { argument: 'json', expected: 'a JSON object', actual: json });
    }
  }
  if (json == null || typeof json !== 'object' || (json as { type?: unknown }).type !== type) {
    throw new FormatError(`not a ${type} normalizer`, {
      argument: 'json.type',
      expected: type,
      actual: json == null || typeof json !== 'object' ? json : (json as { type?: unknown }).type,
    });
  }
  return json as Record<string, unknown>;
}

/** Scales every feature linearly so that its training minimum maps to `lo` and its maximum to `hi`. */
export class MinMaxNormalizer {
  readonly range: [number, number];
  private min?: Float64Array;
  private max?: Float64Array;

  /** @param range target range `[lo, hi]`, default `[-1, 1]` (as in the Orion LSTM-VAE pipeline). */
  constructor(range: readonly [number, number] = [-1, 1]) {
    if (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || !(range[0] < range[1])) {
      throw new ConfigError('range must be [lo, hi] with lo < hi', { argument: 'range', expected: '[lo, hi], lo < hi', actual: range });
    }
    this.range = [range[0], range[1]];
  }

  /** Number of features, once fitted. */
  get features(): number | undefined {
    return this.min?.length;
  }

  /** Learns per-feature min and max from `data` (`[N, D]` row-major). Returns `this`. */
  fit(data: ArrayLike<number>, features: number): this {
    const d = checkFeatures(features);
    checkData(data, d, true);
    const min = new Float64Array(d).fill(Infinity);
    const max = new Float64Array(d).fill(-Infinity);
    for (let i = 0; i < data.length; i++) {
      const f = i % d;
      const v = data[i];
      if (v < min[f]) min[f] = v;
      if (v > max[f]) max[f] = v;
    }
    this.min = min;
    this.max = max;
    return this;
  }

  private fitted(data: ArrayLike<number>): [Float64Array, Float64Array] {
    if (!this.min || !this.max) {
      throw new ConfigError('the normalizer is not fitted', {
        argument: 'normalizer',
        expected: 'fit() before transform()/inverse()',
        actual: 'not fitted',
      });
    }
    checkData(data, this.min.length, false);
    return [this.min, this.max];
  }

  /** Maps data to the target range (float32 output, same layout). */
  transform(data: ArrayLike<number>): Float32Array {
    const [min, max] = this.fitted(data);
    const d = min.length;
    const [lo, hi] = this.range;
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const f = i % d;
      const span = max[f] - min[f];
      out[i] = span > 0 ? lo + ((data[i] - min[f]) / span) * (hi - lo) : (lo + hi) / 2;
    }
    return out;
  }

  /** Maps normalized data back to the original units (float32 output). */
  inverse(data: ArrayLike<number>): Float32Array {
    const [min, max] = this.fitted(data);
    const d = min.length;
    const [lo, hi] = this.range;
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const f = i % d;
      const span = max[f] - min[f];
      out[i] = span > 0 ? min[f] + ((data[i] - lo) / (hi - lo)) * span : min[f];
    }
    return out;
  }

  toJSON(): MinMaxJSON {
    if (!this.min || !this.max) {
      throw new ConfigError('the normalizer is not fitted', {
        argument: 'normalizer',
        expected: 'fit() before toJSON()',
        actual: 'not fitted',
      });
    }
    return {
      type: 'minmax',
      features: this.min.length,
      range: [this.range[0], this.range[1]],
      min: Array.from(this.min),
      max: Array.from(this.max),
    };
  }

  /** Rebuilds a fitted normalizer from `toJSON()` output (an object or its JSON string). */
  static fromJSON(json: MinMaxJSON | string | unknown): MinMaxNormalizer {
    const o = jsonObject(json, 'minmax');
    const d = o.features;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new FormatError('normalizer JSON: features must be a positive integer', {
        argument: 'features',
        expected: 'an integer >= 1',
        actual: d,
      });
    }
    const range = numberArray(o, 'range', 2);
    const min = numberArray(o, 'min', d);
    const max = numberArray(o, 'max', d);
    for (let f = 0; f < d; f++) {
      if (max[f] < min[f]) {
        throw new FormatError('normalizer JSON: max is below min', { argument: `max[${f}]`, expected: `>= ${min[f]}`, actual: max[f] });
      }
    }
    let n: MinMaxNormalizer;
    try {
      n = new MinMaxNormalizer([range[0], range[1]]);
    } catch {
      throw new FormatError('normalizer JSON: invalid range', { argument: 'range', expected: '[lo, hi], lo < hi', actual: range });
    }
    n.min = Float64Array.from(min);
    n.max = Float64Array.from(max);
    return n;
  }
}

/** Standardises every feature to mean 0 and standard deviation 1 (population standard deviation). */
export class ZScoreNormalizer {
  private mean?: Float64Array;
  private std?: Float64Array;

  /** Number of features, once fitted. */
  get features(): number | undefined {
    return this.mean?.length;
  }

  /** Learns per-feature mean and standard deviation from `data` (`[N, D]` row-major). Returns `this`. */
  fit(data: ArrayLike<number>, features: number): this {
    const d = checkFeatures(features);
    checkData(data, d, true);
    const n = data.length / d;
    const mean = new Float64Array(d);
    for (let i = 0; i < data.length; i++) mean[i % d] += data[i];
    for (let f = 0; f < d; f++) mean[f] /= n;
    const v = new Float64Array(d);
    for (let i = 0; i < data.length; i++) {
      const e = data[i] - mean[i % d];
      v[i % d] += e * e;
    }
    const std = new Float64Array(d);
    for (let f = 0; f < d; f++) {
      const s = Math.sqrt(v[f] / n);
      // A spread at rounding level (e.g. a constant feature whose mean is inexact) counts as constant.
      std[f] = s > 1e-12 * Math.max(1, Math.abs(mean[f])) ? s : 0;
    }
    this.mean = mean;
    this.std = std;
    return this;
  }

  private fitted(data: ArrayLike<number>): [Float64Array, Float64Array] {
    if (!this.mean || !this.std) {
      throw new ConfigError('the normalizer is not fitted', {
        argument: 'normalizer',
        expected: 'fit() before transform()/inverse()',
        actual: 'not fitted',
      });
    }
    checkData(data, this.mean.length, false);
    return [this.mean, this.std];
  }

  /** (x − mean) / std per feature; a constant feature maps to 0. Float32 output. */
  transform(data: ArrayLike<number>): Float32Array {
    const [mean, std] = this.fitted(data);
    const d = mean.length;
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const f = i % d;
      out[i] = std[f] > 0 ? (data[i] - mean[f]) / std[f] : 0;
    }
    return out;
  }

  /** z · std + mean per feature (a constant feature maps back to its value). Float32 output. */
  inverse(data: ArrayLike<number>): Float32Array {
    const [mean, std] = this.fitted(data);
    const d = mean.length;
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const f = i % d;
      out[i] = data[i] * std[f] + mean[f];
    }
    return out;
  }

  toJSON(): ZScoreJSON {
    if (!this.mean || !this.std) {
      throw new ConfigError('the normalizer is not fitted', {
        argument: 'normalizer',
        expected: 'fit() before toJSON()',
        actual: 'not fitted',
      });
    }
    return { type: 'zscore', features: this.mean.length, mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  /** Rebuilds a fitted normalizer from `toJSON()` output (an object or its JSON string). */
  static fromJSON(json: ZScoreJSON | string | unknown): ZScoreNormalizer {
    const o = jsonObject(json, 'zscore');
    const d = o.features;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new FormatError('normalizer JSON: features must be a positive integer', {
        argument: 'features',
        expected: 'an integer >= 1',
        actual: d,
      });
    }
    const mean = numberArray(o, 'mean', d);
    const std = numberArray(o, 'std', d);
    std.forEach((s, f) => {
      if (s < 0) throw new FormatError('normalizer JSON: std must be >= 0', { argument: `std[${f}]`, expected: '>= 0', actual: s });
    });
    const n = new ZScoreNormalizer();
    n.mean = Float64Array.from(mean);
    n.std = Float64Array.from(std);
    return n;
  }
}

export type Normalizer = MinMaxNormalizer | ZScoreNormalizer;

/** Rebuilds either normalizer from its JSON, dispatching on `type` (`"minmax"` or `"zscore"`). */
export function normalizerFromJSON(json: NormalizerJSON | string | unknown): Normalizer {
  let o = json;
  if (typeof o === 'string') {
    try {
      o = JSON.parse(o);
    } catch {
      throw new FormatError('normalizer JSON is not valid JSON', { argument: 'json', expected: 'a JSON object', actual: json });
    }
  }
  const type = o != null && typeof o === 'object' ? (o as { type?: unknown }).type : undefined;
  if (type === 'minmax') return MinMaxNormalizer.fromJSON(o);
  if (type === 'zscore') return ZScoreNormalizer.fromJSON(o);
  throw new FormatError('unknown normalizer type', { argument: 'json.type', expected: ['minmax', 'zscore'], actual: type });
}
