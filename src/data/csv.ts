/**
 * Reading numeric time series from CSV text (first line = header).
 */

import { parse } from 'csv-parse/sync';
import { DataError } from '../core/errors.js';

/** A cell that stands for a missing value (with `missing: 'nan'`): empty, `NaN`, `NA` or `null`, in any case. */
export function isMissingCell(raw: string): boolean {
  return raw === '' || /^(nan|na|null)$/i.test(raw);
}

/** The header names read as the timestamp column without `timestamp` being given: `timestamp` or `timestamps`, any case. */
export function isTimestampName(h: string): boolean {
  const l = h.toLowerCase();
  return l === 'timestamp' || l === 'timestamps';
}

export interface ReadCsvOptions {
  /** `'error'` (default): an empty value is a DataError; `'nan'`: empty, `NaN`, `NA` and `null` cells read as NaN (missing). */
  missing?: 'error' | 'nan';
  /**
   * The value columns to read, in this order. Default: every column except the timestamp column.
   */
  columns?: string[];
  /**
   * The timestamp column, whose raw strings are returned as `timestamps`. Default: a column named
   * `timestamp` or `timestamps` (any case) if the header has one; `false` for none.
   */
  timestamp?: string | false;
}

export interface CsvSeries {
  /** Names of the value columns, in the order of `data`'s features. */
  columns: string[];
  /** Row-major `[N, D]` values, D = columns.length. */
  data: Float32Array;
  shape: [number, number];
  /** The timestamp column's strings, one per row, when there is a timestamp column. */
  timestamps?: string[];
}

/**
 * In a one-column CSV (a header, or a first line, without a comma), an empty line between data lines is the empty
 * cell of its row, not a line to skip: spreadsheets write a missing value of a single column so. Each such line
 * becomes `""` (an empty field), so that the rows keep their places; empty lines at the end stay skipped. Other
 * files (several columns, or any quote) are returned as they are.
 */
export function emptyLinesAsCells(text: string): string {
  if (text.includes('"')) return text;
  const lines = text.split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0 || lines[first].includes(',')) return text;
  let last = lines.length - 1;
  while (last > first && lines[last].trim() === '') last--;
  let changed = false;
  for (let i = first + 1; i < last; i++) {
    if (lines[i].trim() === '') {
      lines[i] = '""';
      changed = true;
    }
  }
  return changed ? lines.join('\n') : text;
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

/**
 * Parses CSV `text` (with csv-parse) into a float32 `[N, D]` series. Empty lines are skipped (in a one-column file,
 * those between data lines are empty cells: `emptyLinesAsCells`), fields are trimmed. Throws `DataError` naming the row (1-based data row and file line) and column on a missing
 * (empty) or non-numeric / non-finite value, on an unknown column (listing the available ones), on a
 * malformed file (e.g. a row with a different number of fields) and when there is no data row.
 */
export function readCsv(text: string, options: ReadCsvOptions = {}): CsvSeries {
  if (typeof text !== 'string') {
    throw new DataError('readCsv expects the CSV text as a string', { argument: 'text', expected: 'string', actual: typeof text });
  }
  let records: ParsedRecord[];
  try {
    records = parse(emptyLinesAsCells(text), { info: true, skip_empty_lines: true, trim: true, bom: true }) as unknown as ParsedRecord[];
  } catch (e) {
    const err = e as { message?: string; lines?: number };
    throw new DataError(`malformed CSV${err.lines !== undefined ? ` at line ${err.lines}` : ''}: ${err.message ?? String(e)}`, {
      argument: 'text',
      expected: 'CSV with a header line and the same number of fields on every line',
      actual: err.message ?? String(e),
    });
  }
  if (records.length === 0) {
    throw new DataError('the CSV text is empty', { argument: 'text', expected: 'a header line and data rows', actual: 'no lines' });
  }
  const header = records[0].record;
  const rows = records.slice(1);
  if (rows.length === 0) {
    throw new DataError('the CSV has a header but no data rows', {
      argument: 'text',
      expected: 'at least one data row',
      actual: `header ${header.join(',')}`,
    });
  }

  const indexOf = (name: string, argument: string): number => {
    const i = header.indexOf(name);
    if (i < 0) {
      throw new DataError(`unknown column "${name}"; available columns: ${header.join(', ')}`, {
        argument,
        expected: `one of ${header.join(', ')}`,
        actual: name,
      });
    }
    return i;
  };

  let tsIndex = -1;
  if (typeof options.timestamp === 'string') tsIndex = indexOf(options.timestamp, 'options.timestamp');
  else if (options.timestamp === undefined) tsIndex = header.findIndex(isTimestampName);

  let columns: string[];
  let colIdx: number[];
  if (options.columns !== undefined) {
    if (!Array.isArray(options.columns) || options.columns.length === 0) {
      throw new DataError('options.columns must be a non-empty list of column names', {
        argument: 'options.columns',
        expected: `names among ${header.join(', ')}`,
        actual: options.columns,
      });
    }
    columns = options.columns.slice();
    colIdx = columns.map((c, k) => indexOf(c, `options.columns[${k}]`));
  } else {
    colIdx = header.map((_, i) => i).filter((i) => i !== tsIndex);
    columns = colIdx.map((i) => header[i]);
    if (columns.length === 0) {
      throw new DataError('the CSV has no value column besides the timestamp', {
        argument: 'text',
        expected: 'at least one value column',
        actual: header,
      });
    }
  }

  // a name that the header holds twice would read the first of them twice
  for (const c of new Set(columns)) {
    const at = header.flatMap((h, i) => (h === c ? [i + 1] : []));
    if (at.length > 1)
      throw new DataError(
        `column "${c}" appears ${at.length} times in the header (fields ${at.join(', ')}); give the columns distinct names`,
        {
          argument: 'text',
          expected: 'distinct column names',
          actual: header.join(','),
        },
      );
  }
  const n = rows.length;
  const d = colIdx.length;
  const data = new Float32Array(n * d);
  const timestamps: string[] | undefined = tsIndex >= 0 ? new Array<string>(n) : undefined;
  for (let r = 0; r < n; r++) {
    const { record, info } = rows[r];
    const where = `row ${r + 1} (line ${info.lines})`;
    for (let k = 0; k < d; k++) {
      const raw = record[colIdx[k]];
      const column = columns[k];
      if (options.missing === 'nan' && raw !== undefined && isMissingCell(raw)) {
        data[r * d + k] = NaN;
        continue;
      }
      if (raw === undefined || raw === '') {
        throw new DataError(`missing value at ${where}, column "${column}"`, {
          argument: `row ${r + 1}, column ${column}`,
          expected: 'a number',
          actual: raw === undefined ? 'no field' : 'empty field',
        });
      }
      const v = Number(raw);
      if (!Number.isFinite(v)) {
        throw new DataError(`non-numeric value at ${where}, column "${column}": "${raw}"`, {
          argument: `row ${r + 1}, column ${column}`,
          expected: 'a finite number',
          actual: raw,
        });
      }
      data[r * d + k] = v;
    }
    if (timestamps) {
      const t = record[tsIndex];
      if (t === undefined || t === '') {
        throw new DataError(`missing timestamp at ${where}, column "${header[tsIndex]}"`, {
          argument: `row ${r + 1}, column ${header[tsIndex]}`,
          expected: 'a timestamp',
          actual: 'empty field',
        });
      }
      timestamps[r] = t;
    }
  }
  const out: CsvSeries = { columns, data, shape: [n, d] };
  if (timestamps) out.timestamps = timestamps;
  return out;
}
