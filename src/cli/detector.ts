/**
 * `lstm-vae train` / `score` on one continuous series with the detector's defaults: exactly
 * `AnomalyDetector.fit(series)` and `det.score(series)`, with progress, a summary line and a report.
 */

import { basename } from 'node:path';
import { DataError } from '../core/errors.js';
import type { ContinuousInput } from '../data/series.js';
import { AnomalyDetector, type DetectorScores } from '../detect/detector.js';
import { coverageWarning } from '../detect/diagnostics.js';
import { explainRows, type ScoreSource } from '../detect/explain.js';
import { labelRuns } from '../detect/intervals.js';
import type { DetectorPlan } from '../detect/plan.js';
import type { LstmVae } from '../model/lstm-vae.js';
import type { ReportInput } from '../report/index.js';
import { UsageError } from './errors.js';
import { readInput } from './input.js';
import { clockSetBack, gridOf, peakRow, stackedSeries, toRows } from './grid.js';
import { counterTimes, readLabelsFor, timeOf } from './labels.js';
import { csvLine, reportPaths, writeOutput, writeReport } from './output.js';
import { chunkProgress, duration, fmt, note } from './progress.js';
import { Interrupted, initBackend } from './shared.js';

export interface DetectorTrainOptions {
  out: string;
  window?: number;
  hidden?: number;
  latent?: number;
  batchSize?: number;
  lr?: number;
  beta?: number;
  seed: number;
  maxSteps?: number;
  maxSeconds?: number;
  members?: number;
  latentScore?: boolean;
  tailCorrection?: boolean;
  labels?: string;
  report?: string | boolean;
  quiet?: boolean;
}

/** How the summary names an interval's bar (the smoothed error, the default, is not named). */
const BY_TEXT: Record<ScoreSource, string> = {
  error: 'smoothed error',
  point: "one point's error",
  latent: 'latent score',
  'latent-point': "one point's latent score",
  column: "one column's own error",
};

/** A time cell as people read it: Unix seconds or milliseconds (as Yahoo's and many exports' files hold) as a UTC date, anything else as written. */
export function readableTime(cell: string): string {
  if (!/^\s*\d{9,13}(\.\d+)?\s*$/.test(cell) || counterTimes([cell])) return cell;
  const t = timeOf(cell);
  return Number.isFinite(t) ? new Date(t).toISOString().replace('.000Z', 'Z') : cell;
}

/**
 * The detected intervals in words: each with its peak (the row of its highest score), what decided it when not the
 * smoothed error, and how many of its rows had a missing cell (filled, not measured) when a tenth or more did.
 */
function describeIntervals(r: DetectorScores, times?: string[], data?: Float32Array, d = 1): string {
  if (r.intervals.length === 0) return 'none';
  const at = (i: number) => (times ? readableTime(times[i]) : String(i));
  const missingIn = (a: number, b: number) => {
    let k = 0;
    for (let i = a; i <= b && data; i++) {
      for (let j = 0; j < d; j++)
        if (Number.isNaN(data[i * d + j])) {
          k++;
          break;
        }
    }
    return k;
  };
  const shown = r.intervals.slice(0, 8).map(([a, b], k) => {
    const by = r.explanations[k]?.by;
    const col = r.explanations[k]?.column;
    // the row of the interval's highest score: where to look in a wide interval (smoothing and padding widen it)
    const peak = peakRow(r.scores, a, b);
    const missing = missingIn(a, b);
    const what = [
      ...(b > a ? [`peak ${at(peak)}`] : []),
      ...(by && by !== 'error' ? [by === 'column' && col ? `${col.name} above its own bar` : BY_TEXT[by]] : []),
      // an interval over a gap of the data: the values there were filled, not measured
      ...(10 * missing >= b - a + 1 && missing > 0 ? [`${missing} of its ${b - a + 1} rows filled, not measured`] : []),
    ];
    return `${at(a)}–${at(b)}${what.length ? ` (${what.join('; ')})` : ''}`;
  });
  return shown.join(', ') + (r.intervals.length > 8 ? `, … (${r.intervals.length} in all)` : '');
}

function report(
  det: AnomalyDetector,
  input: ContinuousInput,
  r: DetectorScores,
  title: string,
  subtitle: string,
  labels?: Uint8Array,
  extra: Array<[string, string]> = [],
  warnings: string[] = [],
): ReportInput {
  const p = det.plan;
  const s = input.segments[0];
  const d = input.features;
  // the input chart of a wide table: the columns with the most error in the detected intervals (over every row when
  // none was detected); the heat map below still shows every column
  const drawn = largestError(r, d, INPUT_COLUMNS, r.intervals.length > 0 ? r.intervals : [[0, s.n - 1]]);
  const values = drawn.map((j) => Float64Array.from({ length: s.n }, (_, i) => s.data[i * d + j]));
  const drawnNames = drawn.map((j) => input.columns[j]);
  return {
    title,
    subtitle,
    summary: [
      ['data', `${input.file} (${s.n} rows, columns ${input.columns.join(', ')})`],
      [
        'window',
        `${p.window * p.aggregate} rows (${p.window} points${p.aggregate > 1 ? ` of ${p.aggregate} rows each` : ''}): ${p.windowReason}`,
      ],
      [
        'scaling',
        `each column: minus its median, over the spread of its windows around their own means; every window centred on its own mean${
          p.constantColumns?.length
            ? `; constant in training: ${p.constantColumns.map((j) => input.columns[j] ?? `column ${j}`).join(', ')} (minus that value, over the median spread of the others)`
            : ''
        }`,
      ],
      [
        'training',
        `${p.training.steps} steps${(p.members ?? 1) > 1 ? ` over ${p.members} models (point errors averaged)` : ''}, stopped: ${p.training.stopped}; ${duration(p.training.seconds)}`,
      ],
      ['diagnostics', p.diagnostics.message],
      ['threshold', `${fmt(p.threshold)} — ${ruleText(p)}`],
      ['anomalous intervals', describeIntervals(r, s.timestamps, s.data, d)],
      ...extra,
    ],
    series: [
      {
        name: 'score',
        scores: r.scores,
        threshold: r.threshold,
        labels: labels ? labelRuns(labels) : undefined,
        detected: r.intervals,
        values: {
          columns: drawnNames,
          data: values,
          ...(drawn.length < d
            ? { note: `${drawn.length} of ${d} columns: largest error${r.intervals.length > 0 ? ' in the detected intervals' : ''}` }
            : {}),
        },
        errors: { columns: input.columns, data: r.errors, label: 'squared error (scaled)' },
      },
    ],
    reconstructions: reconstructionPanels(input, r, p.window * p.aggregate),
    history: det.history?.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, recon: e.recon, kl: e.kl, valLoss: e.valLoss })),
    notes: [...(p.diagnostics.notLearnt ? [p.diagnostics.message] : []), ...warnings].map((w) => `Warning: ${w}`),
    main: 'scores',
  };
}

/**
 * The series beside the detector's reconstruction (the median over the windows holding each row): around the three
 * detected intervals with the highest scores (a window of rows on each side) and around a typical row (the median
 * score), so the report shows whether the model follows the shape where it is normal and where it is not.
 */
/** At most this many columns in the report's input chart (the heat map shows every column). */
const INPUT_COLUMNS = 8;

/** The (at most) `k` columns with the largest squared error over the given rows, in the table's order. */
function largestError(r: DetectorScores, d: number, k: number, rows: ReadonlyArray<readonly [number, number]>): number[] {
  const all = Array.from({ length: d }, (_, j) => j);
  if (d <= k) return all;
  const error = new Float64Array(d);
  for (const [a, b] of rows) for (let i = a; i <= b; i++) for (let j = 0; j < d; j++) error[j] += r.errors[i * d + j];
  return all
    .sort((x, y) => error[y] - error[x] || x - y)
    .slice(0, k)
    .sort((x, y) => x - y);
}

/** At most this many columns in a reconstruction panel (those with the largest error in it): more make its legend unreadable. */
const PANEL_COLUMNS = 4;

function reconstructionPanels(input: ContinuousInput, r: DetectorScores, w: number): ReportInput['reconstructions'] {
  const s = input.segments[0];
  const d = input.features;
  const panel = (title: string, a: number, b: number, focus: number) => {
    const lo = Math.max(0, a);
    const hi = Math.min(s.n - 1, b);
    // a wide table: the columns that carry the most squared error in the window around the panel's focus (an
    // interval's peak), in the table's order
    const shown = largestError(r, d, PANEL_COLUMNS, [[Math.max(0, focus - (w >> 1)), Math.min(s.n - 1, focus + (w >> 1))]]);
    const k = shown.length;
    const inputs = new Float32Array((hi - lo + 1) * k);
    const outputs = new Float32Array((hi - lo + 1) * k);
    for (let i = lo; i <= hi; i++)
      shown.forEach((j, c) => {
        inputs[(i - lo) * k + c] = s.data[i * d + j];
        outputs[(i - lo) * k + c] = r.reconstruction[i * d + j];
      });
    return {
      title: k < d ? `${title} (${k} of ${d} columns)` : title,
      columns: shown.map((j) => input.columns[j]),
      input: inputs,
      output: outputs,
      steps: hi - lo + 1,
    };
  };
  const where = (i: number) => (s.timestamps ? readableTime(s.timestamps[i]) : `row ${i}`);
  // the three intervals with the highest peaks (each peak found once)
  const top = r.intervals
    .map(([a, b]) => ({ a, b, peak: peakRow(r.scores, a, b) }))
    .sort((x, y) => r.scores[y.peak] - r.scores[x.peak])
    .slice(0, 3);
  const panels = top.map(({ a, b, peak }) => {
    // at most 4 windows of a wide interval, around its peak (kept inside the interval), with a window either side
    const span = Math.min(b - a + 1, 4 * w);
    const from = Math.min(Math.max(a, peak - Math.floor(span / 2)), b - span + 1);
    return panel(`detected ${where(a)} – ${where(b)}`, from - w, from + span - 1 + w, peak);
  });
  const order = Array.from(r.scores.keys()).sort((i, j) => r.scores[i] - r.scores[j]);
  const typical = order[Math.floor(order.length / 2)];
  panels.push(panel(`typical: around ${where(typical)} (median score)`, typical - w, typical + w, typical));
  return panels;
}

/**
 * The columns that were constant in the training file, in one sentence: kept, what a change from their value means,
 * and the `--columns` that leaves them out; undefined when there are none.
 */
export function constantNote(p: DetectorPlan, columns: readonly string[]): string | undefined {
  const js = p.constantColumns ?? [];
  if (js.length === 0) return undefined;
  const name = (j: number) => columns[j] ?? `column ${j}`;
  const keep = columns.filter((_, j) => !js.includes(j)).map((c) => (/^[\w.-]+$/.test(c) ? c : JSON.stringify(c)));
  const listed = js.map((j) => `${name(j)} = ${p.center[j]}`).join(', ');
  return `${js.length === 1 ? `${name(js[0])} is` : `${js.length} columns are`} constant in the training file (${listed}): kept, so a change from ${js.length === 1 ? 'that value' : 'those values'} in a scored file counts as anomalous; to ignore ${js.length === 1 ? 'it' : 'them'}, train with --columns ${keep.join(',')}`;
}

export async function trainDetector(input: ContinuousInput, dataFile: string, o: DetectorTrainOptions): Promise<void> {
  oneSeries(input, dataFile);
  const t0 = Date.now();
  await initBackend();
  const grid = gridOf(input);
  const series = grid.series;
  note(
    o.quiet,
    `training an anomaly detector on ${input.segments[0].n} rows × ${series.shape[1]} column${series.shape[1] > 1 ? 's' : ''} (${input.columns.join(', ')}) from ${dataFile}`,
  );
  const setBack = clockSetBack(input);
  if (setBack) note(o.quiet, setBack);
  if (grid.slot)
    note(
      o.quiet,
      `the timestamps are irregular: rows averaged onto a regular grid of ${counterTimes(input.segments[0].timestamps ?? []) ? `${grid.interval} (the timestamp column's units)` : `${grid.interval! / 1000} s`} (${series.shape[0]} slots; empty slots filled as missing values)`,
    );
  const ac = new AbortController();
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  const maxSteps = o.maxSteps ?? 1000;
  let det: AnomalyDetector;
  let step = 0;
  try {
    det = await AnomalyDetector.fit(series, {
      columns: input.columns,
      seed: o.seed,
      ...(o.window !== undefined ? { window: o.window } : {}),
      ...(o.hidden !== undefined ? { hidden: o.hidden } : {}),
      ...(o.latent !== undefined ? { latent: o.latent } : {}),
      ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
      ...(o.lr !== undefined ? { learningRate: o.lr } : {}),
      ...(o.beta !== undefined ? { beta: o.beta } : {}),
      ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
      ...(o.maxSeconds !== undefined ? { maxSeconds: o.maxSeconds } : {}),
      ...(o.members !== undefined ? { members: o.members } : {}),
      ...(o.latentScore === false ? { latentScore: false } : {}),
      ...(o.tailCorrection === false ? { tailCorrection: false } : {}),
      signal: ac.signal,
      onBatchEnd: (b) => {
        step = b.step;
      },
      onProgress: chunkProgress(o.quiet, 'setting the threshold: the trained models reconstruct every window of the series'),
      onEpochEnd: (e) => {
        if (o.quiet) return;
        const which = e.members > 1 ? `model ${e.member + 1}/${e.members}, ` : '';
        const line = `training: ${which}step ${step}/${maxSteps}  loss ${fmt(e.loss)}  validation ${fmt(e.valLoss)}  KL ${fmt(e.kl, 3)}`;
        if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
        else if (e.epoch % 5 === 0) process.stderr.write(line + '\n');
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    if (!o.quiet && process.stderr.isTTY) process.stderr.write('\n');
  }
  if (ac.signal.aborted || det.history?.stopped === 'aborted') {
    det.dispose();
    throw new Interrupted('training interrupted; nothing was written');
  }
  try {
    const p = det.plan;
    const why = {
      converged: 'the validation loss stopped improving',
      'max-steps': `the step budget (${maxSteps})`,
      'max-seconds': 'the time budget',
      epochs: 'the epochs',
      'early-stopping': 'early stopping',
      aborted: 'interrupted',
    }[p.training.stopped];
    note(
      o.quiet,
      `trained ${(p.members ?? 1) > 1 ? `${p.members} models, ${p.training.steps} steps in all,` : `${p.training.steps} steps`} in ${duration(p.training.seconds)}; stopped: ${why}; best validation loss ${fmt(Math.min(...(det.history?.epochs.map((e) => e.valLoss ?? Infinity) ?? [NaN])))}`,
    );
    note(o.quiet, `window ${p.window * p.aggregate} rows: ${p.windowReason}`);
    const constant = constantNote(p, input.columns);
    if (constant) note(o.quiet, constant);
    const filled = filledNote(input.segments[0].data);
    if (filled) note(o.quiet, filled);
    if (p.diagnostics.notLearnt) process.stderr.write(`warning: ${p.diagnostics.message}\n`);
    else note(o.quiet, `diagnostics: ${p.diagnostics.message}`);
    det.model.metadata = {
      ...det.model.metadata,
      cliInput: {
        kind: input.kind,
        columns: input.columns,
        timestamp: input.timestampColumn ?? null,
        ...(grid.interval ? { interval: grid.interval } : {}),
        file: dataFile,
        trainedAt: new Date().toISOString(),
      },
    };
    // the reconstructions fit kept for its bars: no second pass over the series (nothing to show, unless they were not kept)
    const onProgress = chunkProgress(o.quiet, 'scoring: the models reconstruct every window of the series');
    const r = toRows(det.score(series, { onProgress }), grid, input.segments[0].n, input.features);
    await writeOutput(o.out, det.toSafetensors());
    process.stdout.write(
      `saved ${o.out}: anomaly detector (window ${p.window * p.aggregate} rows, ${det.models.length > 1 ? `${det.models.length} models × ` : ''}${det.model.parameterCount} parameters) in ${duration((Date.now() - t0) / 1000)}; ` +
        `threshold ${fmt(p.threshold)} (${ruleText(p)}); on the training series: ${r.intervals.length} anomalous interval${r.intervals.length === 1 ? '' : 's'}\n`,
    );
    const wide = coverageWarning(r.anomalies, true);
    if (wide) process.stderr.write(`warning: ${wide}\n`);
    const labels = o.labels ? readLabelsFor(o.labels, input) : undefined;
    await writeReport(
      reportPaths(o.out, o.report),
      report(det, input, r, `lstm-vae train: ${basename(dataFile)}`, `detector ${o.out}`, labels, [], wide ? [wide] : []),
      o.quiet,
    );
  } finally {
    det.dispose();
  }
}

export interface DetectorScoreOptions {
  out?: string;
  threshold?: number;
  labels?: string;
  report?: string | boolean;
  quiet?: boolean;
}

/**
 * The one series a detector file scores, read as `lstm-vae train` read its training file: the saved columns and
 * timestamp column unless given, missing cells as NaN; text or several sequences are a UsageError.
 */
export function readDetectorInput(
  model: LstmVae,
  modelFile: string,
  dataFile: string,
  o: { columns?: string[]; timestamp?: string | false; labels?: string; quiet?: boolean },
  exclude: { exclude?: string[] },
): ContinuousInput {
  const saved = model.metadata.cliInput as { columns?: string[]; timestamp?: string | null } | undefined;
  const read = (timestamp: string | false | undefined) =>
    readInput(dataFile, { columns: o.columns ?? saved?.columns, timestamp, missing: 'nan', ...exclude });
  let input: ReturnType<typeof readInput>;
  try {
    input = read(o.timestamp ?? (saved?.timestamp === null ? false : saved?.timestamp));
  } catch (e) {
    // the training file's time column is not in this one: its rows are taken in file order
    const missingTime = e instanceof DataError && /\(argument: options\.timestamp;/.test(e.message);
    if (!(missingTime && o.timestamp === undefined && saved?.timestamp)) throw e;
    input = read(false);
    note(o.quiet, `${dataFile} has no column ${saved.timestamp} (the training file's times): its rows are taken in file order`);
  }
  if (input.kind === 'text') throw new UsageError(`${modelFile} is an anomaly detector for continuous data; ${dataFile} is text`);
  if (input.segments.length !== 1)
    throw new UsageError(
      `${modelFile} is an anomaly detector: it takes one series (a CSV file, or one JSON sequence); ${dataFile} has ${input.segments.length}`,
    );
  oneSeries(input, dataFile);
  return input;
}

/** A file of several series one after another (see `stackedSeries`) is a DataError: a detector learns one. */
function oneSeries(input: ContinuousInput, dataFile: string): void {
  const stacked = stackedSeries(input);
  if (stacked) throw new DataError(`${dataFile}: ${stacked}`);
}

/**
 * The line `train` and `score` print when cells of the file were missing (empty, NaN, NA, null) and so filled;
 * undefined when none was. (Empty slots of a time grid are said by the grid's own line.)
 */
function filledNote(data: Float32Array): string | undefined {
  const filled = data.reduce((k, v) => k + (Number.isNaN(v) ? 1 : 0), 0);
  const cells = data.length;
  if (filled === 0) return undefined;
  return `missing values: ${filled} of ${cells} cells (${((100 * filled) / cells).toPrecision(2)}%) filled by linear interpolation between the nearest values (the ends take the nearest value)`;
}

/** The detector's scores of every row of the input (through the saved time grid when the rows' times are irregular). */
export function scoreRows(det: AnomalyDetector, input: ContinuousInput, quiet?: boolean): DetectorScores {
  const interval = (det.model.metadata.cliInput as { interval?: number } | undefined)?.interval;
  const grid = gridOf(input, typeof interval === 'number' && interval > 0 ? interval : undefined);
  const onProgress = chunkProgress(quiet, 'scoring: the models reconstruct every window of the series');
  return toRows(det.score(grid.series, { onProgress }), grid, input.segments[0].n, input.features);
}

export async function scoreDetector(
  det: AnomalyDetector,
  modelFile: string,
  input: ContinuousInput,
  dataFile: string,
  o: DetectorScoreOptions,
): Promise<void> {
  // a long series takes a while (every window, every model): say so before the silence
  const rows = input.segments[0].n;
  if (rows * det.models.length >= 150_000)
    note(
      o.quiet,
      `scoring ${rows} rows with ${det.models.length} model${det.models.length > 1 ? 's' : ''} (every window of ${det.plan.window * det.plan.aggregate} rows)…`,
    );
  const setBack = clockSetBack(input);
  if (setBack) note(o.quiet, setBack);
  const filled = filledNote(input.segments[0].data);
  if (filled) note(o.quiet, filled);
  let r = scoreRows(det, input, o.quiet);
  let rule = `${ruleText(det.plan)}; saved with the model`;
  if (o.threshold !== undefined) {
    const flagged = new Uint8Array(r.scores.length);
    for (let i = 0; i < flagged.length; i++) flagged[i] = r.scores[i] > o.threshold ? 1 : 0;
    const intervals = labelRuns(flagged);
    const explanations = intervals.map((iv) => explainRows(r.errors, input.features, iv, input.columns));
    r = { ...r, anomalies: flagged, threshold: o.threshold, intervals, explanations };
    rule = 'given with --threshold';
  }
  const s = input.segments[0];
  const ts = input.timestampColumn;
  const d = input.features;
  const header = [ts ?? 'index', 'score', 'anomaly', ...(d > 1 ? input.columns.map((c) => `contribution_${c}`) : [])];
  const lines: string[] = [csvLine(header)];
  for (let i = 0; i < s.n; i++) {
    const row: Array<string | number> = [s.timestamps ? s.timestamps[i] : i, r.scores[i], r.anomalies[i]];
    if (d > 1) for (let j = 0; j < d; j++) row.push(r.contributions[i * d + j]);
    lines.push(csvLine(row));
  }
  await writeOutput(o.out, lines.join(''));
  const toStdout = o.out === undefined || o.out === '-';
  const flagged = r.anomalies.reduce((a, v) => a + v, 0);
  const wide = coverageWarning(r.anomalies, false);
  if (!o.quiet) {
    (toStdout ? process.stderr : process.stdout).write(
      `scored ${s.n} rows: ${r.intervals.length} anomalous interval${r.intervals.length === 1 ? '' : 's'} (${flagged} rows): ${describeIntervals(r, s.timestamps, s.data, input.features)}; threshold ${fmt(r.threshold)} (${rule})${toStdout ? '' : ` → ${o.out}`}\n`,
    );
    if (det.plan.diagnostics.notLearnt) process.stderr.write(`warning: ${det.plan.diagnostics.message}\n`);
    if (wide) process.stderr.write(`warning: ${wide}\n`);
  }
  const labels = o.labels ? readLabelsFor(o.labels, input) : undefined;
  await writeReport(
    reportPaths(o.out, o.report),
    report(det, input, r, `lstm-vae score: ${basename(dataFile)}`, `detector ${modelFile}`, labels, [['rule', rule]], wide ? [wide] : []),
    o.quiet,
  );
}

/** The saved rule in words, with the point threshold's value when the plan has one. */
export function ruleText(p: DetectorPlan): string {
  const bars: string[] = [];
  if (p.pointThreshold !== undefined) bars.push(`point error bar ${fmt(p.pointThreshold)}`);
  if (p.latent)
    bars.push(
      `latent bars ${fmt(p.latent.threshold)}${p.latent.pointThreshold !== undefined ? ` and ${fmt(p.latent.pointThreshold)} (point)` : ''}`,
    );
  return bars.length ? `${p.thresholdRule} (${bars.join('; ')})` : p.thresholdRule;
}
