// What issue 13's choice costs: the detector's score of a row uses windows that end after it (a stated delay of
// `(smoothing/2 + W)·f − 1` rows in a live stream); a causal score would use only what has arrived. Measured on the
// development set with the same fitted model and the same interval rule, seed 1:
//  - delayed (what det.score and det.stream give): each point's reconstruction is the median over the W windows
//    that hold it; errors smoothed by a CENTRED moving average;
//  - causal: each point's reconstruction comes from the one window that ENDS at it (its last step), errors smoothed
//    by a TRAILING moving average; the threshold is mean + k·std of these causal scores on the training series (the
//    same rule as the detector's), the first W − 1 points are not scored.
// Prints per family the overlapping-segment F1 of both and the delay in rows.
//   node scripts/run-ts.mjs scripts/causal-cost.ts [--data DIR] [--seed 1]
import { AnomalyDetector, backendInfo, DataError, init, overlappingSegmentF1 } from 'lstm-vae';
import { aggregate, centredWindows, fillMissing, strideStarts } from '../src/detect/preprocess.js';
import { intervalsAbove, reconstructWindows } from '../src/detect/postprocess.js';
import { sumSegmentCounts } from '../src/eval/metrics.js';
import { FAMILIES, familySeries } from './lib/dev-set.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback?: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const data = opt('--data');
const seed = Number(opt('--seed', '1'));

/** Causal scores `[n]` (NaN for the first w − 1 points) of the detector's model on scaled points `xs` `[n, d]`. */
function causalScores(det: AnomalyDetector, xs: Float64Array, n: number, d: number): Float64Array {
  const w = det.plan.window;
  const starts = strideStarts(n, w, 1);
  const { data: win, means } = centredWindows(xs, d, w, starts);
  const err = new Float64Array(n).fill(Number.NaN);
  for (let a = 0; a < starts.length; a += 1024) {
    const b = Math.min(starts.length, a + 1024);
    const y = reconstructWindows(det.model, win.subarray(a * w * d, b * w * d), b - a, w, d).reconstruction;
    for (let k = a; k < b; k++) {
      const p = k + w - 1; // the window starting at k ends at p
      let s = 0;
      for (let j = 0; j < d; j++) s += (xs[p * d + j] - (y[((k - a) * w + w - 1) * d + j] + means[k * d + j])) ** 2;
      err[p] = Math.sqrt(s);
    }
  }
  // trailing moving average over the plan's smoothing span (over the scored points only)
  const out = new Float64Array(n).fill(Number.NaN);
  const S = det.plan.smoothing;
  let sum = 0;
  let count = 0;
  for (let p = w - 1; p < n; p++) {
    sum += err[p];
    count++;
    if (p - S >= w - 1) {
      sum -= err[p - S];
      count--;
    }
    out[p] = sum / count;
  }
  return out;
}

await init();
console.log(`causal vs delayed scores — Node ${process.versions.node}, build ${backendInfo().build}, seed ${seed}`);
for (const family of FAMILIES) {
  const delayed: Array<{ tp: number; fp: number; fn: number }> = [];
  const causal: Array<{ tp: number; fp: number; fn: number }> = [];
  const delays: number[] = [];
  for (const s of familySeries(family, data, false)) {
    const [n0, d] = s.input.shape;
    let det: AnomalyDetector;
    try {
      det = await AnomalyDetector.fit(s.input, { seed });
    } catch (e) {
      if (e instanceof DataError) continue; // rejected (a constant series): no alarm either way
      throw e;
    }
    const p = det.plan;
    const r = det.score(s.input);
    delayed.push(overlappingSegmentF1(r.intervals, s.windows));
    delays.push(det.stream().delay);
    // the detector's own preprocessing: fill, aggregate, scale
    const x = Float64Array.from(s.input.data as ArrayLike<number>);
    fillMissing(x, n0, d);
    const f = p.aggregate;
    const n = Math.floor(n0 / f);
    const xs = aggregate(x, n0, d, f);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xs[i * d + j] = (xs[i * d + j] - p.center[j]) / p.scale[j];
    const c = causalScores(det, xs, n, d);
    const scored = Array.from(c).filter((v) => !Number.isNaN(v));
    const mean = scored.reduce((a, v) => a + v, 0) / scored.length;
    const sd = Math.sqrt(scored.reduce((a, v) => a + (v - mean) ** 2, 0) / scored.length);
    const filled = Float64Array.from(c, (v) => (Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v));
    const bins = intervalsAbove(filled, mean + p.k * sd, p.gap, p.padding);
    const intervals = bins.map(([a, b]) => [a * f, b === n - 1 ? n0 - 1 : (b + 1) * f - 1] as [number, number]);
    causal.push(overlappingSegmentF1(intervals, s.windows));
    det.dispose();
  }
  const dl = sumSegmentCounts(delayed);
  const cs = sumSegmentCounts(causal);
  const med = [...delays].sort((a, b) => a - b)[Math.floor(delays.length / 2)];
  const line =
    family === 'artificialNoAnomaly'
      ? `${family}: false-alarm intervals delayed ${dl.fp}, causal ${cs.fp}; delay median ${med} rows`
      : `${family}: F1 delayed ${dl.f1.toFixed(3)} (tp ${dl.tp} fp ${dl.fp} fn ${dl.fn}), causal ${cs.f1.toFixed(3)} (tp ${cs.tp} fp ${cs.fp} fn ${cs.fn}); delay median ${med} rows`;
  console.log(line);
}
