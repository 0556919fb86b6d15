/**
 * `lstm-vae score`: anomaly scores of points, windows or text lines, with a report.
 */

import { basename } from 'node:path';
import { detectIntervals } from '../../detect/intervals.js';
import { AnomalyDetector } from '../../detect/detector.js';
import { type DataOptions, scoreContinuous } from '../continuous.js';
import { readDetectorInput, scoreDetector } from '../detector.js';
import { UsageError } from '../errors.js';
import { labelColumns } from '../columns.js';
import { readInput } from '../input.js';
import { labelsExclusion, readLabelsFor } from '../labels.js';
import { csvLine, reportPaths, writeOutput, writeReport } from '../output.js';
import { fmt, note } from '../progress.js';
import { continuousReport } from '../report.js';
import { describeReduce, loadModel, modelMode } from '../shared.js';
import { scoreTokens, topTable } from '../tokens.js';

export interface ScoreOptions extends DataOptions {
  out?: string;
  threshold?: number;
  windows?: boolean;
  labels?: string;
  report?: string | boolean;
  quiet?: boolean;
}

export async function score(modelFile: string, dataFile: string, o: ScoreOptions & { reduce?: string }): Promise<void> {
  const lm = await loadModel(modelFile);
  if (lm.model.metadata.detector !== undefined) {
    const det = AnomalyDetector.fromModel(lm.model);
    try {
      if (o.windows || o.reduce || o.window !== undefined || o.stride !== undefined) {
        throw new UsageError(
          `${modelFile} is an anomaly detector: it scores every row with its saved windows; --windows, --reduce, --window and --stride apply to window models`,
        );
      }
      const input = readDetectorInput(lm.model, modelFile, dataFile, o, labelsExclusion(o.labels, lm));
      // without --labels, a column of 0/1 labels in the file (not one of the detector's features) shades the report
      const found =
        o.labels === undefined && input.kind === 'csv' && input.text && input.header
          ? labelColumns(input.text, input.header, input.timestampColumn).filter((c) => !input.columns.includes(c))
          : [];
      if (found.length > 0) note(o.quiet, `column ${found[0]} holds 0/1 labels: the report shades the rows labelled 1`);
      await scoreDetector(det, modelFile, input, dataFile, found.length > 0 ? { ...o, labels: found[0] } : o);
    } finally {
      det.dispose();
    }
    return;
  }
  const threshold = o.threshold ?? (o.windows ? lm.meta?.scoring.windowThreshold : lm.meta?.scoring.threshold);
  const toStdout = o.out === undefined || o.out === '-';
  const say = (s: string) => (toStdout ? process.stderr : process.stdout).write(s + '\n');
  if (modelMode(lm.model) === 'tokens') {
    const input = readInput(dataFile);
    if (input.kind !== 'text')
      throw new UsageError(`${modelFile} is a token model; score a .txt file (one sequence per line) or a JSON array of strings`);
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
    if (!o.quiet)
      say(
        `scored ${input.lines.length} sequences${threshold !== undefined ? `; ${flagged} above the threshold ${fmt(threshold)}` : ''}${toStdout ? '' : ` → ${o.out}`}`,
      );
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
    csv = csvLine([
      ...(multi ? ['sequence'] : []),
      'window',
      'start',
      'end',
      ...(ts ? [`${ts}_start`, `${ts}_end`] : []),
      'score',
      ...(threshold !== undefined ? ['anomaly'] : []),
    ]);
    const T = s.ws.length;
    for (let k = 0; k < s.ws.x.shape[0]; k++) {
      const seg = s.ws.segment[k];
      const st = s.ws.start[k];
      const times = s.input.segments[seg].timestamps;
      const a = threshold !== undefined && s.sc.window[k] > threshold ? 1 : 0;
      flagged += a;
      rows++;
      csv += csvLine([
        ...(multi ? [seg] : []),
        k,
        st,
        st + T - 1,
        ...(ts && times ? [times[st], times[st + T - 1]] : []),
        s.sc.window[k],
        ...(threshold !== undefined ? [a] : []),
      ]);
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
          [
            'data',
            `${dataFile} (${s.input.kind}; ${s.segments.reduce((a, x) => a + x.n, 0)} points, columns ${s.input.columns.join(', ')})`,
          ],
          [
            'windows',
            `${s.ws.x.shape[0]} windows of ${s.ws.length} points, stride ${s.ws.stride}; point score = ${describeReduce(s.reduce)}`,
          ],
          [
            'threshold',
            threshold !== undefined
              ? `${fmt(threshold)}${o.threshold !== undefined ? ' (--threshold)' : ' (saved with the model)'}`
              : 'none',
          ],
          ['above threshold', `${flagged} ${o.windows ? 'windows' : 'points'}`],
          [
            'detected intervals',
            detected
              .map((d, i) => (multi ? `${s.segments[i].name}: ` : '') + (d.map(([x, y]) => `${x}–${y}`).join(', ') || 'none'))
              .slice(0, 8)
              .join('; '),
          ],
        ],
        main: 'scores',
      }),
      o.quiet,
    );
  }
  lm.model.dispose();
}
