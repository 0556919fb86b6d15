// A small CSV reader: quoted fields ("" escapes a quote), CRLF or LF line ends, and the delimiter
// (comma, semicolon or tab) guessed from the header line. Enough for exported sensor logs.

export interface Table {
  columns: string[];
  rows: string[][];
}

function guessDelimiter(text: string): string {
  const end = text.search(/\r?\n/);
  const header = end < 0 ? text : text.slice(0, end);
  let best = ',',
    count = -1;
  for (const d of [',', ';', '\t']) {
    const c = header.split(d).length - 1;
    if (c > count) {
      best = d;
      count = c;
    }
  }
  return best;
}

/** Parses CSV text; the first record is the header. Empty lines are skipped. */
export function parseCsv(text: string): Table {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const delim = guessDelimiter(text);
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const n = text.length;
  const endRecord = () => {
    record.push(field);
    field = '';
    if (!(record.length === 1 && record[0].trim() === '')) records.push(record);
    record = [];
  };
  while (i < n) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field.length === 0) {
      quoted = true;
      i++;
    } else if (ch === delim) {
      record.push(field);
      field = '';
      i++;
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (field.length > 0 || record.length > 0) endRecord();
  if (records.length === 0) throw new Error('the file is empty');
  const columns = records[0].map((c, j) => c.trim() || `column ${j + 1}`);
  return { columns, rows: records.slice(1) };
}

/** Whether a column holds numbers (at least 90 % of its non-empty cells, and at least one). */
export function isNumericColumn(rows: string[][], j: number): boolean {
  let num = 0,
    filled = 0;
  const limit = Math.min(rows.length, 5000);
  for (let r = 0; r < limit; r++) {
    const v = rows[r][j]?.trim();
    if (!v) continue;
    filled++;
    if (Number.isFinite(Number(v))) num++;
  }
  return filled > 0 && num >= 0.9 * filled;
}

/** The values of a column as numbers; empty or non-numeric cells take the previous value (0 at the start). */
export function numericColumn(rows: string[][], j: number): Float64Array {
  const out = new Float64Array(rows.length);
  let last = NaN;
  for (let r = 0; r < rows.length; r++) {
    const s = rows[r][j]?.trim();
    const v = s ? Number(s) : NaN;
    if (Number.isFinite(v)) last = v;
    out[r] = last;
  }
  // leading gaps take the first value seen
  const first = out.find((v) => Number.isFinite(v)) ?? 0;
  for (let r = 0; r < out.length && !Number.isFinite(out[r]); r++) out[r] = first;
  return out;
}

const ID_LIKE = /(^|[_\s-])(id|idx|index|label|labels|anomaly|is_?anomaly|outlier|time|timestamp|date|datetime|reading|seq|sequence)$/i;
const LABEL_LIKE = /^(label|labels|anomaly|is_?anomaly|outlier|is_?outlier)$/i;

/** Columns worth modelling by default: numeric, not id/label/time-like by name, more than two distinct values. */
export function suggestColumn(rows: string[][], columns: string[], j: number): boolean {
  if (ID_LIKE.test(columns[j].trim())) return false;
  const seen = new Set<string>();
  const limit = Math.min(rows.length, 5000);
  for (let r = 0; r < limit && seen.size <= 2; r++) seen.add(rows[r][j]?.trim() ?? '');
  return seen.size > 2;
}

/** A label column by name (label, anomaly, is_anomaly, outlier), if any. */
export function suggestLabel(columns: string[]): string | undefined {
  return columns.find((c) => LABEL_LIKE.test(c.trim()));
}
