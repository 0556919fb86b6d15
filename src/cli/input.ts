/**
 * Reading the CLI's input files: CSV time series, JSON / NDJSON arrays of sequences, text (one
 * sequence of characters per line).
 */

import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { emptyLinesAsCells, isMissingCell, isTimestampName, readCsv } from '../data/csv.js';
import { DataError, IOError } from '../core/errors.js';
import type { ContinuousInput, Input, Segment } from '../data/series.js';
import { componentColumns, dateColumn, headerlessNames, labelColumns, looksLikeDate, textColumns } from './columns.js';
import { UsageError } from './errors.js';

export type InputKind = 'csv' | 'json' | 'ndjson' | 'text' | 'npy';

export type { ContinuousInput, Input, Segment, TokenInput } from '../data/series.js';

const FORMATS =
  'use .csv (time series), .npy (a NumPy array [N] or [N, D]), .json / .ndjson (arrays of sequences) or .txt (one text sequence per line)';

/** The format a file's extension names, or `undefined` for an extension this reader does not know. */
export function kindOf(file: string): InputKind | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.json') return 'json';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.txt' || ext === '.text') return 'text';
  if (ext === '.npy') return 'npy';
  return undefined;
}

/** Checks that `file` is a readable file (one-line IOErrors naming it). */
function checkFile(file: string, what: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new IOError(`cannot read ${what} file ${file}: the file does not exist`);
    throw new IOError(`cannot read ${what} file ${file}: ${(e as Error).message}`);
  }
  if (st.isDirectory()) throw new IOError(`cannot read ${what} file ${file}: it is a folder, not a file`);
}

/** Reads a binary file, turning OS errors into one-line IOErrors naming the file. */
function readBytes(file: string): Uint8Array {
  checkFile(file, 'data');
  try {
    return readFileSync(file);
  } catch (e) {
    throw new IOError(`cannot read data file ${file}: ${(e as Error).message}`);
  }
}

/** Reads a text file, turning OS errors into one-line IOErrors naming the file. */
export function readText(file: string, what = 'data'): string {
  checkFile(file, what);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new IOError(`cannot read ${what} file ${file}: ${(e as Error).message}`);
  }
}

/** NumPy's element types this reader takes (little-endian), with their size and reader. */
const NPY_TYPES: Record<string, [number, (v: DataView, at: number) => number]> = {
  '<f4': [4, (v, at) => v.getFloat32(at, true)],
  '<f8': [8, (v, at) => v.getFloat64(at, true)],
  '<i4': [4, (v, at) => v.getInt32(at, true)],
  '<i8': [8, (v, at) => Number(v.getBigInt64(at, true))],
  '|u1': [1, (v, at) => v.getUint8(at)],
  '|i1': [1, (v, at) => v.getInt8(at)],
};

/**
 * A `.npy` file (NumPy's format, versions 1–3) of shape [N] or [N, D], C order, as CSV text with the header
 * `value` or `x0, x1, …` (as the NASA SMAP / MSL telemetry files). Anything else is a DataError saying what it holds.
 */
export function npyAsCsv(bytes: Uint8Array, file: string): string {
  const bad = (what: string) => new DataError(`${file}: ${what}`);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw bad('not a NumPy .npy file (no \\x93NUMPY magic)');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? v.getUint16(8, true) : v.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLen;
  if (start > bytes.length) throw bad('the .npy header is cut short');
  const header = new TextDecoder().decode(bytes.subarray(major === 1 ? 10 : 12, start));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = /'shape':\s*\(([^)]*)\)/
    .exec(header)?.[1]
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map(Number);
  if (!descr || !shape) throw bad('malformed .npy header');
  const type = NPY_TYPES[descr];
  if (!type) throw bad(`the array holds ${descr}; expected float32, float64 or integers (little-endian)`);
  if (fortran && shape.length > 1) throw bad('the array is in Fortran order; save it with np.save(file, np.ascontiguousarray(a))');
  if (shape.length < 1 || shape.length > 2) throw bad(`the array has shape (${shape.join(', ')}); expected [N] or [N, D]`);
  const [n, d] = [shape[0], shape[1] ?? 1];
  const [size, read] = type;
  if (start + n * d * size > bytes.length) throw bad(`the file holds fewer values than its shape (${shape.join(', ')}) says`);
  const lines = [shape.length === 1 ? 'value' : Array.from({ length: d }, (_, j) => `x${j}`).join(',')];
  for (let i = 0; i < n; i++) {
    const row: string[] = [];
    for (let j = 0; j < d; j++) row.push(String(read(v, start + (i * d + j) * size)));
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** The header (first record) of a CSV text. */
export function csvHeader(text: string, file: string): string[] {
  try {
    const rows = parse(text, { to_line: 1, bom: true, trim: true, skip_empty_lines: true }) as string[][];
    if (rows.length === 0) throw new DataError(`${file}: the CSV file is empty`);
    return rows[0];
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${file}: malformed CSV header: ${(e as Error).message}`);
  }
}

export interface ReadOptions {
  columns?: string[];
  timestamp?: string | false;
  /** Columns never used as features (e.g. the labels column). */
  exclude?: string[];
  /** CSV: read empty / NaN / NA / null cells as missing (NaN) instead of failing. */
  missing?: 'error' | 'nan';
  /** CSV without `columns`: leave out the columns of 0/1 labels (`labelColumns`), listed in the result's `labelColumns`. */
  findLabels?: boolean;
}

function prefixed<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DataError) {
      const m = e.message;
      throw new DataError((m.startsWith(file) ? m : `${file}: ${m}`) + timeHint(e));
    }
    throw e;
  }
}

/** A non-numeric cell that reads as a date or time is most likely the time column under another name. */
function timeHint(e: DataError): string {
  const column = /, column (.+)$/.exec(e.argument ?? '')?.[1];
  const raw = typeof e.actual === 'string' ? e.actual : '';
  if (!column || !looksLikeDate(raw)) return '';
  return `. If "${column}" holds the times, pass --timestamp ${/^[\w.-]+$/.test(column) ? column : JSON.stringify(column)} (a column is found by itself when it is named timestamp, or date, time, datetime, ds … and holds dates)`;
}

/**
 * The delimiter of a delimited text: a tab for `.tsv`; otherwise the most frequent of comma, semicolon and tab
 * in its first non-empty line outside quotes (comma when there is none, or on a tie with it).
 */
export function sniffDelimiter(text: string, file: string): ',' | ';' | '\t' {
  if (extname(file).toLowerCase() === '.tsv') return '\t';
  const first = /^[^\r\n]*\S[^\r\n]*/m.exec(text)?.[0] ?? '';
  const count = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of first) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) count[ch]++;
  }
  const best = (['\t', ';'] as const).reduce<',' | ';' | '\t'>((a, c) => (count[c] > count[a] ? c : a), ',');
  return best;
}

/** A number written with a decimal comma (`-1,25`, in a semicolon-separated file) with a decimal point; other cells as they are. */
export function decimalPoint(cell: string): string {
  return /^[-+]?\d+,\d+(e[-+]?\d+)?$/i.test(cell) ? cell.replace(',', '.') : cell;
}

/**
 * A CSV text separated by semicolons or tabs (`.tsv`, spreadsheets in locales that write decimal commas), as the
 * comma-separated text the rest of the reader takes; with semicolons, a field such as `-1,25` is the number -1.25.
 * A comma-separated text is returned as it is.
 */
export function commaSeparated(text: string, file: string): string {
  const delimiter = sniffDelimiter(text, file);
  if (delimiter === ',') return text;
  let rows: string[][];
  try {
    rows = parse(text, { delimiter, bom: true, trim: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
  } catch (e) {
    throw new DataError(`${file}: malformed ${delimiter === ';' ? 'semicolon' : 'tab'}-separated file: ${(e as Error).message}`);
  }
  return `${rows.map((r) => r.map((f) => csvField(delimiter === ';' ? decimalPoint(f) : f)).join(',')).join('\n')}\n`;
}

/** The cells of column `name` of a CSV text (data rows, as written), or [] when it cannot be read. */
export function columnCells(text: string, header: string[], name: string): string[] {
  const i = header.indexOf(name);
  if (i < 0) return [];
  try {
    const rows = parse(text, { bom: true, trim: true, skip_empty_lines: true, from_line: 2, relax_column_count: true }) as string[][];
    return rows.map((r) => r[i] ?? '');
  } catch {
    return [];
  }
}

function readCsvInput(file: string, text0: string, o: ReadOptions): ContinuousInput {
  let text = emptyLinesAsCells(text0);
  let header = csvHeader(text, file);
  // a first column without a name (pandas writes its index so) is named `index`
  if (header.length > 1 && header[0] === '' && !header.includes('index')) {
    text = text.replace(/^(\uFEFF?)/, '$1index');
    header = ['index', ...header.slice(1)];
  }
  // a first line of numbers is data, not a header: columns `value` (one) or x0, x1, …
  if (header.every((h) => h !== '' && Number.isFinite(Number(h)))) {
    let rows: string[][] = [];
    try {
      rows = parse(text, { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
    } catch {
      // a malformed file: reading it as data below says what is wrong
    }
    header = rows.length > 0 ? headerlessNames(rows) : header.length === 1 ? ['value'] : header.map((_, j) => `x${j}`);
    text = `${header.join(',')}\n${text}`;
  }
  let timestamp: string | false | undefined = o.timestamp;
  if (timestamp === undefined) {
    const t = header.find(isTimestampName) ?? dateColumn(text, header);
    timestamp = t ?? false;
  }
  let columns = o.columns;
  let labels: string[] = [];
  let texts: string[] = [];
  let components: string[] = [];
  if (!columns) {
    const skip = new Set([...(o.exclude ?? []), ...(timestamp ? [timestamp] : [])]);
    columns = header.filter((h) => !skip.has(h));
    components = componentColumns(header).filter((c) => columns!.includes(c));
    columns = columns.filter((c) => !components.includes(c));
    if (o.findLabels) {
      labels = labelColumns(text, header, timestamp || undefined).filter((c) => columns!.includes(c));
      if (labels.length < columns.length) columns = columns.filter((c) => !labels.includes(c));
      else labels = []; // nothing else to learn from
      texts = textColumns(text, header).filter((c) => columns!.includes(c));
      if (texts.length < columns.length) columns = columns.filter((c) => !texts.includes(c));
      else texts = []; // reading them as numbers says what is wrong
    }
    if (columns.length === 0) throw new DataError(`${file}: no value column (columns: ${header.join(', ')})`);
  }
  const s = prefixed(file, () => readCsv(text, { columns, timestamp, missing: o.missing }));
  return {
    kind: 'csv',
    file,
    columns: s.columns,
    features: s.columns.length,
    timestampColumn: timestamp || undefined,
    segments: [{ name: file, data: s.data, n: s.shape[0], timestamps: s.timestamps }],
    header,
    text,
    ...(labels.length > 0 ? { labelColumns: labels } : {}),
    ...(texts.length > 0 ? { textColumns: texts } : {}),
    ...(components.length > 0 ? { componentColumns: components } : {}),
  };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** Parses one sequence: number[] (one feature) or number[][] (steps × features). */
function sequenceOf(v: unknown, where: string): { data: Float32Array; n: number; d: number } {
  if (!Array.isArray(v))
    throw new DataError(`${where}: expected a sequence (an array of numbers or of arrays of numbers), got ${describe(v)}`);
  if (v.length === 0) throw new DataError(`${where}: the sequence is empty`);
  if (Array.isArray(v[0])) {
    const d = (v[0] as unknown[]).length;
    if (d === 0) throw new DataError(`${where}, step 0: empty step (expected at least one number)`);
    const data = new Float32Array(v.length * d);
    v.forEach((step, t) => {
      if (!Array.isArray(step) || step.length !== d) {
        throw new DataError(`${where}, step ${t}: expected an array of ${d} numbers, got ${describe(step)}`);
      }
      step.forEach((x, k) => {
        if (typeof x !== 'number' || !Number.isFinite(x))
          throw new DataError(`${where}, step ${t}, feature ${k}: expected a finite number, got ${describe(x)}`);
        data[t * d + k] = x;
      });
    });
    return { data, n: v.length, d };
  }
  const data = new Float32Array(v.length);
  v.forEach((x, t) => {
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new DataError(`${where}, step ${t}: expected a finite number, got ${describe(x)}`);
    data[t] = x;
  });
  return { data, n: v.length, d: 1 };
}

/** A CSV field: as it is, or quoted when it holds a comma, a quote or a line break; a missing value `""` (a line of its own is not an empty line). */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '""';
  const t = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return t === '' || /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/**
 * JSON records (`[{ "timestamp": …, "cpu": … }, …]`, or one object per NDJSON line, as `watch` reads them) as CSV
 * text: one column per key, in the order the keys first appear; a key a record lacks is a missing value.
 */
function recordsAsCsv(records: Record<string, unknown>[]): string {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const r of records)
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
  return `${keys.map(csvField).join(',')}\n${records.map((r) => keys.map((k) => csvField(r[k])).join(',')).join('\n')}\n`;
}

function fromValues(
  file: string,
  kind: 'json' | 'ndjson',
  values: unknown[],
  where: (i: number) => string,
  o: ReadOptions = {},
  tableOnly: () => void = () => {},
): Input {
  if (values.length === 0) throw new DataError(`${file}: no sequences`);
  // one series: a flat array of numbers (null for a missing value), or records of named values
  if (values.every((v) => typeof v === 'number' || v === null) && values.some((v) => v !== null))
    return readCsvInput(file, `value\n${values.map(csvField).join('\n')}\n`, o);
  if (values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v)))
    return readCsvInput(file, recordsAsCsv(values as Record<string, unknown>[]), o);
  tableOnly();
  if (values.every((v) => typeof v === 'string')) {
    const lines = (values as string[]).filter((s) => s.length > 0);
    if (lines.length === 0) throw new DataError(`${file}: every string is empty`);
    return { kind: 'text', file, lines };
  }
  const segments: Segment[] = [];
  let d = -1;
  values.forEach((v, i) => {
    const s = sequenceOf(v, `${file}: ${where(i)}`);
    if (d < 0) d = s.d;
    else if (s.d !== d) throw new DataError(`${file}: ${where(i)} has ${s.d} features per step, the first sequence has ${d}`);
    segments.push({ name: `sequence ${i}`, data: s.data, n: s.n });
  });
  const columns = d === 1 ? ['value'] : Array.from({ length: d }, (_, k) => `x${k}`);
  return { kind, file, columns, features: d, segments };
}

/** Share of a text file's non-empty lines that are numbers from which a line that is not one is an error, not text. */
const NUMERIC_TEXT_SHARE = 0.9;

/**
 * A text file that is a numeric series, as CSV text with a header (`value`, or `x0, x1, …`), or undefined (text
 * for the token model): one number on every non-empty line; one line of numbers separated by spaces, tabs or
 * commas; or the same count of comma-separated numbers on every line (a CSV without a header, as the SMD files).
 * `NaN`, `NA` and `null` stand for a missing value wherever a number may. Several space-separated numbers on each of
 * several lines stay text: they may be token sequences. A file of one number a line but for a few lines (at least
 * 90 % numbers, 10 or more) is a series with a bad line: a `DataError` naming the first, not a text model.
 */
function numericText(lines: string[], file: string): string | undefined {
  const num = (t: string) => t !== '' && Number.isFinite(Number(t));
  const cell = (t: string) => num(t) || isMissingCell(t);
  const trimmed = lines.map((l) => l.trim()).filter((l) => l.length > 0);
  if (trimmed.length === 0) return undefined;
  const column = (values: string[]) => `value\n${values.join('\n')}\n`;
  if (trimmed.length === 1) {
    const tokens = trimmed[0].split(/[\s,]+/).filter((t) => t.length > 0);
    return tokens.length >= 2 && tokens.every(cell) && tokens.some(num) ? column(tokens) : undefined;
  }
  const numbers = trimmed.filter(num).length;
  if (trimmed.every(cell)) {
    // one number a line: an empty line between numbers is that row's missing value (as in a one-column CSV), so the
    // rows after it keep their places (and their labels); empty lines before the first and after the last are not rows
    const all = lines.map((l) => l.trim());
    const first = all.findIndex((l) => l.length > 0);
    let last = all.length - 1;
    while (all[last].length === 0) last--;
    return column(all.slice(first, last + 1));
  }
  if (numbers >= 10 && numbers >= NUMERIC_TEXT_SHARE * trimmed.length) {
    const at = lines.findIndex((l) => l.trim().length > 0 && !cell(l.trim()));
    const bad = trimmed.length - trimmed.filter(cell).length;
    throw new DataError(
      `${file}: line ${at + 1} is "${lines[at].trim()}", not a number${bad > 2 ? ` (nor are ${bad - 1} more lines)` : bad === 2 ? ' (nor is one more line)' : ''}, but ${numbers} of its ${trimmed.length} lines are numbers: as a series it needs a number on every line (an empty line, NaN, NA or null for a missing value); to model the lines as text instead, give them as a JSON array of strings`,
      {
        argument: `${file}:${at + 1}`,
        expected: 'a number, or an empty line / NaN / NA / null for a missing value',
        actual: lines[at].trim(),
      },
    );
  }
  const rows = trimmed.map((l) => l.split(',').map((t) => t.trim()));
  const d = rows[0].length;
  if (d >= 2 && rows.every((r) => r.length === d && r.every(cell)) && rows.some((r) => r.some(num))) {
    return `${headerlessNames(rows).join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
  }
  return undefined;
}

/** Reads any supported input file. */
export function readInput(file: string, o: ReadOptions = {}): Input {
  const known = kindOf(file);
  if (known === undefined) {
    // an extension of its own (TSB-UAD's .out, .dat, none): a file of numbers is still one series
    const series = numericText(readText(file).split(/\r?\n/), file);
    if (series) return readCsvInput(file, series, o);
    throw new UsageError(
      `cannot tell the format of ${file} from its extension "${extname(file) || '(none)'}", and it is not a file of numbers (one per line, or the same count of comma-separated numbers on every line): ${FORMATS}`,
    );
  }
  const kind = known;
  if (kind === 'npy') return readCsvInput(file, npyAsCsv(readBytes(file), file), o);
  const text = readText(file);
  const all = kind === 'text' ? text.split(/\r?\n/) : [];
  const lines = all.filter((l) => l.length > 0);
  // a text file of numbers (the UCR anomaly archive's format, a CSV without a header) is one series
  const series = kind === 'text' ? numericText(all, file) : undefined;
  if (series) return readCsvInput(file, series, o);
  const tableOnly = () => {
    if (o.columns || o.timestamp)
      throw new UsageError(`--columns and --timestamp apply to CSV files (and text files of numbers, JSON records) only, not to ${file}`);
  };
  if (kind === 'csv') return readCsvInput(file, commaSeparated(text, file), o);
  if (kind === 'text') tableOnly();
  if (kind === 'text') {
    if (lines.length === 0) throw new DataError(`${file}: the file has no non-empty line`);
    return { kind: 'text', file, lines };
  }
  if (kind === 'json') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new DataError(`${file}: invalid JSON: ${(e as Error).message}`);
    }
    if (v && typeof v === 'object' && !Array.isArray(v) && Array.isArray((v as { sequences?: unknown }).sequences)) {
      v = (v as { sequences: unknown[] }).sequences;
    }
    if (!Array.isArray(v)) throw new DataError(`${file}: expected a JSON array of sequences, got ${describe(v)}`);
    return fromValues(file, 'json', v, (i) => `sequence ${i}`, o, tableOnly);
  }
  const values: unknown[] = [];
  const lineNo: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      values.push(JSON.parse(line));
    } catch (e) {
      throw new DataError(`${file}: line ${i + 1}: invalid JSON: ${(e as Error).message}`);
    }
    lineNo.push(i + 1);
  });
  return fromValues(file, 'ndjson', values, (i) => `line ${lineNo[i]}`, o, tableOnly);
}
