/**
 * How `lstm-vae train` / `score` turn a file's rows into the one series a detector sees: rows with irregular times
 * averaged onto a regular grid (and scores mapped back to the rows), times set back in a few places taken in file
 * order. `npm run eval:nab` uses the same functions, so that it measures what the CLI does.
 */
import type { ContinuousInput } from '../data/series.js';
import type { DetectorScores } from '../detect/detector.js';
import { explainRows } from '../detect/explain.js';
import { labelRuns } from '../detect/intervals.js';
import { regularize } from '../detect/preprocess.js';
import { textColumns } from './columns.js';
import { columnCells } from './input.js';
import { counterTimes, timeOf } from './labels.js';
import { duration } from './progress.js';

export interface Grid {
  series: { data: ArrayLike<number>; shape: [number, number] };
  /** Grid slot of each row, when the rows' times were irregular and went onto a regular grid. */
  slot?: Int32Array;
  /** The grid's interval in milliseconds (irregular times only). */
  interval?: number;
}

/**
 * The single series of an input, `{ data, shape }` with NaN for missing cells. With a timestamp column whose times
 * are irregular (or `interval` given, as saved at training), the rows are averaged onto a regular grid first.
 */
export function gridOf(input: ContinuousInput, interval?: number): Grid {
  const s = input.segments[0];
  const plain: Grid = { series: { data: s.data, shape: [s.n, input.features] } };
  if (!s.timestamps) return plain;
  const times = s.timestamps.map(timeOf);
  if (times.some((t) => !Number.isFinite(t))) return plain; // not times (e.g. sequence numbers as text): rows as they are
  if (clockSetBack(input) !== undefined) return plain; // a clock set back in a few places: rows in file order
  const g = regularize(times, s.data, input.features, interval);
  if (g.regular && interval === undefined) return plain;
  return { series: { data: g.data, shape: [g.n, input.features] }, slot: g.slot, interval: g.interval };
}

/**
 * At most this share of a file's steps may go back in time for its rows to be taken in file order (a clock set
 * back: NAB's machine_temperature_system_failure.csv repeats 55 minutes once in 22,695 rows); more (a file sorted
 * the wrong way) stays an error asking to sort the rows.
 */
const CLOCK_SET_BACK = 0.01;

/**
 * When the rows' times go back in a few places (a clock set back, a daylight-saving change), a sentence saying
 * where and that the rows are taken in file order without a time grid; otherwise undefined.
 */
export function clockSetBack(input: ContinuousInput): string | undefined {
  const stamps = input.segments[0]?.timestamps;
  if (!stamps || stamps.length < 2) return undefined;
  const times = stamps.map(timeOf);
  if (times.some((t) => !Number.isFinite(t))) return undefined;
  const back: number[] = [];
  for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) back.push(i);
  if (back.length === 0 || back.length > Math.max(1, Math.floor(CLOCK_SET_BACK * (times.length - 1)))) return undefined;
  const by = times[back[0] - 1] - times[back[0]];
  const amount = counterTimes(stamps) ? `${by}` : duration(by / 1000);
  const more = back.length > 1 ? ` and in ${back.length - 1} more place${back.length > 2 ? 's' : ''}` : '';
  return `the timestamps go back in time at row ${back[0]} (by ${amount})${more}: the rows are taken in file order, without a time grid`;
}

/**
 * When the file holds several series one after another (as the AIOps challenge's KPI files: a text column, the
 * series' id, changes value at every row where the times start again), a sentence saying so; otherwise undefined.
 * A detector learns one series: `train` and `score` refuse such a file (a `DataError` with this sentence).
 */
export function stackedSeries(input: ContinuousInput): string | undefined {
  const stamps = input.segments[0]?.timestamps;
  if (!stamps || input.text === undefined || !input.header) return undefined;
  const times = stamps.map(timeOf);
  if (times.some((t) => !Number.isFinite(t))) return undefined;
  const back: number[] = [];
  for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) back.push(i);
  if (back.length === 0) return undefined;
  // the text columns train set aside, or (score, with the training's columns given) those of this file
  for (const name of input.textColumns ?? textColumns(input.text, input.header)) {
    const ids = columnCells(input.text, input.header, name);
    if (ids.length !== times.length || !back.every((i) => ids[i] !== ids[i - 1])) continue;
    const distinct = [...new Set(ids)];
    const shown = distinct.slice(0, 3).join(', ') + (distinct.length > 3 ? ', …' : '');
    return `the file holds ${distinct.length} series one after another, one for each value of column "${name}" (${shown}), each with its own times (they start again at row ${back[0]}): a detector learns one series; split the file by ${name} and train a detector on each`;
  }
  return undefined;
}

/** The row of the highest score in rows a..b (inclusive; the first on a tie): an interval's peak. */
export function peakRow(scores: Float32Array, a: number, b: number): number {
  let m = a;
  for (let i = a; i <= b; i++) if (scores[i] > scores[m]) m = i;
  return m;
}

function peakOf(scores: Float32Array, a: number, b: number): number {
  return scores[peakRow(scores, a, b)];
}

/** Row-level scores from grid-level ones. */
export function toRows(r: DetectorScores, g: Grid, rows: number, d: number): DetectorScores {
  const slot = g.slot;
  if (!slot) return r;
  const scores = Float32Array.from({ length: rows }, (_, i) => r.scores[slot[i]]);
  const anomalies = Uint8Array.from({ length: rows }, (_, i) => r.anomalies[slot[i]]);
  const contributions = new Float32Array(rows * d);
  const reconstruction = new Float32Array(rows * d);
  const errors = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    contributions.set(r.contributions.subarray(slot[i] * d, slot[i] * d + d), i * d);
    reconstruction.set(r.reconstruction.subarray(slot[i] * d, slot[i] * d + d), i * d);
    errors.set(r.errors.subarray(slot[i] * d, slot[i] * d + d), i * d);
  }
  const intervals = labelRuns(anomalies);
  const names: string[] = [];
  for (const f of r.explanations[0]?.features ?? []) names[f.feature] = f.name;
  // each row interval's bar: that of the grid interval with the highest score among those it covers
  const explanations = intervals.map((iv) => {
    const e = explainRows(errors, d, iv, names);
    let best = -1;
    r.intervals.forEach(([a, b], k) => {
      if (b < slot[iv[0]] || a > slot[iv[1]]) return;
      if (best < 0 || peakOf(r.scores, a, b) > peakOf(r.scores, ...r.intervals[best])) best = k;
    });
    const by = best >= 0 ? r.explanations[best]?.by : undefined;
    const column = best >= 0 ? r.explanations[best]?.column : undefined;
    return by ? { ...e, by, ...(column ? { column } : {}) } : e;
  });
  return { ...r, scores, anomalies, contributions, reconstruction, errors, intervals, explanations };
}
