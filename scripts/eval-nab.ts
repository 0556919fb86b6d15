// `npm run eval:nab`: the Orion protocol on NAB (artificialWithAnomaly and realKnownCause), one LSTM-VAE per series.
//
//   node scripts/run-ts.mjs scripts/eval-nab.ts [--data DIR] [--group NAME]... [--seed N] [--verbose]
//                                               [--match SUBSTRING] [--recipe JSON] [--dump DIR]
//
// Per series (fixed seed):
//  1. rows averaged in consecutive groups of round(600 s / median sampling interval) (Orion's NAB pipelines
//     aggregate to 600-s bins: 5-minute series → pairs; 30- and 60-minute series unchanged); min-max scaled to [-1, 1];
//  2. windows of 100 points; the model trains on at most 200 of them (stride ceil((n − 100) / 200): long series are
//     subsampled for training only); every window (stride 1) is then reconstructed through the posterior mean;
//  3. point reconstruction = median of the reconstructions of the windows holding the point (as Orion's
//     `reconstruction_errors`), point score = |x − reconstruction|;
//  4. findAnomalies: centred moving average over 1 % of the points; threshold mean + k·std of the smoothed scores
//     with k chosen by findAnomalies' `k: 'auto'` (Hundman et al. 2018, the criterion of Orion's dynamic threshold);
//     runs ≤ 1 % apart merged; then every interval padded by 50 points on both sides and overlapping ones merged
//     (Orion's `anomaly_padding = 50`); intervals mapped back to row indices;
//  5. overlapping-segment tp / fp / fn against labels/combined_windows.json, summed over the files of a group.
// Printed beside the headline: the same scores with Orion's LSTM-VAE fixed threshold (k = 4), and without padding.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendInfo, init, LstmVae } from 'lstm-vae';
import { listNab, loadNabFile, parseNabTime } from '../src/data/datasets.js';
import { MinMaxNormalizer } from '../src/data/normalize.js';
import { windows } from '../src/data/windows.js';
import { findAnomalies } from '../src/detect/find-anomalies.js';
import { overlappingSegmentF1, sumSegmentCounts, type SegmentCounts } from '../src/eval/metrics.js';

const WINDOW = 100;
const RECIPE = {
  model: { hidden: 32, latent: 8, layers: 1, forgetBias: 3 },
  fit: { epochs: 120, batchSize: 8, learningRate: 5e-3, clipNorm: 5, schedule: { type: 'cosine' as const }, klAnnealing: { type: 'linear' as const, steps: 300 } },
  maxTrainWindows: 200,
  aggregateSeconds: 600,
  padding: 50,
  detect: { smoothing: 'moving-average' as const, k: 'auto' as const },
};
// Orion's published overlapping-segment F1 (benchmark/results/0.7.1.csv of sintel-dev/Orion, counts summed over the files).
const ORION: Record<string, string> = {
  artificialWithAnomaly: 'Orion: LSTM-VAE 0.615 (tp 4, fp 3, fn 2), LSTM-AE 0.545, ARIMA 0.308',
  realKnownCause: 'Orion: not in its benchmark (its NAB sets are artificialWithAnomaly, realAdExchange, realAWSCloudwatch, realTraffic, realTweets)',
};

function args(argv: string[]) {
  const o: { data?: string; groups: string[]; seed: number; verbose: boolean; match?: string; dump?: string } = { groups: [], seed: 1, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--data') o.data = argv[++i];
    else if (a === '--group') o.groups.push(argv[++i]);
    else if (a === '--seed') o.seed = Number(argv[++i]);
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else if (a === '--match') o.match = argv[++i];
    else if (a === '--dump') o.dump = argv[++i];
    else if (a === '--recipe') merge(RECIPE as unknown as Record<string, unknown>, JSON.parse(argv[++i]));
    else if (a === '--help' || a === '-h') {
      console.log('usage: eval-nab [--data DIR] [--group artificialWithAnomaly|realKnownCause]... [--seed N] [--verbose] [--match SUBSTRING] [--recipe JSON (merged into the recipe)] [--dump DIR (point scores as JSON)]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.groups.length === 0) o.groups = ['artificialWithAnomaly', 'realKnownCause'];
  return o;
}

function merge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object') merge(cur as Record<string, unknown>, v as Record<string, unknown>);
    else into[k] = v;
  }
}

/** Pads each interval by `p` points on both sides (clipped to [0, n − 1]) and merges the ones that overlap or touch. */
function padIntervals(intervals: ReadonlyArray<readonly [number, number]>, p: number, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    const lo = Math.max(0, a - p), hi = Math.min(n - 1, b + p);
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function median(a: Float32Array, n: number): number {
  const s = a.subarray(0, n).sort();
  return n % 2 ? s[(n - 1) >> 1] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/** Median of the window reconstructions of every point (windows given by their starts, all of length W). */
function pointMedians(y: Float32Array, starts: number[], W: number, n: number): Float64Array {
  const lists: number[][] = Array.from({ length: n }, () => []);
  starts.forEach((s, k) => {
    for (let t = 0; t < W; t++) lists[s + t].push(y[k * W + t]);
  });
  let most = 1;
  for (const l of lists) most = Math.max(most, l.length);
  const buf = new Float32Array(most);
  const out = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const l = lists[p];
    for (let i = 0; i < l.length; i++) buf[i] = l[i];
    out[p] = median(buf, l.length);
  }
  return out;
}

interface NabResult extends SegmentCounts {
  file: string;
  /** Final training loss (per window) and KL. */
  loss: number;
  kl: number;
  points: number;
  detected: Array<[number, number]>;
  /** The same scores with k = 4 (padded), and with the headline k but no padding. */
  fixedK: SegmentCounts;
  unpadded: SegmentCounts;
  seconds: number;
}

async function evalNabFile(root: string | undefined, rel: string, seed: number, dump?: string): Promise<NabResult> {
  const t0 = performance.now();
  const f = loadNabFile(root, rel);
  // aggregation factor from the median sampling interval
  const times = f.timestamps.map(parseNabTime);
  const gaps = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
  const dt = gaps.length ? gaps[gaps.length >> 1] / 1000 : RECIPE.aggregateSeconds;
  const agg = Math.max(1, Math.round(RECIPE.aggregateSeconds / dt));
  const n = Math.floor(f.values.length / agg);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < agg; j++) s += f.values[i * agg + j];
    v[i] = s / agg;
  }
  const x = new MinMaxNormalizer([-1, 1]).fit(v, 1).transform(v);
  const series = { data: x, shape: [n, 1] as [number, number] };
  const train = windows(series, WINDOW, Math.max(1, Math.ceil((n - WINDOW) / RECIPE.maxTrainWindows)));
  const model = new LstmVae({ mode: 'continuous', features: 1, ...RECIPE.model, seed });
  try {
    const h = await model.fit(train, RECIPE.fit);
    const last = h.epochs[h.epochs.length - 1];
    const all = windows(series, WINDOW, 1);
    const B = all.shape[0];
    const y = new Float32Array(B * WINDOW);
    for (let s = 0; s < B; s += 512) {
      const nb = Math.min(512, B - s);
      y.set(model.reconstruct({ data: all.data.subarray(s * WINDOW, (s + nb) * WINDOW), shape: [nb, WINDOW, 1] }), s * WINDOW);
    }
    const rec = pointMedians(y, all.starts, WINDOW, n);
    const score = new Float64Array(n);
    for (let p = 0; p < n; p++) score[p] = Math.abs(x[p] - rec[p]);
    if (dump) {
      mkdirSync(dump, { recursive: true });
      const windowsAgg = f.windows.map(([a, b]) => [Math.floor(a / agg), Math.floor(b / agg)]);
      writeFileSync(join(dump, rel.replace(/[\/]/g, '_') + '.json'), JSON.stringify({ agg, x: Array.from(x), yhat: Array.from(rec), ps: Array.from(score), windows: windowsAgg }));
    }
    const toRows = (iv: Array<[number, number]>) => iv.map(([a, b]) => [a * agg, Math.min(f.values.length - 1, b * agg + agg - 1)] as [number, number]);
    const counts = (iv: Array<[number, number]>): SegmentCounts => {
      const r = overlappingSegmentF1(iv, f.windows);
      return { tp: r.tp, fp: r.fp, fn: r.fn };
    };
    const found = findAnomalies(score, RECIPE.detect);
    const detected = toRows(padIntervals(found, RECIPE.padding, n));
    const fixedK = counts(toRows(padIntervals(findAnomalies(score, { ...RECIPE.detect, k: 4 }), RECIPE.padding, n)));
    return { file: rel, loss: last.loss, kl: last.kl, points: n, detected, ...counts(detected), fixedK, unpadded: counts(toRows(found)), seconds: (performance.now() - t0) / 1000 };
  } finally {
    model.dispose();
  }
}

async function main() {
  const o = args(process.argv.slice(2));
  await init();
  const info = backendInfo();
  console.log(`lstm-vae eval:nab — Node ${process.versions.node}, build ${info.build}, ${info.threads} threads; seed ${o.seed}`);
  console.log(`recipe: windows of ${WINDOW}, ${JSON.stringify(RECIPE)}`);
  const tAll = performance.now();
  for (const group of o.groups) {
    const tg = performance.now();
    const results: NabResult[] = [];
    for (const rel of listNab(o.data, group).filter((f) => !o.match || f.includes(o.match!))) {
      const r = await evalNabFile(o.data, rel, o.seed, o.dump);
      results.push(r);
      const labelled = loadNabFile(o.data, rel).windows;
      console.log(`  ${rel.padEnd(58)} n=${String(r.points).padStart(5)}  loss ${r.loss.toFixed(2).padStart(6)}  tp ${r.tp} fp ${r.fp} fn ${r.fn}  (k=4: ${r.fixedK.tp}/${r.fixedK.fp}/${r.fixedK.fn})  ${r.seconds.toFixed(1)} s` +
        (o.verbose ? `\n      detected ${JSON.stringify(r.detected)}\n      labelled ${JSON.stringify(labelled)}` : ''));
    }
    const s = sumSegmentCounts(results);
    const k4 = sumSegmentCounts(results.map((r) => r.fixedK));
    const u = sumSegmentCounts(results.map((r) => r.unpadded));
    const fmt = (c: SegmentCounts & { f1: number }) => `F1 ${c.f1.toFixed(3)} (tp ${c.tp}, fp ${c.fp}, fn ${c.fn})`;
    console.log(`${group}: F1 ${s.f1.toFixed(3)} (precision ${s.precision.toFixed(3)}, recall ${s.recall.toFixed(3)}; tp ${s.tp}, fp ${s.fp}, fn ${s.fn})  ${((performance.now() - tg) / 1000).toFixed(1)} s`);
    console.log(`  same scores, fixed k = 4: ${fmt(k4)}; k auto without padding: ${fmt(u)}`);
    console.log(`  ${ORION[group] ?? 'Orion: no published figure'}`);
  }
  console.log(`total ${((performance.now() - tAll) / 1000).toFixed(1)} s`);
}

await main();
