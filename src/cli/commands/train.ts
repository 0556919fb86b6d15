/**
 * `lstm-vae train`: fit a model on continuous or text data, save it with its metadata and a report.
 */

import { basename } from 'node:path';
import { isTimestampName } from '../../data/csv.js';
import type { Input } from '../../data/series.js';
import { diagnose } from '../../detect/diagnostics.js';
import { detectIntervals } from '../../detect/intervals.js';
import { fitNormalizer, normalizeSegments } from '../../detect/scaling.js';
import { pointScores, type Reduce, scoreWindows } from '../../detect/scores.js';
import { concat } from '../../detect/thresholds.js';
import { makeWindows, planWindows } from '../../detect/windows.js';
import { percentileThreshold } from '../../eval/metrics.js';
import { CharTokenizer, LstmVae } from '../../index.node.js';
import { trainDetector } from '../detector.js';
import { UsageError } from '../errors.js';
import { readInput } from '../input.js';
import { readLabelsFor } from '../labels.js';
import { type CliMetadata, trainingMetadata } from '../metadata.js';
import { reportPaths, writeOutput, writeReport } from '../output.js';
import { duration, fmt, note } from '../progress.js';
import { continuousReport } from '../report.js';
import { describeReduce, fitWithProgress, initBackend } from '../shared.js';
import { scoreTokens, topTable } from '../tokens.js';

export interface TrainOptions {
  out: string;
  /**
   * Flags of the window-model pipeline given on the command line (--stride, --epochs, --reduce, …). Without any,
   * a single continuous series trains an `AnomalyDetector` with its defaults.
   */
  windowFlags?: string[];
  maxSteps?: number;
  maxSeconds?: number;
  members?: number;
  latentScore?: boolean;
  tailCorrection?: boolean;
  lrGiven?: boolean;
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

export async function train(dataFile: string, given: TrainOptions): Promise<void> {
  const t0 = Date.now();
  const missing = given.windowFlags?.length ? 'error' : 'nan';
  // A labels column of the training CSV is never a feature: the --labels column, or (without --columns and
  // --labels) a column whose name and 0/1 values say it holds labels, as TimeEval's `is_anomaly`.
  const pre = readInput(dataFile, { columns: given.columns, timestamp: given.timestamp, missing, findLabels: !given.labels });
  const found = pre.kind === 'csv' ? (pre.labelColumns ?? []) : [];
  const texts = pre.kind === 'csv' ? (pre.textColumns ?? []) : [];
  const parts = pre.kind === 'csv' ? (pre.componentColumns ?? []) : [];
  if (parts.length > 0)
    note(
      given.quiet,
      `column${parts.length > 1 ? 's' : ''} ${parts.join(', ')} ${parts.length > 1 ? 'are' : 'is'} named as ${parts.length > 1 ? 'components' : 'a component'} of column ${(pre.kind === 'csv' ? pre.columns : []).find((c) => /^values?$/i.test(c)) ?? 'value'} (as Yahoo S5's A3/A4 files hold the generator's trend, noise and seasonalities): not used as ${parts.length > 1 ? 'features' : 'a feature'}; --columns chooses the features yourself`,
    );
  if (texts.length > 0)
    note(
      given.quiet,
      `column${texts.length > 1 ? 's' : ''} ${texts.join(', ')} ${texts.length > 1 ? 'hold' : 'holds'} text, not numbers: not used as a feature (--columns chooses the features yourself)`,
    );
  if (pre.kind === 'csv' && pre.timestampColumn && given.timestamp === undefined && !isTimestampName(pre.timestampColumn)) {
    note(given.quiet, `column ${pre.timestampColumn} holds the times: used as the time axis, not a feature (--timestamp chooses another)`);
  }
  const o: TrainOptions = found.length > 0 ? { ...given, labels: found[0] } : given;
  if (found.length > 0) {
    note(
      o.quiet,
      `column${found.length > 1 ? 's' : ''} ${found.join(', ')} ${found.length > 1 ? 'hold' : 'holds'} 0/1 labels: not used as a feature (the report shades the rows labelled 1); --columns chooses the features yourself`,
    );
  }
  const input: Input =
    given.labels && pre.kind === 'csv' && !o.columns && pre.header?.includes(given.labels)
      ? readInput(dataFile, { timestamp: o.timestamp, exclude: [given.labels], missing })
      : pre;
  if (input.kind === 'text') return trainTokens(input.lines, dataFile, o, t0);
  if (input.segments.length === 1 && !o.windowFlags?.length) {
    return trainDetector(input, dataFile, { ...o, lr: o.lrGiven ? o.lr : undefined });
  }
  if (
    o.maxSteps !== undefined ||
    o.maxSeconds !== undefined ||
    o.members !== undefined ||
    o.latentScore === false ||
    o.tailCorrection === false
  ) {
    throw new UsageError(
      `--max-steps, --max-seconds, --members, --no-latent-score and --no-tail-correction go with the anomaly detector (one series, no ${o.windowFlags?.length ? o.windowFlags.join(', ') : 'window-model flags'}); the window model trains for --epochs`,
    );
  }
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
  const model = new LstmVae({
    mode: 'continuous',
    features: D,
    hidden,
    latent: o.latent,
    layers: o.layers,
    decoder: o.decoder,
    seed: o.seed,
  });
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
  // did it learn more than each window's level? (on every window: a small data set may have no validation split)
  const dg = diagnose(model, ws.x, 'train longer (--epochs) or try another window (--window)');
  if (dg.notLearnt) process.stderr.write(`warning: ${dg.message}\n`);
  else note(o.quiet, `diagnostics: ${dg.message}`);

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
      ...trainingMetadata(
        dataFile,
        seconds,
        W,
        input.segments.reduce((a, s) => a + s.n, 0),
        o,
        history,
      ),
      diagnostics: { notLearnt: dg.notLearnt, message: dg.message },
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
        [
          'windows',
          plan.whole ? `${W} whole sequences of ${plan.length} steps` : `${W} windows of ${plan.length} points, stride ${plan.stride}`,
        ],
        [
          'model',
          `continuous, hidden ${hidden}, latent ${o.latent}, layers ${o.layers}, decoder ${o.decoder}; ${model.parameterCount} parameters`,
        ],
        [
          'training',
          `${history.epochs.length} epochs, batch ${o.batchSize}, Adam lr ${o.lr}, β ${o.beta ?? 1}, seed ${o.seed}; ${duration(seconds)}`,
        ],
        [
          'final loss',
          `${fmt(last?.loss)} (recon ${fmt(last?.recon)}, KL ${fmt(last?.kl)}${last?.valLoss !== undefined ? `, validation ${fmt(last.valLoss)}` : ''})`,
        ],
        [
          'threshold',
          `${fmt(threshold)} per point (${o.percentile}th percentile of training scores; point score = ${describeReduce(o.reduce)})`,
        ],
        ['diagnostics', `${dg.notLearnt ? 'Warning: ' : ''}${dg.message}`],
      ],
      main: 'loss',
    }),
    o.quiet,
  );
  model.dispose();
}

async function trainTokens(lines: string[], dataFile: string, o: TrainOptions, t0: number): Promise<void> {
  if (o.window !== undefined || o.stride !== undefined)
    throw new UsageError('--window and --stride apply to continuous data, not to text (token) data');
  const tok = CharTokenizer.fit(lines);
  const enc = tok.encodeBatch(lines);
  await initBackend();
  const hidden = o.hidden ?? 64;
  const model = new LstmVae({
    mode: 'tokens',
    vocabSize: tok.vocabSize,
    embedding: o.embedding,
    hidden,
    latent: o.latent,
    layers: o.layers,
    seed: o.seed,
  });
  model.tokenizer = tok;
  note(
    o.quiet,
    `training on ${lines.length} sequences (vocabulary ${tok.vocabSize}, up to ${enc.shape[1]} tokens) from ${dataFile}; ${model.parameterCount} parameters`,
  );
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
    training: trainingMetadata(dataFile, seconds, lines.length, undefined, o, history),
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
        [
          'model',
          `tokens, embedding ${o.embedding}, hidden ${hidden}, latent ${o.latent}, layers ${o.layers}; ${model.parameterCount} parameters`,
        ],
        [
          'training',
          `${history.epochs.length} epochs, batch ${o.batchSize}, Adam lr ${o.lr}, β ${o.beta ?? 1}, seed ${o.seed}; ${duration(seconds)}`,
        ],
        ['final loss', `${fmt(last?.loss)} (recon ${fmt(last?.recon)}, KL ${fmt(last?.kl)})`],
        ['threshold', `${fmt(threshold)} (${o.percentile}th percentile of training scores)`],
      ],
      history: history.epochs,
      latent: { mu, latent: o.latent, values: scores, valueLabel: 'score' },
      lists: [
        {
          title: 'Samples from the prior (temperature 0.8; * = not in the training data)',
          items: samples.map((s) => (s === '' ? '(empty)' : known.has(s) ? s : `${s} *`)),
        },
      ],
      tables: [topTable(lines, scores, 15)],
    },
    o.quiet,
  );
  model.dispose();
}
