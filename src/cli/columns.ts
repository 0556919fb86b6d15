/**
 * Which columns of a CSV are what, read from their names and cells: labels, components of a `value` column, times,
 * text, and the names of a table without a header. `readInput` (input.ts) sets them aside from the features.
 */

import { parse } from 'csv-parse/sync';
import { isMissingCell } from '../data/csv.js';

/** Header names that mean labels, not measurements (label, labels, anomaly, is_anomaly, anomalous, outlier, changepoint, ground_truth, …). */
const LABEL_NAMES = /^(is[_ -]?)?(anomal(y|ies|ous)|outliers?|labels?|change[_ -]?points?)$|^ground[_ -]?truth$/i;

/**
 * The columns of a CSV text that hold labels rather than measurements: a label-like name and nothing but 0 and 1
 * in every row (as TimeEval's `is_anomaly` or a `label` column). `train` leaves them out of the features unless
 * `--columns` names them. The timestamp column is never one.
 */
export function labelColumns(text: string, header: string[], timestamp?: string): string[] {
  const candidates = header.map((h, i) => [h, i] as const).filter(([h]) => h !== timestamp && LABEL_NAMES.test(h));
  if (candidates.length === 0) return [];
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, trim: true, skip_empty_lines: true, from_line: 2, relax_column_count: true }) as string[][];
  } catch {
    return []; // a malformed file: reading it as data says what is wrong
  }
  const binary = (i: number) =>
    rows.length > 0 &&
    rows.every((r) => {
      const c = r[i];
      return c !== undefined && c !== '' && (Number(c) === 0 || Number(c) === 1);
    });
  return candidates.filter(([, i]) => binary(i)).map(([h]) => h);
}

/** Names of a series' additive components (trend, noise, seasonalities, residual), as Yahoo S5's A3/A4 files give them. */
const COMPONENT_NAMES = /^(trend|noise|seasonal(ity)?[_ -]?\d*|season[_ -]?\d*|resid(ual)?|remainder)$/i;

/**
 * The columns that are components of a `value` column rather than measurements: beside a column named `value`, the
 * columns named as a decomposition's parts (trend, noise, seasonality1, …, residual), as Yahoo S5's A3 and A4
 * benchmark files hold the generator's components next to the series. Empty without a `value` column.
 */
export function componentColumns(header: readonly string[]): string[] {
  if (!header.some((h) => /^values?$/i.test(h))) return [];
  return header.filter((h) => COMPONENT_NAMES.test(h));
}

/**
 * Column names for a table of numbers without a header: `value` for one column, else `x0, x1, …`, except that
 * the last column is `label` (and a single column before it `value`) when it holds nothing but 0 and 1 with at most half of the rows 1 (the layout of
 * TSB-UAD's `value,label` files and of many exported anomaly sets), so that it is found as labels, not a feature.
 */
export function headerlessNames(rows: string[][]): string[] {
  const d = rows[0]?.length ?? 0;
  if (d <= 1) return ['value'];
  const names = Array.from({ length: d }, (_, j) => `x${j}`);
  let ones = 0;
  const binary = rows.every((r) => {
    const v = Number(r[d - 1]);
    if (v === 1) ones++;
    return r[d - 1] !== '' && (v === 0 || v === 1);
  });
  if (binary && ones * 2 <= rows.length) return d === 2 ? ['value', 'label'] : [...names.slice(0, -1), 'label'];
  return names;
}

/**
 * Whether a cell reads as a date: year-month-day or day/month/year digits (with an optional time of day and zone),
 * or another form `Date.parse` takes that begins with a digit or a month's name ("Jan 5 2024"); not "web-1", which
 * V8's lenient parser also reads as a date.
 */
export function looksLikeDate(c: string): boolean {
  const numeric =
    /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?)?$/;
  const named = /^(\d{1,2}\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d/i;
  if (!numeric.test(c) && !named.test(c)) return false;
  return Number.isFinite(Date.parse(c.includes(' ') && !c.includes('T') && numeric.test(c) && /^\d{4}/.test(c) ? c.replace(' ', 'T') : c));
}

/** Names that say a column holds times (besides `timestamp` / `timestamps`, which are always the time column). */
/** The name of the index column `DataFrame.to_csv()` writes first (an unnamed one is read as `index`). */
const INDEX_NAME = /^(index|unnamed: ?0)$/i;

/** Names of a time column: date, time, datetime, timestamp, ds, dt, ts, t, step, timestep, epoch, unix_time, created_at, event_time, time_utc, … */
const TIME_NAMES =
  /^(date|time|datetime|date[ _-]?time|time[ _-]?stamp|ds|dt|ts|t|step|time[ _-]?step|epoch|unix[ _-]?time(stamp)?|(created|updated|recorded|event|observed)[ _-]?(at|time|on)|(date|time|date[ _-]?time|time[ _-]?stamp)[ _-]?(utc|gmt|local|ms|s|sec|seconds))$/i;

/**
 * The first column with a time-like name (date, time, datetime, ds, …) that holds the times: its first value reads
 * as a date and not as a number, or every value is a number and none is smaller than the one before (seconds or
 * sequence numbers); undefined when there is none. A spreadsheet's `date` column is then the time axis, not a cell
 * that cannot be read, and a `time` counter is not a feature.
 */
export function dateColumn(text: string, header: string[]): string | undefined {
  // a time-like name, or pandas' index column (the first, named index or Unnamed: 0): dates or a row counter
  const candidates = header.map((h, i) => [h, i] as const).filter(([h, i]) => TIME_NAMES.test(h) || (i === 0 && INDEX_NAME.test(h)));
  if (candidates.length === 0) return undefined;
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, trim: true, skip_empty_lines: true, from_line: 2, relax_column_count: true }) as string[][];
  } catch {
    return undefined;
  }
  if (rows.length === 0) return undefined;
  const asDate = (v: string | undefined) => v !== undefined && v !== '' && !Number.isFinite(Number(v)) && looksLikeDate(v);
  const counter = (i: number) => {
    let last = -Infinity;
    for (const r of rows) {
      const v = r[i] === undefined || r[i] === '' ? NaN : Number(r[i]);
      if (!(v >= last)) return false;
      last = v;
    }
    return true;
  };
  return candidates.find(([, i]) => asDate(rows[0][i]) || counter(i))?.[0];
}

/**
 * The columns that hold text, not measurements: no cell is a number and the first is not a date (an id, a host
 * name, a category). `train` leaves them out of the features and says so; a date column under another name, or a
 * numeric column with a stray word, is still an error that names the cell.
 */
export function textColumns(text: string, header: string[]): string[] {
  const missing = isMissingCell;
  const num = (c: string) => Number.isFinite(Number(c));
  let first: string[][];
  try {
    first = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      from_line: 2,
      to_line: 2,
      relax_column_count: true,
    }) as string[][];
  } catch {
    return [];
  }
  const row = first[0] ?? [];
  const candidates = header
    .map((_, i) => i)
    .filter((i) => row[i] !== undefined && !missing(row[i]) && !num(row[i]) && !looksLikeDate(row[i]));
  if (candidates.length === 0) return [];
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, trim: true, skip_empty_lines: true, from_line: 2, relax_column_count: true }) as string[][];
  } catch {
    return [];
  }
  return candidates.filter((i) => rows.every((r) => r[i] === undefined || missing(r[i]) || !num(r[i]))).map((i) => header[i]);
}
