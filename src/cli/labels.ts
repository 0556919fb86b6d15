/**
 * Reading labels for the CLI: a column of the data, a file of 0/1 values, or a JSON list of intervals.
 */

import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { DataError } from '../core/errors.js';
import { readCsv } from '../data/csv.js';
import type { ContinuousInput, Segment } from '../data/series.js';
import { UsageError } from './errors.js';
import { readText } from './input.js';
import type { LoadedModel } from './shared.js';

function zeroOne(v: unknown, where: string): number {
  if (v === 0 || v === 1) return v;
  if (v === '0' || v === '1') return Number(v);
  if (v === true || v === false) return v ? 1 : 0;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return /^true$/i.test(v.trim()) ? 1 : 0;
  if (typeof v === 'string' && (v.trim() === '0' || v.trim() === '1' || v.trim() === '0.0' || v.trim() === '1.0'))
    return Math.round(Number(v.trim()));
  throw new DataError(`${where}: expected a label 0 or 1, got ${JSON.stringify(v)}`);
}

/**
 * Milliseconds of a timestamp cell (ISO 8601, or `YYYY-MM-DD HH:MM:SS` read as UTC); NaN if unreadable. A plain
 * number is Unix time in seconds (1e8 ≤ v < 1e11, 1973–5138) or in milliseconds (v ≥ 1e11), else a counter taken
 * as it is (never `Date.parse`d: "100" would be the year 100).
 */
export function timeOf(s: string): number {
  const t = s.trim();
  if (/^[-+]?\d+(\.\d+)?$/.test(t)) {
    const v = Number(t);
    return v >= 1e8 && v < 1e11 ? v * 1000 : v;
  }
  return Date.parse(t.includes('T') || t.endsWith('Z') || !t.includes(' ') ? t : `${t.replace(' ', 'T')}Z`);
}

/** Whether timestamp cells are plain numbers below Unix seconds' range (counters, not times): their gaps have no unit. */
export function counterTimes(cells: readonly string[]): boolean {
  return cells.length > 0 && /^[-+]?\d+(\.\d+)?$/.test(cells[0].trim()) && Math.abs(Number(cells[0])) < 1e8;
}

/**
 * Labels for `total` points (or sequences): `spec` is a column of the CSV data, or a file holding
 * 0/1 values (one per line, or a JSON array), or a JSON array of `[start, end]` intervals (point indices,
 * or timestamps matched against the data's timestamp column).
 */
export function readLabels(
  spec: string,
  input: { kind: string; header?: string[]; text?: string; file: string; segments?: Segment[] },
  total: number | number[],
): Uint8Array {
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
          if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= a))
            throw new DataError(`${spec}: interval ${i} must be [start, end] point indices with start <= end`);
          for (let p = a; p <= Math.min(b, out.length - 1); p++) out[p] = 1;
        } else if (typeof a === 'string' && typeof b === 'string') {
          if (!times) throw new DataError(`${spec}: interval ${i} uses timestamps but the data has no timestamp column`);
          const ta = timeOf(a);
          const tb = timeOf(b);
          if (!Number.isFinite(ta) || !Number.isFinite(tb))
            throw new DataError(`${spec}: interval ${i}: cannot read the timestamps ${a}, ${b}`);
          for (let p = 0; p < times.length; p++) if (times[p] >= ta && times[p] <= tb) out[p] = 1;
        } else throw new DataError(`${spec}: interval ${i} must be [start, end] indices or timestamps`);
      });
      return out;
    }
    return checkCount(
      Uint8Array.from(v, (x, i) => zeroOne(x, `${spec}: item ${i}`)),
      total,
      spec,
    );
  }
  let lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (
    lines.length > 0 &&
    !/^(0|1|0\.0|1\.0|true|false)$/i.test(
      lines[0]
        .split(/[,;\t]/)
        .pop()!
        .trim(),
    )
  )
    lines = lines.slice(1); // header
  return checkCount(
    Uint8Array.from(lines, (l, i) =>
      zeroOne(
        l
          .split(/[,;\t]/)
          .pop()!
          .trim(),
        `${spec}: line ${i + 1}`,
      ),
    ),
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

export function readLabelsFor(spec: string, input: ContinuousInput): Uint8Array {
  const total = input.segments.reduce((a, s) => a + s.n, 0);
  const totals = input.segments.length > 1 ? [total, input.segments.length] : [total];
  const l = readLabels(spec, input, totals);
  if (l.length === input.segments.length && input.segments.length > 1 && l.length !== total) {
    // per-sequence labels: expand to points
    const out = new Uint8Array(total);
    let o = 0;
    input.segments.forEach((s, i) => {
      out.fill(l[i], o, o + s.n);
      o += s.n;
    });
    return out;
  }
  return l;
}

export function labelsExclusion(labels: string | undefined, lm: LoadedModel): { exclude?: string[] } {
  return labels && !(lm.meta?.input.kind === 'csv' && lm.meta.input.columns) ? { exclude: [labels] } : {};
}
