/**
 * The actions behind each `lstm-vae` command.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, LstmVae, CharTokenizer, decodeSafetensors } from '../index.node.js';
import type { EpochStats, History } from '../train.js';
import { DataError, FormatError, IOError } from '../core/errors.js';
import { averagePrecision, bestF1, percentileThreshold, rocAuc, sumSegmentCounts, overlappingSegmentF1, type SegmentScores } from '../eval/metrics.js';
import { findAnomalies } from '../detect/find-anomalies.js';
import { readFileBytes, writeFileAtomic } from '../io/atomic-write.js';
import type { Normalizer } from '../data/normalize.js';
import { renderReport, type ReportInput, type ScoreSeries, type ReconstructionPanel } from '../report/index.js';
import { UsageError } from './errors.js';
import { inputKind, readInput, type ContinuousInput, type Input, type Segment } from './input.js';
import {
  fitNormalizer,
  labelRuns,
  makeWindows,
  normalizeSegments,
  normalizerOf,
  planWindows,
  pointReconstructions,
  pointScores,
  readCliMetadata,
  readLabels,
  scoreWindows,
  type CliMetadata,
  type Windowed,
  type WindowScores,
  type Reduce,
} from './pipeline.js';
import { duration, fmt, note, TrainingProgress } from './progress.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

export interface GlobalOptions {
  threads?: number;
}

let globalOptions: GlobalOptions = {};
export function setGlobalOptions(o: GlobalOptions): void {
  globalOptions = o;
}

async function initBackend(): Promise<void> {
  await init(globalOptions.threads !== undefined ? { threads: globalOptions.threads } : {});
}

/** Exit code 130: the user interrupted training. */
export class Interrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbortError';
  }
}

/** Writes `text` to a file atomically, or to stdout for `-` / undefined. */
export async function writeOutput(file: string | undefined, text: string | Uint8Array): Promise<void> {
  if (file === undefined || file === '-') {
    process.stdout.write(text);
    return;
  }
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  try {
    await writeFileAtomic(file, bytes);
  } catch (e) {
    if (e instanceof IOError) throw new IOError(e.message.replace('cannot write model to', 'cannot write'));
    throw e;
  }
}

function csvCell(v: string | number): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(7))) : String(v);
  return /[",\n\r]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(cells: Array<string | number>): string {
  return cells.map(csvCell).join(',') + '\n';
}

/** `model.safetensors` → `model`, `out/scores.csv` → `out/scores`. */
function stem(file: string): string {
  const ext = extname(file);
  return ext ? file.slice(0, -ext.length) : file;
}

function reportPaths(out: string | undefined, report: string | boolean | undefined): { html: string; svg: string } | undefined {
  if (report === false) return undefined;
  if (typeof report === 'string') return { html: report, svg: stem(report) + '.svg' };
  if (out === undefined || out === '-') return undefined;
  return { html: stem(out) + '.html', svg: stem(out) + '.svg' };
}

async function writeReport(paths: { html: string; svg: string } | undefined, input: ReportInput, quiet?: boolean): Promise<void> {
  if (!paths) return;
  const r = renderReport(input);
  await writeOutput(paths.html, r.html);
  await writeOutput(paths.svg, r.svg);
  note(quiet, `report: ${paths.html} (chart: ${paths.svg})`);
}

interface LoadedModel {
  model: LstmVae;
  file: string;
  bytes: number;
  meta?: CliMetadata;
  normalizer?: Normalizer;
  tensors: number;
}

export async function loadModel(file: string): Promise<LoadedModel> {
  const bytes = await readFileBytes(file);
  await initBackend();
  let model: LstmVae;
  let tensors = 0;
  try {
    tensors = Object.keys(decodeSafetensors(bytes, { maxHeaderBytes: 16 << 20 }).tensors).length;
    model = LstmVae.fromSafetensors(bytes);
  } catch (e) {
    if (e instanceof Error && /Error$/.test(e.name) && e.name !== 'Error' && e.name !== 'TypeError' && e.name !== 'RangeError') {
      throw new FormatError(`${file} is not a valid lstm-vae model: ${e.message}`);
    }
    throw e;
  }
  const meta = readCliMetadata(model.metadata, file);
  return { model, file, bytes: bytes.length, meta, normalizer: normalizerOf(meta, file), tensors };
}

export function describeReduce(r: Reduce): string {
  if (r === 'step-mean' || r === 'step-max') return `${r === 'step-mean' ? 'mean' : 'max'} over the covering windows of the squared error at the point's step (${r})`;
  const what = r === 'q10' ? '10th percentile' : r === 'q25' ? '25th percentile' : r;
  return `${what} of the scores of the windows covering the point (${r})`;
}

function modelMode(m: LstmVae): 'continuous' | 'tokens' {
  return m.config.mode;
}

function historySummary(h: History): CliMetadata['training']['history'] {
  return h.epochs.map((e: EpochStats) => {
    const r: CliMetadata['training']['history'][number] = { epoch: e.epoch, loss: e.loss, recon: e.recon, kl: e.kl };
    if (e.valLoss !== undefined) r.valLoss = e.valLoss;
    if (e.seqPerSec !== undefined) r.seqPerSec = Math.round(e.seqPerSec);
    return r;
  });
}

function concat(arrays: ArrayLike<number>[]): Float64Array {
  const n = arrays.reduce((a, x) => a + x.length, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const a of arrays) {
    out.set(a as ArrayLike<number>, o);
    o += a.length;
  }
  return out;
}

/** Runs `fit` with the progress display and Ctrl-C handling. */
async function fitWithProgress(
  model: LstmVae,
  x: Parameters<LstmVae['fit']>[0],
  o: { epochs: number; batchSize: number; lr: number; beta?: number; validationSplit: number; quiet?: boolean; clipNorm?: number },
): Promise<History> {
  const progress = new TrainingProgress({ epochs: o.epochs, quiet: o.quiet });
  const ac = new AbortController();
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  let history: History;
  try {
    history = await model.fit(x, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      optimizer: 'adam',
      learningRate: o.lr,
      shuffle: true,
      validationSplit: o.validationSplit,
      clipNorm: o.clipNorm ?? 5,
      ...(o.beta !== undefined ? { beta: o.beta } : {}),
      onBatchEnd: (s) => progress.onBatchEnd(s),
      onEpochEnd: (s) => progress.onEpochEnd(s),
      signal: ac.signal,
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
  }
  if (history.stopped === 'aborted' || ac.signal.aborted) throw new Interrupted('training interrupted; nothing was written');
  return history;
}

// ---------------------------------------------------------------------------------------------
// train
// ---------------------------------------------------------------------------------------------

export interface TrainOptions {
  out: string;
  columns?: string[];
  timestamp?: string;
  labels?: string;
  window?: number;
  stride?: number;
  hidden?: number;
  latent: number;
  layers: number;
  embedding: number;
  decoder: 'repeat' | 'autoregressive';
  epochs: number;
  batchSize: number;
  lr: number;
  beta?: number;
  seed: number;
  validationSplit?: number;
  reduce: Reduce;
  normalizer: 'minmax' | 'zscore' | 'none';
  percentile: number;
  report?: string | boolean;
  quiet?: boolean;
}

export async function train(dataFile: string, o: TrainOptions): Promise<void> {
  const t0 = Date.now();
  const pre = readInput(dataFile, { columns: o.columns, timestamp: o.timestamp });
  // A labels column of the training CSV is never a feature.
  const input: Input =
    o.labels && pre.kind === 'csv' && !o.columns && pre.header?.includes(o.labels)
      ? readInput(dataFile, { timestamp: o.timestamp, exclude: [o.labels] })
      : pre;
  if (input.kind === 'text') return trainTokens(input.lines, dataFile, o, t0);
  if (o.embedding !== 16 && o.embedding !== undefined) {
    // harmless, but tell the user it is ignored
    note(o.quiet, 'note: --embedding applies to text (token) models only; ignored');
  }
  const D = input.features;
  const normalizer = o.normalizer === 'none' ? undefined : fitNormalizer(input, o.normalizer);
  const segments = normalizeSegments(input.segments, normalizer);
  const plan = planWindows(input, o.window, o.stride);
  const ws = makeWindows(segments, D, plan.length, plan.stride, plan.whole);
  const W = ws.x.shape[0];
  const labels = o.labels ? readLabelsFor(o.labels, input) : undefined;

  await initBackend();
  const hidden = o.hidden ?? 32;
  const model = new LstmVae({ mode: 'continuous', features: D, hidden, latent: o.latent, layers: o.layers, decoder: o.decoder, seed: o.seed });
  note(
    o.quiet,
    `training on ${W} windows of ${plan.length} steps × ${D} feature${D > 1 ? 's' : ''} (${input.columns.join(', ')}) from ${dataFile}; ${model.parameterCount} parameters`,
  );
  const history = await fitWithProgress(model, ws.x, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    beta: o.beta,
    validationSplit: o.validationSplit ?? (W >= 50 ? 0.1 : 0),
    quiet: o.quiet,
  });

  const sc = scoreWindows(model, ws.x, { recon: true, mu: true });
  const pts = pointScores(ws, sc, segments, o.reduce);
  const threshold = percentileThreshold(concat(pts), o.percentile);
  const windowThreshold = percentileThreshold(sc.window, o.percentile);
  const seconds = (Date.now() - t0) / 1000;
  const meta: CliMetadata = {
    cli: 1,
    input: { kind: input.kind, columns: input.columns, features: D, timestamp: input.timestampColumn ?? null },
    window: plan,
    normalizer: normalizer?.toJSON(),
    scoring: { reduce: o.reduce, threshold, percentile: o.percentile, windowThreshold },
    training: {
      file: basename(dataFile),
      trainedAt: new Date().toISOString(),
      seconds: Math.round(seconds * 10) / 10,
      sequences: W,
      points: input.segments.reduce((a, s) => a + s.n, 0),
      options: { epochs: o.epochs, batchSize: o.batchSize, learningRate: o.lr, beta: o.beta ?? 1, seed: o.seed, stopped: history.stopped },
      history: historySummary(history),
    },
  };
  model.metadata = { ...model.metadata, lstmVaeCli: meta };
  await writeOutput(o.out, model.toSafetensors());
  const last = history.epochs[history.epochs.length - 1];
  process.stdout.write(
    `saved ${o.out}: ${model.parameterCount} parameters, ${history.epochs.length} epochs in ${duration(seconds)}, ` +
      `final loss ${fmt(last?.loss)} (recon ${fmt(last?.recon)}, KL ${fmt(last?.kl)}${last?.valLoss !== undefined ? `, validation ${fmt(last.valLoss)}` : ''}); ` +
      `threshold ${fmt(threshold)} (${o.percentile}th percentile of training scores)\n`,
  );

  await writeReport(
    reportPaths(o.out, o.report),
    continuousReport({
      title: `lstm-vae train: ${basename(dataFile)}`,
      subtitle: `model ${o.out}`,
      input,
      segments,
      ws,
      sc,
      pts,
      normalizer,
      threshold,
      labels,
      latent: o.latent,
      history,
      detected: detectIntervals(pts),
      summary: [
        ['data', `${dataFile} (${input.kind}; ${meta.training.points} points, columns ${input.columns.join(', ')})`],
        ['windows', plan.whole ? `${W} whole sequences of ${plan.length} steps` : `${W} windows of ${plan.length} points, stride ${plan.stride}`],
        ['model', `continuous, hidden ${hidden}, latent ${o.latent}, layers ${o.layers}, decoder ${o.decoder}; ${model.parameterCount} parameters`],
        ['training', `${history.epochs.length} epochs, batch ${o.batchSize}, Adam lr ${o.lr}, β ${o.beta ?? 1}, seed ${o.seed}; ${duration(seconds)}`],
        ['final loss', `${fmt(last?.loss)} (recon ${fmt(last?.recon)}, KL ${fmt(last?.kl)}${last?.valLoss !== undefined ? `, validation ${fmt(last.valLoss)}` : ''})`],
        ['threshold', `${fmt(threshold)} per point (${o.percentile}th percentile of training scores; point score = ${describeReduce(o.reduce)})`],
      ],
      main: 'loss',
    }),
    o.quiet,
  );
  model.dispose();
}

function readLabelsFor(spec: string, input: ContinuousInput): Uint8Array {
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

async function trainTokens(lines: string[], dataFile: string, o: TrainOptions, t0: number): Promise<void> {
  if (o.window !== undefined || o.stride !== undefined) throw new UsageError('--window and --stride apply to continuous data, not to text (token) data');
  const tok = CharTokenizer.fit(lines);
  const enc = tok.encodeBatch(lines);
  await initBackend();
  const hidden = o.hidden ?? 64;
  const model = new LstmVae({ mode: 'tokens', vocabSize: tok.vocabSize, embedding: o.embedding, hidden, latent: o.latent, layers: o.layers, seed: o.seed });
  model.tokenizer = tok;
  note(o.quiet, `training on ${lines.length} sequences (vocabulary ${tok.vocabSize}, up to ${enc.shape[1]} tokens) from ${dataFile}; ${model.parameterCount} parameters`);
  const history = await fitWithProgress(model, enc, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    beta: o.beta,
    validationSplit: o.validationSplit ?? (lines.length >= 50 ? 0.1 : 0),
    quiet: o.quiet,
  });
  const scores = scoreTokens(model, lines);
  const threshold = percentileThreshold(scores, o.percentile);
  const seconds = (Date.now() - t0) / 1000;
  const meta: CliMetadata = {
    cli: 1,
    input: { kind: 'text' },
    scoring: { reduce: o.reduce, threshold, percentile: o.percentile },
    training: {
      file: basename(dataFile),
      trainedAt: new Date().toISOString(),
      seconds: Math.round(seconds * 10) / 10,
      sequences: lines.length,
      options: { epochs: o.epochs, batchSize: o.batchSize, learningRate: o.lr, beta: o.beta ?? 1, seed: o.seed, stopped: history.stopped },
      history: historySummary(history),
    },
  };
  model.metadata = { ...model.metadata, lstmVaeCli: meta };
  await writeOutput(o.out, model.toSafetensors());
  const last = history.epochs[history.epochs.length - 1];
  process.stdout.write(
    `saved ${o.out}: ${model.parameterCount} parameters, ${history.epochs.length} epochs in ${duration(seconds)}, final loss ${fmt(last?.loss)} (recon ${fmt(last?.recon)}, KL ${fmt(last?.kl)})\n`,
  );
  const samples = model.generate({ n: 24, temperature: 0.8, maxLength: Math.max(8, enc.shape[1] + 4) }).map((ids) => tok.decode(ids));
  const known = new Set(lines);
  const { mu } = model.encode(enc);
  await writeReport(
    reportPaths(o.out, o.report),
    {
      title: `lstm-vae train: ${basename(dataFile)}`,
      subtitle: `model ${o.out}`,
      summary: [
        ['data', `${dataFile}: ${lines.length} sequences, vocabulary ${tok.vocabSize} (${tok.chars.join('')})`],
        ['model', `tokens, embedding ${o.embedding}, hidden ${hidden}, latent ${o.latent}, layers ${o.layers}; ${model.parameterCount} parameters`],
        ['training', `${history.epochs.length} epochs, batch ${o.batchSize}, Adam lr ${o.lr}, β ${o.beta ?? 1}, seed ${o.seed}; ${duration(seconds)}`],
        ['final loss', `${fmt(last?.loss)} (recon ${fmt(last?.recon)}, KL ${fmt(last?.kl)})`],
        ['threshold', `${fmt(threshold)} (${o.percentile}th percentile of training scores)`],
      ],
      history: history.epochs,
      latent: { mu, latent: o.latent, values: scores, valueLabel: 'score' },
      lists: [{ title: 'Samples from the prior (temperature 0.8; * = not in the training data)', items: samples.map((s) => (s === '' ? '(empty)' : known.has(s) ? s : `${s} *`)) }],
      tables: [topTable(lines, scores, 15)],
    },
    o.quiet,
  );
  model.dispose();
}

function scoreTokens(model: LstmVae, lines: string[]): Float32Array {
  const tok = model.tokenizer;
  if (!tok) throw new FormatError('the token model has no tokenizer saved with it');
  const out = new Float32Array(lines.length);
  const chunk = 512;
  for (let a = 0; a < lines.length; a += chunk) {
    const part = lines.slice(a, a + chunk);
    out.set(model.anomalyScores(tok.encodeBatch(part), { method: 'error' }), a);
  }
  return out;
}

function topTable(lines: string[], scores: ArrayLike<number>, k: number): { title: string; header: string[]; rows: string[][] } {
  const idx = Array.from(scores, (_, i) => i).sort((a, b) => scores[b] - scores[a]).slice(0, k);
  return { title: `Most anomalous sequences (top ${idx.length})`, header: ['#', 'line', 'sequence', 'score'], rows: idx.map((i, r) => [String(r + 1), String(i + 1), lines[i], fmt(scores[i])]) };
}

// ---------------------------------------------------------------------------------------------
// Report of continuous data (train and score)
// ---------------------------------------------------------------------------------------------

interface ContinuousReportArgs {
  title: string;
  subtitle: string;
  input: ContinuousInput;
  segments: Segment[];
  ws: Windowed;
  sc: WindowScores;
  pts: Float64Array[];
  normalizer?: Normalizer;
  threshold?: number;
  labels?: Uint8Array;
  latent: number;
  history?: History;
  summary: Array<[string, string]>;
  main: 'loss' | 'scores';
  detected?: Array<Array<[number, number]>>;
}

function continuousReport(a: ContinuousReportArgs): ReportInput {
  const D = a.input.features;
  const T = a.ws.length;
  const W = a.ws.x.shape[0];
  const raw = (v: Float32Array) => (a.normalizer ? a.normalizer.inverse(v) : v);
  // Per-segment labels
  const segLabels: Uint8Array[] = [];
  if (a.labels) {
    let o = 0;
    for (const s of a.segments) {
      segLabels.push(a.labels.subarray(o, o + s.n));
      o += s.n;
    }
  }
  const whole = a.ws.stride === a.ws.length && a.segments.every((s) => s.n === T) && a.segments.length > 1;
  const series: ScoreSeries[] = [];
  if (whole) {
    // one score per sequence
    const seqLabels = a.labels ? Uint8Array.from(segLabels, (l) => (l.some((v) => v) ? 1 : 0)) : undefined;
    series.push({ name: 'sequences', scores: a.sc.window, labels: seqLabels ? labelRuns(seqLabels) : undefined });
  } else {
    const shown = Math.min(a.segments.length, 8);
    for (let i = 0; i < shown; i++) {
      const s = a.segments[i];
      const rawData = a.input.segments[i].data;
      const values = s.n <= 200000
        ? { columns: a.input.columns, data: a.input.columns.map((_, k) => Float64Array.from({ length: s.n }, (_, p) => rawData[p * D + k])) }
        : undefined;
      series.push({
        name: a.segments.length > 1 ? s.name : basename(a.input.file),
        scores: a.pts[i],
        threshold: a.threshold,
        labels: a.labels ? labelRuns(segLabels[i]) : undefined,
        detected: a.detected?.[i],
        values,
      });
    }
  }
  // Reconstructions: the highest-scoring windows and a typical one.
  const order = Array.from({ length: W }, (_, i) => i).sort((x, y) => a.sc.window[y] - a.sc.window[x]);
  const picks = [...new Set([order[0], order[1], order[Math.floor(W / 2)], order[W - 1]].filter((i) => i !== undefined))].slice(0, 4);
  const reconstructions: ReconstructionPanel[] = a.sc.recon
    ? picks.map((k, r) => {
        const seg = a.ws.segment[k];
        const st = a.ws.start[k];
        const label = r < 2 && k === order[r] ? `#${r + 1} highest score` : k === order[W - 1] ? 'lowest score' : 'median score';
        return {
          title: `${label} ${fmt(a.sc.window[k], 3)}: ${a.segments.length > 1 ? a.segments[seg].name + ', ' : ''}points ${st}–${st + T - 1}`,
          columns: a.input.columns,
          input: raw(a.ws.x.data.subarray(k * T * D, (k + 1) * T * D)),
          output: raw(a.sc.recon!.subarray(k * T * D, (k + 1) * T * D)),
          steps: T,
        };
      })
    : [];
  // Latent: colour by label overlap when labels are known, else by score.
  let latent: ReportInput['latent'];
  if (a.sc.mu) {
    if (a.labels) {
      const groups = new Uint8Array(W);
      for (let k = 0; k < W; k++) {
        const l = segLabels[a.ws.segment[k]];
        for (let t = 0; t < T && !groups[k]; t++) if (l[a.ws.start[k] + t]) groups[k] = 1;
      }
      latent = { mu: a.sc.mu, latent: a.latent, groups, groupNames: ['normal window', 'window with a labelled anomaly'] };
    } else latent = { mu: a.sc.mu, latent: a.latent, values: a.sc.window, valueLabel: 'window score' };
  }
  return {
    title: a.title,
    subtitle: a.subtitle,
    summary: a.summary,
    history: a.history?.epochs,
    series,
    reconstructions,
    latent,
    main: a.main,
  };
}

// ---------------------------------------------------------------------------------------------
// score / eval / reconstruct: continuous data through a loaded model
// ---------------------------------------------------------------------------------------------

export interface DataOptions {
  columns?: string[];
  timestamp?: string;
  window?: number;
  stride?: number;
  reduce?: Reduce;
}

interface Scored {
  input: ContinuousInput;
  segments: Segment[];
  ws: Windowed;
  sc: WindowScores;
  pts: Float64Array[];
  reduce: Reduce;
}

function prepareContinuous(lm: LoadedModel, dataFile: string, o: DataOptions, extra: { exclude?: string[] } = {}): { input: ContinuousInput; segments: Segment[]; ws: Windowed } {
  const meta = lm.meta;
  const csv = inputKind(dataFile) === 'csv';
  const columns = o.columns ?? (csv && meta?.input.kind === 'csv' ? meta.input.columns : undefined);
  const timestamp = o.timestamp ?? (csv && meta?.input.timestamp ? meta.input.timestamp : undefined);
  const input = readInput(dataFile, { columns, timestamp, exclude: extra.exclude });
  if (input.kind === 'text') throw new UsageError(`${lm.file} is a continuous model but ${dataFile} is text (token) data`);
  const D = lm.model.config.features;
  if (input.features !== D) {
    throw new DataError(`${dataFile} has ${input.features} value column${input.features === 1 ? '' : 's'} (${input.columns.join(', ')}) but the model takes ${D}${columns ? '' : '; choose them with --columns'}`);
  }
  const segments = normalizeSegments(input.segments, lm.normalizer);
  let length: number;
  let stride: number;
  let whole = false;
  if (o.window !== undefined) {
    length = o.window;
    stride = o.stride ?? Math.max(1, Math.min(10, o.window));
  } else if (meta?.window) {
    ({ length, stride, whole } = meta.window);
    if (o.stride !== undefined) stride = o.stride;
    if (whole && input.kind === 'csv') {
      whole = false;
      stride = o.stride ?? Math.max(1, Math.floor(length / 4));
    }
  } else {
    if (input.kind === 'csv') throw new UsageError(`${lm.file} has no saved window length (it was not trained by lstm-vae train): pass --window`);
    const plan = planWindows(input, undefined, undefined);
    ({ length, stride, whole } = plan);
  }
  return { input, segments, ws: makeWindows(segments, D, length, stride, whole) };
}

function scoreContinuous(lm: LoadedModel, dataFile: string, o: DataOptions, want: { recon?: boolean; mu?: boolean }, extra: { exclude?: string[] } = {}): Scored {
  const { input, segments, ws } = prepareContinuous(lm, dataFile, o, extra);
  const reduce = o.reduce ?? lm.meta?.scoring.reduce ?? 'q10';
  const sc = scoreWindows(lm.model, ws.x, want);
  const pts = pointScores(ws, sc, segments, reduce);
  return { input, segments, ws, sc, pts, reduce };
}

function detectIntervals(pts: Float64Array[], k: number | 'auto' = 4): Array<Array<[number, number]>> {
  return pts.map((p) => (p.length >= 3 ? findAnomalies(p, { k }) : []));
}

export interface ScoreOptions extends DataOptions {
  out?: string;
  threshold?: number;
  windows?: boolean;
  labels?: string;
  report?: string | boolean;
  quiet?: boolean;
}

export async function score(modelFile: string, dataFile: string, o: ScoreOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  const threshold = o.threshold ?? (o.windows ? lm.meta?.scoring.windowThreshold : lm.meta?.scoring.threshold);
  const toStdout = o.out === undefined || o.out === '-';
  const say = (s: string) => (toStdout ? process.stderr : process.stdout).write(s + '\n');
  if (modelMode(lm.model) === 'tokens') {
    const input = readInput(dataFile);
    if (input.kind !== 'text') throw new UsageError(`${modelFile} is a token model; score a .txt file (one sequence per line) or a JSON array of strings`);
    if (o.windows) throw new UsageError('--windows applies to continuous models only');
    const scores = scoreTokens(lm.model, input.lines);
    let csv = csvLine(['line', 'sequence', 'score', ...(threshold !== undefined ? ['anomaly'] : [])]);
    let flagged = 0;
    input.lines.forEach((l, i) => {
      const a = threshold !== undefined && scores[i] > threshold ? 1 : 0;
      flagged += a;
      csv += csvLine([i + 1, l, scores[i], ...(threshold !== undefined ? [a] : [])]);
    });
    await writeOutput(o.out, csv);
    if (!o.quiet) say(`scored ${input.lines.length} sequences${threshold !== undefined ? `; ${flagged} above the threshold ${fmt(threshold)}` : ''}${toStdout ? '' : ` → ${o.out}`}`);
    await writeReport(
      reportPaths(o.out, o.report),
      {
        title: `lstm-vae score: ${basename(dataFile)}`,
        subtitle: `model ${modelFile}`,
        summary: [
          ['data', `${dataFile}: ${input.lines.length} sequences`],
          ['threshold', threshold !== undefined ? fmt(threshold) : 'none'],
          ['above threshold', String(flagged)],
        ],
        series: [{ name: 'sequences', scores, threshold }],
        tables: [topTable(input.lines, scores, 25)],
        main: 'scores',
      },
      o.quiet,
    );
    return;
  }
  const report = reportPaths(o.out, o.report);
  const s = scoreContinuous(lm, dataFile, o, { recon: !!report, mu: !!report }, labelsExclusion(o.labels, lm));
  const labels = o.labels ? readLabelsFor(o.labels, s.input) : undefined;
  const multi = s.segments.length > 1;
  let csv = '';
  let flagged = 0;
  let rows = 0;
  if (o.windows) {
    const ts = s.input.timestampColumn;
    csv = csvLine([...(multi ? ['sequence'] : []), 'window', 'start', 'end', ...(ts ? [`${ts}_start`, `${ts}_end`] : []), 'score', ...(threshold !== undefined ? ['anomaly'] : [])]);
    const T = s.ws.length;
    for (let k = 0; k < s.ws.x.shape[0]; k++) {
      const seg = s.ws.segment[k];
      const st = s.ws.start[k];
      const times = s.input.segments[seg].timestamps;
      const a = threshold !== undefined && s.sc.window[k] > threshold ? 1 : 0;
      flagged += a;
      rows++;
      csv += csvLine([...(multi ? [seg] : []), k, st, st + T - 1, ...(ts && times ? [times[st], times[st + T - 1]] : []), s.sc.window[k], ...(threshold !== undefined ? [a] : [])]);
    }
  } else {
    const ts = s.input.timestampColumn;
    csv = csvLine([...(multi ? ['sequence', 'step'] : ts ? [ts] : ['index']), 'score', ...(threshold !== undefined ? ['anomaly'] : [])]);
    s.segments.forEach((seg, i) => {
      const p = s.pts[i];
      const times = s.input.segments[i].timestamps;
      for (let t = 0; t < seg.n; t++) {
        const a = threshold !== undefined && p[t] > threshold ? 1 : 0;
        flagged += a;
        rows++;
        csv += csvLine([...(multi ? [i, t] : times ? [times[t]] : [t]), p[t], ...(threshold !== undefined ? [a] : [])]);
      }
    });
  }
  await writeOutput(o.out, csv);
  const detected = detectIntervals(s.pts);
  if (!o.quiet) {
    const nDet = detected.reduce((a, d) => a + d.length, 0);
    say(
      `scored ${rows} ${o.windows ? 'windows' : 'points'}${threshold !== undefined ? `; ${flagged} above the threshold ${fmt(threshold)}` : ' (no threshold: pass --threshold)'}; ${nDet} anomalous interval${nDet === 1 ? '' : 's'} detected${toStdout ? '' : ` → ${o.out}`}`,
    );
  }
  if (report) {
    const pointThreshold = o.windows ? lm.meta?.scoring.threshold : threshold;
    await writeReport(
      report,
      continuousReport({
        title: `lstm-vae score: ${basename(dataFile)}`,
        subtitle: `model ${modelFile}`,
        input: s.input,
        segments: s.segments,
        ws: s.ws,
        sc: s.sc,
        pts: s.pts,
        normalizer: lm.normalizer,
        threshold: pointThreshold,
        labels,
        latent: lm.model.config.latent,
        detected,
        summary: [
          ['data', `${dataFile} (${s.input.kind}; ${s.segments.reduce((a, x) => a + x.n, 0)} points, columns ${s.input.columns.join(', ')})`],
          ['windows', `${s.ws.x.shape[0]} windows of ${s.ws.length} points, stride ${s.ws.stride}; point score = ${describeReduce(s.reduce)}`],
          ['threshold', threshold !== undefined ? `${fmt(threshold)}${o.threshold !== undefined ? ' (--threshold)' : ' (saved with the model)'}` : 'none'],
          ['above threshold', `${flagged} ${o.windows ? 'windows' : 'points'}`],
          ['detected intervals', detected.map((d, i) => (multi ? `${s.segments[i].name}: ` : '') + (d.map(([x, y]) => `${x}–${y}`).join(', ') || 'none')).slice(0, 8).join('; ')],
        ],
        main: 'scores',
      }),
      o.quiet,
    );
  }
  lm.model.dispose();
}

function labelsExclusion(labels: string | undefined, lm: LoadedModel): { exclude?: string[] } {
  return labels && !(lm.meta?.input.kind === 'csv' && lm.meta.input.columns) ? { exclude: [labels] } : {};
}

// ---------------------------------------------------------------------------------------------
// eval
// ---------------------------------------------------------------------------------------------

export interface EvalOptions extends DataOptions {
  labels: string;
  json?: boolean;
  k?: number | 'auto';
  threshold?: number;
}

export interface EvalResult {
  model: string;
  data: string;
  level: 'point' | 'sequence';
  count: number;
  anomalies: number;
  rocAuc: number;
  averagePrecision: number;
  bestF1: { f1: number; threshold: number; precision: number; recall: number };
  atThreshold?: { threshold: number; precision: number; recall: number; f1: number };
  segments?: SegmentScores & { detected: number; labelled: number };
}

function thresholdScores(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): { threshold: number; precision: number; recall: number; f1: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i] > threshold;
    if (p && labels[i]) tp++;
    else if (p) fp++;
    else if (labels[i]) fn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return { threshold, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
}

export async function evaluate(modelFile: string, dataFile: string, o: EvalOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  let scores: ArrayLike<number>;
  let labels: Uint8Array;
  let level: 'point' | 'sequence' = 'point';
  let segments: EvalResult['segments'];
  const threshold = o.threshold ?? lm.meta?.scoring.threshold;
  if (modelMode(lm.model) === 'tokens') {
    const input = readInput(dataFile);
    if (input.kind !== 'text') throw new UsageError(`${modelFile} is a token model; evaluate it on a .txt file`);
    scores = scoreTokens(lm.model, input.lines);
    labels = readLabels(o.labels, input, input.lines.length);
    level = 'sequence';
  } else {
    const s = scoreContinuous(lm, dataFile, o, {}, labelsExclusion(o.labels, lm));
    const total = s.segments.reduce((a, x) => a + x.n, 0);
    const raw = readLabels(o.labels, s.input, s.segments.length > 1 ? [total, s.segments.length] : [total]);
    if (raw.length === s.segments.length && raw.length !== total) {
      level = 'sequence';
      labels = raw;
      scores = Float64Array.from(s.pts, (p) => p.reduce((a, v) => Math.max(a, v), -Infinity));
    } else {
      labels = raw;
      scores = concat(s.pts);
      const detected = detectIntervals(s.pts, o.k ?? 4);
      let off = 0;
      const counts = s.segments.map((seg, i) => {
        const r = overlappingSegmentF1(detected[i], labelRuns(labels.subarray(off, off + seg.n)));
        off += seg.n;
        return r;
      });
      const sum = sumSegmentCounts(counts);
      off = 0;
      let nl = 0;
      for (const seg of s.segments) {
        nl += labelRuns(labels.subarray(off, off + seg.n)).length;
        off += seg.n;
      }
      segments = { ...sum, detected: detected.reduce((a, d) => a + d.length, 0), labelled: nl };
    }
  }
  const positives = labels.reduce((a, v) => a + v, 0);
  if (positives === 0 || positives === labels.length) {
    throw new DataError(`the labels (${o.labels}) hold a single class (${positives === 0 ? 'no anomaly' : 'all anomalies'}); evaluation needs both`);
  }
  const bf = bestF1(scores, labels);
  const result: EvalResult = {
    model: modelFile,
    data: dataFile,
    level,
    count: labels.length,
    anomalies: positives,
    rocAuc: rocAuc(scores, labels),
    averagePrecision: averagePrecision(scores, labels),
    bestF1: { f1: bf.f1, threshold: bf.threshold, precision: bf.precision, recall: bf.recall },
  };
  if (threshold !== undefined && level === 'point') result.atThreshold = thresholdScores(scores, labels, threshold);
  if (threshold !== undefined && level === 'sequence' && modelMode(lm.model) === 'tokens') result.atThreshold = thresholdScores(scores, labels, threshold);
  if (segments) result.segments = segments;
  lm.model.dispose();
  if (o.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const f = (v: number) => v.toFixed(4);
  const lines = [
    `${level === 'point' ? 'points' : 'sequences'}: ${result.count} (${result.anomalies} labelled anomalous)`,
    `ROC-AUC              ${f(result.rocAuc)}`,
    `PR-AUC (avg. prec.)  ${f(result.averagePrecision)}`,
    `best F1              ${f(bf.f1)}  (precision ${f(bf.precision)}, recall ${f(bf.recall)} at score >= ${fmt(bf.threshold)})`,
  ];
  if (result.atThreshold) {
    const t = result.atThreshold;
    lines.push(`F1 at threshold      ${f(t.f1)}  (precision ${f(t.precision)}, recall ${f(t.recall)} at score > ${fmt(t.threshold)})`);
  }
  if (segments) {
    lines.push(
      `segment F1           ${f(segments.f1)}  (overlapping segments: ${segments.tp} of ${segments.labelled} labelled found, ${segments.fp} false of ${segments.detected} detected; findAnomalies k=${o.k ?? 4})`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

// ---------------------------------------------------------------------------------------------
// reconstruct
// ---------------------------------------------------------------------------------------------

export interface ReconstructOptions extends DataOptions {
  out?: string;
}

export async function reconstruct(modelFile: string, dataFile: string, o: ReconstructOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  if (modelMode(lm.model) === 'tokens') {
    const input = readInput(dataFile);
    if (input.kind !== 'text') throw new UsageError(`${modelFile} is a token model; reconstruct a .txt file`);
    // Greedy decoding from each sequence's posterior mean.
    const tok = lm.model.tokenizer!;
    const out: string[] = [];
    for (let a = 0; a < input.lines.length; a += 256) {
      const part = input.lines.slice(a, a + 256);
      const enc = tok.encodeBatch(part);
      const { mu } = lm.model.encode(enc);
      const ids = lm.model.generate({ n: part.length, greedy: true, maxLength: enc.shape[1] + 8, z: mu });
      for (const s of ids) out.push(tok.decode(s));
    }
    let csv = csvLine(['line', 'sequence', 'reconstruction']);
    input.lines.forEach((l, i) => (csv += csvLine([i + 1, l, out[i]])));
    await writeOutput(o.out, csv);
    lm.model.dispose();
    return;
  }
  const { input, segments, ws } = prepareContinuous(lm, dataFile, o);
  const sc = scoreWindows(lm.model, ws.x, { recon: true });
  const D = input.features;
  const recon = pointReconstructions(ws, sc.recon!, segments, D).map((r) => (lm.normalizer ? lm.normalizer.inverse(r) : r));
  const asJson = o.out !== undefined && /\.(json|ndjson|jsonl)$/i.test(o.out);
  if (asJson || input.kind !== 'csv') {
    const seqs = recon.map((r, i) =>
      Array.from({ length: segments[i].n }, (_, t) => (D === 1 ? Number(r[t].toPrecision(7)) : Array.from(r.subarray(t * D, (t + 1) * D), (v) => Number(v.toPrecision(7))))),
    );
    const text = o.out && /\.(ndjson|jsonl)$/i.test(o.out) ? seqs.map((s) => JSON.stringify(s)).join('\n') + '\n' : JSON.stringify(seqs) + '\n';
    await writeOutput(o.out, text);
  } else {
    const ts = input.timestampColumn;
    const times = input.segments[0].timestamps;
    let csv = csvLine([ts ?? 'index', ...input.columns, ...input.columns.map((c) => `${c}_reconstructed`), 'squared_error']);
    const x = input.segments[0].data;
    const r = recon[0];
    const xn = segments[0].data;
    const rn = lm.normalizer ? lm.normalizer.transform(r) : r;
    for (let t = 0; t < segments[0].n; t++) {
      let e = 0;
      for (let k = 0; k < D; k++) e += (xn[t * D + k] - rn[t * D + k]) ** 2;
      csv += csvLine([times ? times[t] : t, ...Array.from(x.subarray(t * D, (t + 1) * D)), ...Array.from(r.subarray(t * D, (t + 1) * D)), e]);
    }
    await writeOutput(o.out, csv);
  }
  if (o.out && o.out !== '-') process.stdout.write(`reconstructed ${segments.reduce((a, s) => a + s.n, 0)} points → ${o.out}\n`);
  lm.model.dispose();
}

// ---------------------------------------------------------------------------------------------
// generate / sample
// ---------------------------------------------------------------------------------------------

export interface GenerateOptions {
  n: number;
  temperature: number;
  maxLength?: number;
  out?: string;
  greedy?: boolean;
}

export async function generate(modelFile: string, o: GenerateOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  if (modelMode(lm.model) !== 'tokens') {
    throw new UsageError(`${modelFile} is a continuous model; generate is for token (text) models: use \`lstm-vae sample\``);
  }
  const tok = lm.model.tokenizer;
  if (!tok) throw new FormatError(`${modelFile}: the token model has no tokenizer saved with it`);
  const ids = lm.model.generate({ n: o.n, temperature: o.temperature, maxLength: o.maxLength ?? 32, greedy: o.greedy });
  const text = ids.map((s) => tok.decode(s)).join('\n') + '\n';
  await writeOutput(o.out, text);
  lm.model.dispose();
}

export interface SampleOptions {
  n: number;
  length?: number;
  out?: string;
  temperature: number;
}

export async function sample(modelFile: string, o: SampleOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  if (modelMode(lm.model) === 'tokens') {
    lm.model.dispose();
    return generate(modelFile, { n: o.n, temperature: o.temperature, maxLength: o.length, out: o.out });
  }
  const T = o.length ?? lm.meta?.window?.length;
  if (T === undefined) throw new UsageError(`${modelFile} has no saved window length: pass --length`);
  const D = lm.model.config.features;
  const y = lm.model.sample(o.n, T);
  const raw = lm.normalizer ? lm.normalizer.inverse(y) : y;
  const columns = lm.meta?.input.columns ?? Array.from({ length: D }, (_, k) => `x${k}`);
  if (o.out !== undefined && /\.json$/i.test(o.out)) {
    const seqs = Array.from({ length: o.n }, (_, b) =>
      Array.from({ length: T }, (_, t) => Array.from(raw.subarray((b * T + t) * D, (b * T + t + 1) * D), (v) => Number(v.toPrecision(7)))),
    );
    await writeOutput(o.out, JSON.stringify(seqs) + '\n');
  } else {
    let csv = csvLine(['sample', 'step', ...columns]);
    for (let b = 0; b < o.n; b++) for (let t = 0; t < T; t++) csv += csvLine([b, t, ...Array.from(raw.subarray((b * T + t) * D, (b * T + t + 1) * D))]);
    await writeOutput(o.out, csv);
  }
  lm.model.dispose();
}

// ---------------------------------------------------------------------------------------------
// info
// ---------------------------------------------------------------------------------------------

export async function info(modelFile: string, o: { json?: boolean }): Promise<void> {
  const lm = await loadModel(modelFile);
  const m = lm.model;
  const config = m.toConfigJSON();
  const meta = lm.meta;
  const hist = meta?.training.history ?? [];
  const last = hist[hist.length - 1];
  const bestVal = hist.reduce<number | undefined>((b, h) => (h.valLoss !== undefined && (b === undefined || h.valLoss < b) ? h.valLoss : b), undefined);
  const summary = {
    file: modelFile,
    bytes: lm.bytes,
    config,
    parameters: m.parameterCount,
    tensors: lm.tensors,
    tokenizer: m.tokenizer ? { type: 'char', vocabSize: m.tokenizer.vocabSize, chars: m.tokenizer.chars.join('') } : undefined,
    training: meta
      ? {
          file: meta.training.file,
          trainedAt: meta.training.trainedAt,
          seconds: meta.training.seconds,
          sequences: meta.training.sequences,
          points: meta.training.points,
          options: meta.training.options,
          epochs: hist.length,
          firstLoss: hist[0]?.loss,
          finalLoss: last?.loss,
          finalRecon: last?.recon,
          finalKl: last?.kl,
          finalValLoss: last?.valLoss,
          bestValLoss: bestVal,
        }
      : undefined,
    input: meta?.input,
    window: meta?.window,
    normalizer: meta?.normalizer,
    scoring: meta?.scoring,
    otherMetadata: Object.keys(m.metadata).filter((k) => k !== 'lstmVaeCli'),
  };
  m.dispose();
  if (o.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return;
  }
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`${k.padEnd(14)}${v}`);
  kv('file', `${modelFile} (${(lm.bytes / 1024).toFixed(1)} KiB, ${lm.tensors} tensors)`);
  kv('mode', String(config.mode));
  kv(
    'config',
    Object.entries(config)
      .filter(([k, v]) => k !== 'mode' && v !== undefined)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  );
  kv('parameters', m.parameterCount.toLocaleString('en-US'));
  if (summary.tokenizer) kv('tokenizer', `characters (${summary.tokenizer.vocabSize} ids): ${summary.tokenizer.chars}`);
  if (meta) {
    if (meta.input.kind !== 'text') {
      kv('input', `${meta.input.kind}, columns ${(meta.input.columns ?? []).join(', ')}${meta.input.timestamp ? `, timestamp ${meta.input.timestamp}` : ''}`);
    } else kv('input', 'text, one sequence per line');
    if (meta.window) kv('windows', meta.window.whole ? `whole sequences of ${meta.window.length} steps` : `length ${meta.window.length}, stride ${meta.window.stride}`);
    if (meta.normalizer && meta.normalizer.type === 'minmax') {
      const n = meta.normalizer;
      kv('normalizer', `min-max to [${n.range.join(', ')}]: ` + (meta.input.columns ?? []).map((c, i) => `${c} ${fmt(n.min[i])}..${fmt(n.max[i])}`).join(', '));
    } else if (meta.normalizer && meta.normalizer.type === 'zscore') {
      const n = meta.normalizer;
      kv('normalizer', 'z-score: ' + (meta.input.columns ?? []).map((c, i) => `${c} mean ${fmt(n.mean[i])} std ${fmt(n.std[i])}`).join(', '));
    } else if (meta.input.kind !== 'text') kv('normalizer', 'none');
    kv('threshold', `${fmt(meta.scoring.threshold)} (${meta.scoring.percentile}th percentile of training scores${meta.input.kind !== 'text' ? `; point score = ${describeReduce(meta.scoring.reduce)}` : ''})`);
    const t = meta.training;
    kv('trained', `${t.trainedAt} on ${t.file} (${t.sequences} ${meta.input.kind === 'text' ? 'sequences' : 'windows'}), ${duration(t.seconds)}`);
    kv(
      'training',
      Object.entries(t.options)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    );
    if (hist.length) {
      kv(
        'history',
        `${hist.length} epochs; loss ${fmt(hist[0].loss)} → ${fmt(last.loss)} (recon ${fmt(last.recon)}, KL ${fmt(last.kl)})` +
          (bestVal !== undefined ? `; best validation loss ${fmt(bestVal)}` : ''),
      );
    }
  } else kv('metadata', 'none from lstm-vae train (score and eval need --window; no saved threshold)');
  if (summary.otherMetadata.length) kv('other keys', summary.otherMetadata.join(', '));
  process.stdout.write(lines.join('\n') + '\n');
}

// ---------------------------------------------------------------------------------------------
// bench
// ---------------------------------------------------------------------------------------------

export async function bench(o: { full?: boolean }, rest: string[]): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '..', 'bench', 'run.mjs'), resolve(here, '..', '..', 'bench', 'run.mjs'), join(process.cwd(), 'bench', 'run.mjs')];
  const script = candidates.find((c) => existsSync(c));
  if (!script) throw new IOError('bench/run.mjs not found: the benchmarks ship with the source repository, not with the npm package');
  const args = [...(process.versions.node.startsWith('20.') ? ['--experimental-wasm-relaxed-simd'] : []), script, ...(o.full ? [] : ['--quick']), ...rest];
  const code = await new Promise<number>((res, rej) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('error', rej);
    child.on('exit', (c, sig) => res(c ?? (sig ? 128 + 2 : 1)));
  });
  if (code !== 0) {
    const e = new Error(`the benchmark exited with code ${code}`);
    e.name = 'LstmVaeError';
    (e as Error & { exitCode?: number }).exitCode = code;
    throw e;
  }
}
