// `npm run eval:nab` (alias `npm run eval:detect`): what `AnomalyDetector.fit(series, { seed })` + `det.score(series)`
// do with their defaults, measured. Nothing here is tuned and nothing is passed but the seed: no recipe, no per-data-set
// option. The defaults were chosen on these same series (the development set) and frozen before this script ran them.
// `--family` also takes any other NAB group under DIR/nab, e.g. `--data` a folder holding a NAB checkout's data/ as
// nab/ and its labels/ as nab/labels: Orion's realAdExchange, realAWSCloudwatch, realTraffic, realTweets are held out
// (no default was chosen on them) and reported beside Orion's published LSTM-VAE F1.
//
//   node scripts/run-ts.mjs scripts/eval-nab.ts [--data DIR] [--family NAME]... [--match SUBSTRING] [--seeds 1,2,3]
//                                               [--csv DIR]... [--quick] [--json FILE] [--md FILE]
//
// `--csv DIR` scores a folder of labelled CSV files (every .csv under DIR with a 0/1 label column such as
// `is_anomaly`; GutenTAG's and TimeEval's layout) as one held-out family: `scripts/heldout-gutentag` generates such a
// folder from scripts/heldout/gutentag.yaml and runs it. A `test.csv` with a `train_no_anomaly.csv` beside it (GutenTAG's
// semi-supervised files; `scripts/heldout-gutentag --train-test`) is fitted on that file and then scored, as
// `lstm-vae train TRAIN` + `lstm-vae score MODEL TEST` do.
//
// Protocol (unsupervised, as Orion's benchmark): each series is fitted whole and the same series scored; a NAB file is
// read as `lstm-vae train` reads it (src/cli/input.ts: float32 values) and put on its time grid when its times are
// irregular (src/cli/grid.ts), so the figures are those of `train` + `score` with no flags. Then
//  - detector: overlapping-segment tp/fp/fn of `intervals` against the labelled windows, point ROC-AUC of `scores`;
//  - baseline, same run: rolling z-score over the previous 100 rows (deterministic, computed once per series), ROC-AUC
//    on the raw z, and intervals from the SAME post-processing the detector's plan used on that series (moving
//    average over smoothing·aggregate rows, threshold mean + plan.k·std of the smoothed z or a row's own z above
//    mean + plan.pointK·std of the raw z, runs gap·aggregate apart merged, padding).
// Families: NAB artificialWithAnomaly, realKnownCause, artificialNoAnomaly (false-alarm intervals; a series the
// detector rejects with a DataError is reported "rejected: …" and counts 0 alarms), the sensor network (each mote its
// own [n, 2] series), synthetic (5 kinds × 3 series, seeds 1000 + 100·kind + i). F1 sums the counts over a family's
// series; ROC-AUC is the mean over the series that hold both classes; both given as mean (min–max) over the seeds.
import { writeFileSync } from 'node:fs';
import { AnomalyDetector, backendInfo, DataError, init, overlappingSegmentF1, rocAuc } from 'lstm-vae';
import { gridOf, toRows } from '../src/cli/grid.js';
import { readInput } from '../src/cli/input.js';
import { smoothScores } from '../src/detect/find-anomalies.js';
import { intervalsAbove, meanPlusStd, pointScore } from '../src/detect/postprocess.js';
import { rollingZScores } from '../src/eval/baselines.js';
import { type SegmentCounts, sumSegmentCounts } from '../src/eval/metrics.js';
import { CLEAN_FAMILIES, CSV_FAMILY, EXTRA_FAMILIES, FAMILIES, familySeries, type Series } from './lib/dev-set.js';

// Orion's published overlapping-segment F1 (benchmark/results/0.7.1.csv of sintel-dev/Orion, counts summed over the files).
const ORION: Record<string, string> = {
  artificialWithAnomaly: 'Orion: LSTM-VAE 0.615 (tp 4, fp 3, fn 2), LSTM-AE 0.545, ARIMA 0.308',
  realKnownCause:
    'Orion: not in its benchmark (its NAB sets are artificialWithAnomaly, realAdExchange, realAWSCloudwatch, realTraffic, realTweets)',
  // held-out groups (not in ../shared/data; read from a NAB checkout with --data): reported, never used to choose
  realAdExchange: 'Orion: LSTM-VAE 0.615 (tp 8, fp 7, fn 3), LSTM-AE 0.720, ARIMA 0.727',
  realAWSCloudwatch: 'Orion: LSTM-VAE 0.700 (tp 21, fp 9, fn 9), LSTM-AE 0.750, ARIMA 0.382',
  realTraffic: 'Orion: LSTM-VAE 0.538 (tp 7, fp 5, fn 7), LSTM-AE 0.533, ARIMA 0.467',
  realTweets: 'Orion: LSTM-VAE 0.542 (tp 16, fp 10, fn 17), LSTM-AE 0.448, ARIMA 0.514',
};
const ORION_F1: Record<string, string> = {
  artificialWithAnomaly: '0.615 (LSTM-VAE)',
  realAdExchange: '0.615 (LSTM-VAE)',
  realAWSCloudwatch: '0.700 (LSTM-VAE)',
  realTraffic: '0.538 (LSTM-VAE)',
  realTweets: '0.542 (LSTM-VAE)',
};
const BASELINE_WINDOW = 100;

interface Counts extends SegmentCounts {
  auc: number | null;
  intervals: Array<[number, number]>;
}
interface Run extends Partial<Counts> {
  family: string;
  series: string;
  seed: number;
  rows: number;
  rejected?: string;
  window?: number;
  aggregate?: number;
  steps?: number;
  stopped?: string;
  seconds?: number;
  notLearnt?: boolean;
  threshold?: number;
  k?: number;
  smoothing?: number;
  gap?: number;
  padding?: number;
  thresholdRule?: string;
}
interface Baseline extends Counts {
  family: string;
  series: string;
}

function args(argv: string[]) {
  const o = {
    data: undefined as string | undefined,
    families: [] as string[],
    match: undefined as string | undefined,
    seeds: [1, 2, 3],
    quick: false,
    json: undefined as string | undefined,
    md: undefined as string | undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--data') o.data = argv[++i];
    else if (a === '--family') o.families.push(argv[++i]);
    else if (a === '--match') o.match = argv[++i];
    else if (a === '--csv') o.families.push(CSV_FAMILY + argv[++i]);
    else if (a === '--seeds') o.seeds = argv[++i].split(',').map(Number);
    else if (a === '--quick') o.quick = true;
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--md') o.md = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log(
        `usage: eval-nab [--data DIR] [--family ${[...FAMILIES, ...EXTRA_FAMILIES].join('|')}|<another NAB group>]... [--csv DIR]... [--match SUBSTRING] [--seeds 1,2,3] [--quick] [--json FILE] [--md FILE]`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  // Besides the development set, any other NAB group under DIR/nab (e.g. Orion's realAdExchange, realTraffic,
  // realAWSCloudwatch, realTweets from a NAB checkout): held out, reported, used to choose nothing.
  for (const f of o.families)
    if (!FAMILIES.includes(f) && !f.startsWith(CSV_FAMILY) && !/^[A-Za-z][\w-]*$/.test(f))
      throw new Error(`unknown family ${f}; families: ${FAMILIES.join(', ')}, or another NAB group under DIR/nab`);
  if (!o.seeds.length || !o.seeds.every((s) => Number.isInteger(s))) throw new Error('--seeds takes whole numbers, like 1,2,3');
  if (o.quick) o.seeds = [1];
  if (o.families.length === 0) o.families = FAMILIES;
  return o;
}

const bothClasses = (labels: Uint8Array) => labels.includes(1) && labels.includes(0);

function counts(intervals: Array<[number, number]>, s: Series, scores: ArrayLike<number>): Counts {
  const { tp, fp, fn } = overlappingSegmentF1(intervals, s.windows);
  return { tp, fp, fn, auc: bothClasses(s.labels) ? rocAuc(scores, s.labels) : null, intervals };
}

/**
 * The rolling z-score baseline with the post-processing of the detector's plan on this series (in rows: aggregate 1):
 * smoothed over the plan's span, mean + plan.k·std, and, when the plan has a point threshold, a row's own z above
 * mean + plan.pointK·std of the raw z (the same `pointScore`).
 */
function baseline(s: Series, plan: AnomalyDetector['plan']): Counts {
  const [, d] = s.input.shape;
  const z = rollingZScores(s.input.data, d, BASELINE_WINDOW);
  const f = plan.aggregate;
  const smoothed = smoothScores(z, 'moving-average', plan.smoothing * f);
  const threshold = meanPlusStd(smoothed, plan.k);
  const point = plan.pointK === undefined ? undefined : meanPlusStd(z, plan.pointK);
  const scored = smoothed.map((v, i) => pointScore(v, z[i], threshold, point !== undefined && point > 0 ? point : undefined));
  return counts(intervalsAbove(scored, threshold, plan.gap * f, plan.padding * f), s, z);
}

async function runSeries(family: string, s: Series, seed: number): Promise<{ run: Run; plan?: AnomalyDetector['plan'] }> {
  const rows = s.input.shape[0];
  const t0 = performance.now();
  // A NAB file goes through what `lstm-vae train` / `score` do with it: the CLI's reader (float32 values, its time
  // column) and its time grid (irregular times averaged onto a regular grid, scores mapped back to the rows).
  const input = s.file ? readInput(s.file, { missing: 'nan', findLabels: true }) : undefined;
  if (input && input.kind === 'text') throw new Error(`${s.file} read as text`);
  // With a training file (a train/test held-out set): fitted on it, read and put on its grid the same way; the
  // scored file then goes on the training's grid interval, as `lstm-vae score` does with the one its model saved.
  const trainInput = s.train ? readInput(s.train, { missing: 'nan', findLabels: true }) : undefined;
  if (trainInput && trainInput.kind === 'text') throw new Error(`${s.train} read as text`);
  const trainGrid = trainInput ? gridOf(trainInput) : undefined;
  const grid = input ? gridOf(input, trainGrid?.interval) : undefined;
  const series = grid ? grid.series : s.input;
  const fitSeries = trainGrid ? trainGrid.series : series;
  let det: AnomalyDetector;
  try {
    det = await AnomalyDetector.fit(fitSeries, { seed, ...(input ? { columns: input.columns } : {}) });
  } catch (e) {
    if (e instanceof DataError)
      return {
        run: { family, series: s.name, seed, rows, rejected: e.message, tp: 0, fp: 0, fn: s.windows.length, auc: null, intervals: [] },
      };
    throw e;
  }
  try {
    const r = input && grid ? toRows(det.score(series), grid, input.segments[0].n, input.features) : det.score(s.input);
    const p = det.plan;
    const c = counts(r.intervals, s, r.scores);
    const run: Run = {
      family,
      series: s.name,
      seed,
      rows,
      window: p.window,
      aggregate: p.aggregate,
      steps: p.training.steps,
      stopped: String(p.training.stopped),
      seconds: (performance.now() - t0) / 1000,
      notLearnt: p.diagnostics.notLearnt,
      threshold: p.threshold,
      k: p.k,
      smoothing: p.smoothing,
      gap: p.gap,
      padding: p.padding,
      thresholdRule: p.thresholdRule,
      ...c,
    };
    return { run, plan: p };
  } finally {
    det.dispose();
  }
}

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const f3 = (v: number) => v.toFixed(3);
/** mean (min–max) of one number per seed; a single value when they agree or there is one seed. */
function spread(per: number[], digits = 3): string {
  if (per.length === 0) return '–';
  const lo = Math.min(...per),
    hi = Math.max(...per);
  return lo === hi ? lo.toFixed(digits) : `${mean(per).toFixed(digits)} (${lo.toFixed(digits)}–${hi.toFixed(digits)})`;
}

interface Summary {
  family: string;
  f1: number[];
  auc: number[];
  alarms: number[];
  base: { f1: number; auc: number | null; alarms: number };
}

function summarize(family: string, runs: Run[], bases: Baseline[], seeds: number[]): Summary {
  const aucOf = (list: Array<{ auc?: number | null }>) => {
    const a = list.map((r) => r.auc).filter((v): v is number => typeof v === 'number');
    return a.length ? mean(a) : null;
  };
  const per = seeds.map((seed) => runs.filter((r) => r.seed === seed));
  return {
    family,
    f1: per.map((rs) => sumSegmentCounts(rs as SegmentCounts[]).f1),
    auc: per.map(aucOf).filter((v): v is number => v !== null),
    alarms: per.map((rs) => rs.reduce((s, r) => s + (r.fp ?? 0), 0)),
    base: { f1: sumSegmentCounts(bases).f1, auc: aucOf(bases), alarms: bases.reduce((s, b) => s + b.fp, 0) },
  };
}

function markdown(header: string, sums: Summary[]): string {
  const lines = [
    `<!-- ${header} -->`,
    '| family | detector F1 (mean, min–max) | baseline F1 | detector ROC-AUC | baseline ROC-AUC | false alarms (noAnomaly) | Orion |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const s of sums) {
    const noAnomaly = CLEAN_FAMILIES.includes(s.family);
    lines.push(
      `| ${s.family} | ${noAnomaly ? '–' : spread(s.f1)} | ${noAnomaly ? '–' : f3(s.base.f1)} | ${spread(s.auc)} | ${s.base.auc === null ? '–' : f3(s.base.auc)} | ` +
        `${noAnomaly ? `${spread(s.alarms, 1)} (baseline ${s.base.alarms})` : '–'} | ${ORION_F1[s.family] ?? '–'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  const o = args(process.argv.slice(2));
  await init();
  const info = backendInfo();
  const heldOut = o.families.filter((f) => !FAMILIES.includes(f) && !EXTRA_FAMILIES.includes(f));
  const header =
    `lstm-vae eval:detect — Node ${process.versions.node}, build ${info.build}, ${info.threads} threads; detector seeds ${o.seeds.join(',')}${o.quick ? ' (quick)' : ''}; ` +
    'AnomalyDetector defaults chosen on the development set; frozen before this run' +
    (heldOut.length ? `; held out (chose nothing): ${heldOut.join(', ')}` : '');
  console.log(header);
  const runs: Run[] = [];
  const bases: Baseline[] = [];
  const sums: Summary[] = [];
  const save = () => {
    if (o.json) writeFileSync(o.json, JSON.stringify({ header, runs, baselines: bases, summaries: sums }, null, 1));
    if (o.md) writeFileSync(o.md, markdown(header, sums));
  };
  const tAll = performance.now();
  for (const family of o.families) {
    const tf = performance.now();
    const list = familySeries(family, o.data, o.quick).filter((s) => !o.match || s.name.includes(o.match));
    if (list.length === 0) continue;
    console.log(`\n${family} (${list.length} series)`);
    const famRuns: Run[] = [];
    const famBases: Baseline[] = [];
    for (const seed of o.seeds) {
      for (const s of list) {
        const { run, plan } = await runSeries(family, s, seed);
        famRuns.push(run);
        runs.push(run);
        let b = famBases.find((x) => x.series === s.name);
        if (!b && plan) {
          b = { family, series: s.name, ...baseline(s, plan) };
          famBases.push(b);
          bases.push(b);
        }
        const bl = b ? `z: tp ${b.tp} fp ${b.fp} fn ${b.fn} auc ${b.auc === null ? '–' : f3(b.auc)}` : 'z: – (no plan)';
        console.log(
          run.rejected
            ? `  seed ${seed} ${s.name.padEnd(56)} rows ${String(run.rows).padStart(6)}  rejected: ${run.rejected}`
            : `  seed ${seed} ${s.name.padEnd(56)} rows ${String(run.rows).padStart(6)}  window ${run.window} agg ${run.aggregate} steps ${run.steps} (${run.stopped}) ` +
                `${run.seconds!.toFixed(1)} s${run.notLearnt ? ' NOT LEARNT' : ''}  tp ${run.tp} fp ${run.fp} fn ${run.fn} auc ${run.auc == null ? '–' : f3(run.auc)}  | ${bl}`,
        );
        save();
      }
    }
    const sum = summarize(family, famRuns, famBases, o.seeds);
    sums.push(sum);
    if (CLEAN_FAMILIES.includes(family)) {
      console.log(`${family}: false-alarm intervals ${spread(sum.alarms, 1)} over ${list.length} series; baseline ${sum.base.alarms}`);
    } else {
      const c = sumSegmentCounts(famRuns.filter((r) => r.seed === o.seeds[0]) as SegmentCounts[]);
      console.log(
        `${family}: detector F1 ${spread(sum.f1)} (seed ${o.seeds[0]}: tp ${c.tp} fp ${c.fp} fn ${c.fn}), ROC-AUC ${spread(sum.auc)}; ` +
          `baseline F1 ${f3(sum.base.f1)}, ROC-AUC ${sum.base.auc === null ? '–' : f3(sum.base.auc)}`,
      );
    }
    const rules = [...new Set(famRuns.map((r) => r.thresholdRule?.replace(/\d+ points?\b/g, 'N points')).filter(Boolean))];
    console.log(`  threshold rule${rules.length > 1 ? 's' : ''}: ${rules.join(' | ') || '–'}`);
    if (ORION[family]) console.log(`  ${ORION[family]}`);
    console.log(`  ${((performance.now() - tf) / 1000).toFixed(1)} s`);
    save();
  }
  console.log(`\ntotal ${((performance.now() - tAll) / 1000).toFixed(1)} s\n`);
  if (!o.md) console.log(markdown(header, sums));
  else console.log(`Markdown table written to ${o.md}`);
}

await main();
