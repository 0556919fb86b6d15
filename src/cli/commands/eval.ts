/**
 * `lstm-vae eval`: ROC-AUC, PR-AUC, F1 and segment F1 of a model's scores against labels.
 */

import { DataError } from '../../core/errors.js';
import type { ContinuousInput } from '../../data/series.js';
import { AnomalyDetector } from '../../detect/detector.js';
import { detectIntervals, labelRuns } from '../../detect/intervals.js';
import { concat, thresholdScores } from '../../detect/thresholds.js';
import { averagePrecision, bestF1, overlappingSegmentF1, rocAuc, type SegmentScores, sumSegmentCounts } from '../../eval/metrics.js';
import { type DataOptions, scoreContinuous } from '../continuous.js';
import { readDetectorInput, ruleText, scoreRows } from '../detector.js';
import { UsageError } from '../errors.js';
import { labelColumns } from '../columns.js';
import { readInput } from '../input.js';
import { labelsExclusion, readLabels } from '../labels.js';
import { fmt } from '../progress.js';
import { loadModel, modelMode } from '../shared.js';
import { scoreTokens } from '../tokens.js';

export interface EvalOptions extends DataOptions {
  /** Required but for a detector and a CSV with a column of 0/1 labels (`labelColumns`). */
  labels?: string;
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

/** The CSV column of 0/1 labels that is not one of the detector's features (`labelColumns`), or a UsageError. */
function foundLabels(input: ContinuousInput, dataFile: string): string {
  const found =
    input.text && input.header
      ? labelColumns(input.text, input.header, input.timestampColumn).filter((c) => !input.columns.includes(c))
      : [];
  if (found.length === 0)
    throw new UsageError(
      `${dataFile} has no column of 0/1 labels (named label, is_anomaly, anomaly, outlier, …): pass --labels <column|file>`,
    );
  return found[0];
}

export async function evaluate(modelFile: string, dataFile: string, o: EvalOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  let scores: ArrayLike<number>;
  let labels: Uint8Array;
  let level: 'point' | 'sequence' = 'point';
  let segments: EvalResult['segments'];
  let threshold = o.threshold ?? lm.meta?.scoring.threshold;
  let segmentRule = `findAnomalies k=${o.k ?? 4}`;
  let labelsUsed = o.labels;
  if (lm.model.metadata.detector !== undefined) {
    // A detector: its own scores and intervals (its saved rule, or --threshold), as `score` gives them.
    if (o.k !== undefined)
      throw new UsageError(
        `${modelFile} is an anomaly detector: its intervals come from its saved threshold rule; --k applies to window models`,
      );
    const det = AnomalyDetector.fromModel(lm.model);
    try {
      const input = readDetectorInput(lm.model, modelFile, dataFile, o, labelsExclusion(o.labels, lm));
      const spec = o.labels ?? foundLabels(input, dataFile);
      labelsUsed = spec;
      const r = scoreRows(det, input);
      scores = r.scores;
      labels = readLabels(spec, input, [input.segments[0].n]);
      threshold = o.threshold ?? r.threshold;
      const intervals = o.threshold === undefined ? r.intervals : labelRuns(Uint8Array.from(r.scores, (v) => (v > threshold! ? 1 : 0)));
      const labelled = labelRuns(labels);
      segments = { ...overlappingSegmentF1(intervals, labelled), detected: intervals.length, labelled: labelled.length };
      segmentRule = o.threshold === undefined ? ruleText(det.plan) : 'runs above --threshold';
    } catch (e) {
      det.dispose();
      throw e;
    }
  } else if (o.labels === undefined) {
    throw new UsageError(`--labels is needed to evaluate ${modelFile} (a window or token model): a 0/1 column of the data, or a file`);
  } else if (modelMode(lm.model) === 'tokens') {
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
    throw new DataError(
      `the labels (${labelsUsed}) hold a single class (${positives === 0 ? 'no anomaly' : 'all anomalies'}); evaluation needs both`,
    );
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
  if (threshold !== undefined && level === 'sequence' && modelMode(lm.model) === 'tokens')
    result.atThreshold = thresholdScores(scores, labels, threshold);
  if (segments) result.segments = segments;
  lm.model.dispose();
  if (o.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const f = (v: number) => v.toFixed(4);
  const lines = [
    `${level === 'point' ? 'points' : 'sequences'}: ${result.count} (${result.anomalies} labelled anomalous${o.labels === undefined ? `, labels from column ${labelsUsed}` : ''})`,
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
      `segment F1           ${f(segments.f1)}  (overlapping segments: ${segments.tp} of ${segments.labelled} labelled found, ${segments.fp} false of ${segments.detected} detected; ${segmentRule})`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}
