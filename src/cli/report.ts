/**
 * The report of continuous data (train and score): score series, reconstructions, latent space.
 */

import { basename } from 'node:path';
import type { Normalizer } from '../data/normalize.js';
import type { ContinuousInput, Segment } from '../data/series.js';
import { labelRuns } from '../detect/intervals.js';
import type { WindowScores } from '../detect/scores.js';
import type { Windowed } from '../detect/windows.js';
import type { ReconstructionPanel, ReportInput, ScoreSeries } from '../report/index.js';
import type { History } from '../train/index.js';
import { fmt } from './progress.js';

export interface ContinuousReportArgs {
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

export function continuousReport(a: ContinuousReportArgs): ReportInput {
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
      const values =
        s.n <= 200000
          ? {
              columns: a.input.columns,
              data: a.input.columns.map((_, k) => Float64Array.from({ length: s.n }, (_, p) => rawData[p * D + k])),
            }
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
