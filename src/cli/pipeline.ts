/**
 * The CLI's continuous-data pipeline: normalise, cut into windows, score windows with a model,
 * map window scores back to points; reading labels; the metadata saved with a model.
 */

import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { readCsv } from '../data/csv.js';
import { MinMaxNormalizer, ZScoreNormalizer, normalizerFromJSON, type NormalizerJSON, type Normalizer } from '../data/normalize.js';
import { windowScoresToPoints, windowStarts } from '../data/windows.js';
import { DataError, FormatError } from '../core/errors.js';
import type { ContinuousInput, Segment } from './input.js';
import { readText } from './input.js';
import { UsageError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Metadata saved with the model
// ---------------------------------------------------------------------------------------------

export interface CliMetadata {
  /** Layout version of this object. */
  cli: 1;
  input: {
    kind: 'csv' | 'json' | 'ndjson' | 'text';
    columns?: string[];
    features?: number;
    timestamp?: string | null;
  };
  /** Windows (continuous data): `whole` = each sequence is one window of `length` steps. */
  window?: { length: number; stride: number; whole: boolean };
  normalizer?: NormalizerJSON;
  scoring: {
    /** How per-step errors become per-point scores. */
    reduce: Reduce;
    /** Scores above this are anomalies (per point; per sequence for text). */
    threshold: number;
    /** The training-score percentile the threshold was set at. */
    percentile: number;
    /** Threshold for per-window scores (`score --windows`). */
    windowThreshold?: number;
  };
  training: {
    file: string;
    trainedAt: string;
    seconds: number;
    sequences: number;
    points?: number;
    options: Record<string, unknown>;
    history: Array<{ epoch: number; loss: number; recon: number; kl: number; valLoss?: number; seqPerSec?: number }>;
  };
}

export function readCliMetadata(metadata: Record<string, unknown> | undefined, file: string): CliMetadata | undefined {
  const m = metadata?.lstmVaeCli ?? metadata?.['lstm-vae-cli'];
  if (m === undefined) return undefined;
  if (!m || typeof m !== 'object' || (m as { cli?: unknown }).cli !== 1) {
    throw new FormatError(`${file}: the model's CLI metadata is not readable by this version`);
  }
  return m as CliMetadata;
}

export function normalizerOf(meta: CliMetadata | undefined, file: string): Normalizer | undefined {
  if (!meta?.normalizer) return undefined;
  try {
    return normalizerFromJSON(meta.normalizer);
  } catch (e) {
    throw new FormatError(`${file}: the saved normalizer is invalid: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Windows
// ---------------------------------------------------------------------------------------------

export interface Windowed {
  x: { data: Float32Array; shape: [number, number, number] };
  /** Segment index of each window. */
  segment: Int32Array;
  /** Start point of each window within its segment. */
  start: Int32Array;
  length: number;
  stride: number;
  /** First window index of each segment (length = segments + 1). */
  offsets: number[];
}

/** Fits a normalizer (min-max to [-1, 1] by default, or z-score) on every point of every segment. */
export function fitNormalizer(input: ContinuousInput, kind: 'minmax' | 'zscore' = 'minmax'): Normalizer {
  let total = 0;
  for (const s of input.segments) total += s.data.length;
  const all = new Float32Array(total);
  let o = 0;
  for (const s of input.segments) {
    all.set(s.data, o);
    o += s.data.length;
  }
  return (kind === 'zscore' ? new ZScoreNormalizer() : new MinMaxNormalizer([-1, 1])).fit(all, input.features);
}

export function normalizeSegments(segments: Segment[], normalizer: Normalizer | undefined): Segment[] {
  if (!normalizer) return segments;
  return segments.map((s) => ({ ...s, data: normalizer.transform(s.data) }));
}

/**
 * The window plan for an input: `--window` given → windows of that length every `stride` points in each
 * segment; otherwise a CSV uses `defaultLength`, and JSON sequences of one common length are taken whole.
 */
export function planWindows(
  input: ContinuousInput,
  window: number | undefined,
  stride: number | undefined,
  defaultLength = 100,
  defaultStride = 10,
): { length: number; stride: number; whole: boolean } {
  if (window !== undefined) return { length: window, stride: stride ?? Math.max(1, Math.min(defaultStride, window)), whole: false };
  if (input.kind === 'csv') {
    const n = input.segments[0].n;
    if (n < defaultLength) {
      throw new DataError(`${input.file} has ${n} rows, fewer than the default window of ${defaultLength} points; pass a smaller --window`);
    }
    return { length: defaultLength, stride: stride ?? defaultStride, whole: false };
  }
  const lengths = new Set(input.segments.map((s) => s.n));
  if (lengths.size === 1) {
    const len = input.segments[0].n;
    return { length: len, stride: len, whole: true };
  }
  const sorted = [...lengths].sort((a, b) => a - b);
  throw new DataError(
    `${input.file}: the sequences have different lengths (${sorted.slice(0, 5).join(', ')}${sorted.length > 5 ? ', …' : ''}); pass --window to cut them into windows of one length`,
  );
}

export function makeWindows(segments: Segment[], features: number, length: number, stride: number, whole = false): Windowed {
  const perSeg: number[][] = segments.map((s) => {
    if (whole) {
      if (s.n !== length) {
        throw new DataError(`${s.name} has ${s.n} steps; the model was trained on whole sequences of ${length} steps`);
      }
      return [0];
    }
    if (s.n < length) {
      throw new DataError(`${s.name} has ${s.n} points, fewer than one window of ${length}; use a smaller --window (at training time)`);
    }
    return windowStarts(s.n, length, stride);
  });
  const w = perSeg.reduce((a, p) => a + p.length, 0);
  const block = length * features;
  const data = new Float32Array(w * block);
  const segment = new Int32Array(w);
  const start = new Int32Array(w);
  const offsets: number[] = [0];
  let k = 0;
  segments.forEach((s, i) => {
    for (const st of perSeg[i]) {
      data.set(s.data.subarray(st * features, st * features + block), k * block);
      segment[k] = i;
      start[k] = st;
      k++;
    }
    offsets.push(k);
  });
  return { x: { data, shape: [w, length, features] }, segment, start, length, stride, offsets };
}

// ---------------------------------------------------------------------------------------------
// Scoring
// ---------------------------------------------------------------------------------------------

/** The part of the model API the pipeline uses. */
export interface ContinuousModel {
  reconstruct(x: { data: Float32Array; shape: number[] }): Float32Array;
  encode(x: { data: Float32Array; shape: number[] }): { mu: Float32Array; logvar: Float32Array };
}

export interface WindowScores {
  /** Σ over steps and features of the squared reconstruction error, per window `[W]`. */
  window: Float64Array;
  /** Σ over features of the squared error, per window and step `[W, T]`. */
  step: Float32Array;
  /** Reconstructions `[W, T, D]` (normalised units), when asked for. */
  recon?: Float32Array;
  /** Latent means `[W, Z]`, when asked for. */
  mu?: Float32Array;
}

/** Scores windows in chunks (bounded memory): reconstruction error per window and per step. */
export function scoreWindows(
  model: ContinuousModel,
  x: { data: Float32Array; shape: [number, number, number] },
  o: { recon?: boolean; mu?: boolean; latent?: number; chunk?: number } = {},
): WindowScores {
  const [w, t, d] = x.shape;
  const chunk = o.chunk ?? 512;
  const window = new Float64Array(w);
  const step = new Float32Array(w * t);
  const recon = o.recon ? new Float32Array(w * t * d) : undefined;
  let mu: Float32Array | undefined;
  for (let a = 0; a < w; a += chunk) {
    const b = Math.min(w, a + chunk);
    const part = { data: x.data.subarray(a * t * d, b * t * d), shape: [b - a, t, d] };
    const y = model.reconstruct(part);
    if (recon) recon.set(y, a * t * d);
    for (let i = 0; i < b - a; i++) {
      let sw = 0;
      for (let s = 0; s < t; s++) {
        let e = 0;
        const base = (i * t + s) * d;
        for (let k = 0; k < d; k++) {
          const diff = part.data[base + k] - y[base + k];
          e += diff * diff;
        }
        step[(a + i) * t + s] = e;
        sw += e;
      }
      window[a + i] = sw;
    }
    if (o.mu) {
      const m = model.encode(part).mu;
      if (!mu) mu = new Float32Array(w * (m.length / (b - a)));
      mu.set(m, a * (m.length / (b - a)));
    }
  }
  return { window, step, recon, mu };
}

/**
 * How per-point scores come from window scores:
 * - `q10`, `q25`, `median`, `min`, `mean`, `max`: that statistic of the scores (total squared error) of
 *   every window that contains the point. Low quantiles localise best: a normal point next to an
 *   anomaly is also covered by windows that miss the anomaly, while every window covering an anomalous
 *   point contains it (`q10` is the default).
 * - `step-mean`, `step-max`: mean / max over the covering windows of the squared error at the point's
 *   own step (with a repeat decoder the error spreads over the whole window, so these localise less).
 */
export type Reduce = 'q10' | 'q25' | 'median' | 'min' | 'mean' | 'max' | 'step-mean' | 'step-max';
export const REDUCE_CHOICES: Reduce[] = ['q10', 'q25', 'median', 'min', 'mean', 'max', 'step-mean', 'step-max'];

/**
 * Point scores of a series of `n` points from window scores (`starts` ascending, windows of `length`):
 * each point gets the `reduce` statistic over the windows covering it; uncovered points (stride above
 * the length) carry the previous point's score.
 */
export function windowsToPointScores(scores: ArrayLike<number>, starts: ArrayLike<number>, length: number, n: number, reduce: Exclude<Reduce, 'step-mean' | 'step-max'>): Float64Array {
  const out = new Float64Array(n);
  const w = starts.length;
  const q = reduce === 'q10' ? 0.1 : reduce === 'q25' ? 0.25 : reduce === 'median' ? 0.5 : reduce === 'min' ? 0 : reduce === 'max' ? 1 : -1;
  let lo = 0; // first window that may cover p (start + length > p)
  let hi = 0; // one past the last window with start <= p
  const buf = new Float64Array(Math.max(1, w));
  for (let p = 0; p < n; p++) {
    while (hi < w && starts[hi] <= p) hi++;
    while (lo < hi && starts[lo] + length <= p) lo++;
    const k = hi - lo;
    if (k === 0) {
      out[p] = p > 0 ? out[p - 1] : 0;
      continue;
    }
    if (q < 0) {
      let s = 0;
      for (let i = lo; i < hi; i++) s += scores[i];
      out[p] = s / k;
      continue;
    }
    const b = buf.subarray(0, k);
    for (let i = lo; i < hi; i++) b[i - lo] = scores[i];
    b.sort();
    // Linear interpolation between order statistics (NumPy's default percentile).
    const pos = q * (k - 1);
    const f = Math.floor(pos);
    const c = Math.min(k - 1, f + 1);
    out[p] = b[f] + (pos - f) * (b[c] - b[f]);
  }
  return out;
}

/** Per-point scores of each segment. */
export function pointScores(ws: Windowed, sc: { window: Float64Array; step: Float32Array }, segments: Segment[], reduce: Reduce): Float64Array[] {
  return segments.map((s, i) => {
    const a = ws.offsets[i];
    const b = ws.offsets[i + 1];
    const starts = ws.start.subarray(a, b);
    if (reduce === 'step-mean' || reduce === 'step-max') {
      const out = windowScoresToPoints(sc.step.subarray(a * ws.length, b * ws.length), Array.from(starts), ws.length, s.n, reduce === 'step-mean' ? 'mean' : 'max');
      for (let p = 0; p < out.length; p++) if (Number.isNaN(out[p])) out[p] = p > 0 ? out[p - 1] : 0;
      return out;
    }
    return windowsToPointScores(sc.window.subarray(a, b), starts, ws.length, s.n, reduce);
  });
}

/** Mean over windows of the reconstruction at each point (for `reconstruct`), normalised units. */
export function pointReconstructions(ws: Windowed, recon: Float32Array, segments: Segment[], d: number): Float32Array[] {
  return segments.map((s, i) => {
    const acc = new Float64Array(s.n * d);
    const cnt = new Uint32Array(s.n);
    for (let k = ws.offsets[i]; k < ws.offsets[i + 1]; k++) {
      const st = ws.start[k];
      for (let t = 0; t < ws.length; t++) {
        const p = st + t;
        cnt[p]++;
        for (let j = 0; j < d; j++) acc[p * d + j] += recon[(k * ws.length + t) * d + j];
      }
    }
    const out = new Float32Array(s.n * d);
    for (let p = 0; p < s.n; p++) for (let j = 0; j < d; j++) out[p * d + j] = cnt[p] ? acc[p * d + j] / cnt[p] : NaN;
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Labels
// ---------------------------------------------------------------------------------------------

/** Inclusive runs of 1s. */
export function labelRuns(labels: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = -1;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]) {
      if (s < 0) s = i;
    } else if (s >= 0) {
      out.push([s, i - 1]);
      s = -1;
    }
  }
  if (s >= 0) out.push([s, labels.length - 1]);
  return out;
}

function zeroOne(v: unknown, where: string): number {
  if (v === 0 || v === 1) return v;
  if (v === '0' || v === '1') return Number(v);
  if (v === true || v === false) return v ? 1 : 0;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return /^true$/i.test(v.trim()) ? 1 : 0;
  if (typeof v === 'string' && (v.trim() === '0' || v.trim() === '1' || v.trim() === '0.0' || v.trim() === '1.0')) return Math.round(Number(v.trim()));
  throw new DataError(`${where}: expected a label 0 or 1, got ${JSON.stringify(v)}`);
}

function timeOf(s: string): number {
  const t = Date.parse(s.includes('T') || s.endsWith('Z') ? s : s.replace(' ', 'T') + 'Z');
  return t;
}

/**
 * Labels for `total` points (or sequences): `spec` is a column of the CSV data, or a file holding
 * 0/1 values (one per line, or a JSON array), or a JSON array of `[start, end]` intervals (point indices,
 * or timestamps matched against the data's timestamp column).
 */
export function readLabels(spec: string, input: { kind: string; header?: string[]; text?: string; file: string; segments?: Segment[] }, total: number | number[]): Uint8Array {
  if (input.kind === 'csv' && input.header?.includes(spec)) {
    const s = readCsv(input.text!, { columns: [spec], timestamp: false });
    const out = new Uint8Array(s.shape[0]);
    for (let i = 0; i < out.length; i++) out[i] = zeroOne(s.data[i], `${input.file}: labels column "${spec}", row ${i + 1}`);
    return checkCount(out, total, `labels column "${spec}"`);
  }
  if (!existsSync(spec)) {
    const cols = input.header ? `; the data's columns are ${input.header.join(', ')}` : '';
    throw new UsageError(`--labels ${spec}: no such column in ${input.file} and no such file${cols}`);
  }
  const text = readText(spec, 'labels');
  const ext = extname(spec).toLowerCase();
  if (ext === '.json') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new DataError(`${spec}: invalid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(v)) throw new DataError(`${spec}: expected a JSON array of 0/1 labels or of [start, end] intervals`);
    if (v.length > 0 && v.every((x) => Array.isArray(x) && x.length === 2)) {
      const out = new Uint8Array(Array.isArray(total) ? total[0] : total);
      const ts = input.segments?.length === 1 ? input.segments[0].timestamps : undefined;
      const times = ts?.map(timeOf);
      v.forEach((iv, i) => {
        const [a, b] = iv as [unknown, unknown];
        if (typeof a === 'number' && typeof b === 'number') {
          if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= a)) throw new DataError(`${spec}: interval ${i} must be [start, end] point indices with start <= end`);
          for (let p = a; p <= Math.min(b, out.length - 1); p++) out[p] = 1;
        } else if (typeof a === 'string' && typeof b === 'string') {
          if (!times) throw new DataError(`${spec}: interval ${i} uses timestamps but the data has no timestamp column`);
          const ta = timeOf(a);
          const tb = timeOf(b);
          if (!Number.isFinite(ta) || !Number.isFinite(tb)) throw new DataError(`${spec}: interval ${i}: cannot read the timestamps ${a}, ${b}`);
          for (let p = 0; p < times.length; p++) if (times[p] >= ta && times[p] <= tb) out[p] = 1;
        } else throw new DataError(`${spec}: interval ${i} must be [start, end] indices or timestamps`);
      });
      return out;
    }
    return checkCount(Uint8Array.from(v, (x, i) => zeroOne(x, `${spec}: item ${i}`)), total, spec);
  }
  let lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length > 0 && !/^(0|1|0\.0|1\.0|true|false)$/i.test(lines[0].split(',').pop()!.trim())) lines = lines.slice(1); // header
  return checkCount(
    Uint8Array.from(lines, (l, i) => zeroOne(l.split(',').pop()!.trim(), `${spec}: line ${i + 1}`)),
    total,
    spec,
  );
}

function checkCount(labels: Uint8Array, total: number | number[], what: string): Uint8Array {
  const allowed = Array.isArray(total) ? total : [total];
  if (!allowed.includes(labels.length)) {
    const want = allowed.length > 1 ? `${allowed[0]} points or ${allowed[1]} sequences` : `${allowed[0]} points`;
    throw new DataError(`${what} has ${labels.length} labels but the data has ${want}`);
  }
  return labels;
}
