/**
 * Live scoring: a detector fed one row at a time. It keeps the last windows in ring buffers (the work per row does
 * not grow with the stream: at most one window reconstructed per row by each model, or per aggregated point) and reports each
 * row's score once every window and smoothing term that the batch score of that row uses has arrived: a fixed delay
 * of `delay` rows. From then on the score of row `index` equals `det.score(series).scores[index]` of the same rows
 * (without missing values: a live stream fills a missing value with the last one, the batch interpolates).
 *
 * Alarms: the stream applies the batch's interval rule (runs above the threshold merged across `gap` points,
 * widened by `padding` points on both sides) as the scores become final. An interval opens on its first score above
 * the threshold; its start (`padding` points earlier) is known then, its end is not. It closes once
 * `max(gap, 2·padding) + 1` scores in a row have stayed below the threshold (no later run can join it any more):
 * its end is then known, `padding` points after its last score above the threshold, and equals the batch
 * interval's. (Only at the end of a batch series is an interval cut short by the series' last row.)
 */

import { ConfigError, DataError, FormatError, ShapeError } from '../core/errors.js';
import { emptyTally, explanationOf, type IntervalExplanation, mergeTally, type ScoreSource, type Tally, tallyRow } from './explain.js';
import type { DetectorPlan } from './plan.js';
import { latentDistance, medianSorted } from './latent.js';
import { withColumns } from './columns.js';
import { pointScore, scoreSource, type WindowModel, withLatent } from './postprocess.js';
import { isSpotState, newSpot, type SpotOptions, type SpotState, spotOptions, spotStep } from './spot.js';

/**
 * Options of `det.stream(state, options)`. `threshold: 'spot'`: an online threshold that follows the scores (SPOT with
 * drift correction, see detect/spot.ts) instead of the saved one; its parameters and state go into `save()`. Alarms then
 * use it too (and no longer equal the batch intervals, which use the saved threshold).
 */
export interface StreamOptions extends SpotOptions {
  threshold?: 'saved' | 'spot';
}

export interface StreamPoint {
  /** The row this score belongs to (`delay` rows before the row just pushed); while warming up, the row pushed. */
  index: number;
  /** Its score, as `det.score` gives it (NaN while warming up). */
  score: number;
  /** Score above the threshold (the saved one, or the online one with `threshold: 'spot'`). */
  anomaly: boolean;
  /** With `threshold: 'spot'`: the threshold this score was compared with (the saved one while calibrating). */
  threshold?: number;
  /** True until `delay` rows have arrived. */
  warmingUp: boolean;
  /** Each feature's share of the row's squared error `[D]` (empty while warming up). */
  contributions: Float32Array;
  /** An alarm that opened or closed with this point (its first row after the padding, or the point after its end). */
  event?: StreamEvent;
}

/**
 * An alarm interval (inclusive rows, as in `det.score(series).intervals`). On `open` only its start is known; on
 * `close` its end too, with the explanation of its rows (which features and rows carry its error).
 */
export type StreamEvent =
  | { type: 'open'; interval: [start: number, end: null] }
  | { type: 'close'; interval: [start: number, end: number]; explanation: IntervalExplanation };

interface Alarm {
  /** First bin (padding included) and last bin above the threshold. */
  start: number;
  last: number;
  /** Tally of the bins surely inside (up to `last + padding`), and of the bins after them (inside only if another run joins). */
  done: Tally;
  pend: Tally;
  /** Its highest score above the threshold so far and the bar that score crossed (absent in states saved before them). */
  peak?: number;
  by?: ScoreSource;
  /** With `by: 'column'`: the column that crossed its bar at the peak. */
  col?: number;
}

interface State {
  v: 1;
  /** Rows pushed. */
  rows: number;
  /** Sums of the rows of the incomplete aggregation bin. */
  partial: number[];
  /** The last value of each feature (fills missing values). */
  last: number[];
  /** Scaled bins, oldest first: the last 2W − 1 (or fewer). */
  bins: number[];
  /** Bins completed. */
  nBins: number;
  /** Running prefix sums of the errors (the last S + 1), and the errors' shares (the last after + 1 bins). */
  prefix: number[];
  /** The errors of the last after + 1 bins (for the point threshold; absent in states saved before it). */
  raw?: number[];
  shares: number[];
  /** Smoothed scores and shares of the last bins emitted from, with the first bin's index. */
  ready: number[];
  readyShares: number[];
  readyFrom: number;
  /** Squared error of each feature of the last `after + 1 + padding` bins (absent in states saved before alarms). */
  sq?: number[];
  /** The open alarm. */
  alarm?: Alarm | null;
  /** The online threshold (`threshold: 'spot'`), and the threshold of each of the `ready` scores. */
  spot?: SpotState;
  readyThreshold?: number[];
  /** With a latent score: its running prefix sums and last point scores, as `prefix` and `raw` for the errors. */
  lprefix?: number[];
  lraw?: number[];
  /** With column bars: each column's running prefix sums of its point errors, `[rows of prefix, D]` flattened. */
  cprefix?: number[];
}

/** What the stream needs of a model: window reconstructions and posterior means. */
type Reconstructor = WindowModel;

const SOURCES: readonly ScoreSource[] = ['error', 'point', 'latent', 'latent-point', 'column'];
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

export class DetectorStream {
  /** Rows between a pushed row and the row whose score it reports. */
  readonly delay: number;
  private readonly w: number;
  private readonly d: number;
  private readonly f: number;
  private readonly before: number;
  private readonly after: number;
  private s: State;
  /** Scores apart at most this many points join one interval (the batch's gap, or two paddings that touch). */
  private readonly join: number;
  private event: StreamEvent | undefined;
  /** Each model's reconstructions (centred) of the last W windows, and their means, by window start modulo W. */
  private readonly rec: Float32Array[];
  private readonly models: readonly Reconstructor[];
  private readonly means: Float64Array;
  /** The latent distance of the last W windows, by window start modulo W (with a latent score). */
  private readonly winLatent: Float64Array;
  /** Buffers kept between rows (no allocation per row but the model's output and the point returned). */
  private readonly win: Float32Array;
  private readonly medianBuf: Float64Array;

  /** `model`: the detector's models (their point errors are averaged, as `det.score` averages them), or one model. */
  constructor(
    model: Reconstructor | readonly Reconstructor[],
    private readonly plan: DetectorPlan,
    state?: Uint8Array,
    options?: StreamOptions,
  ) {
    this.w = plan.window;
    this.d = plan.features;
    this.f = plan.aggregate;
    this.before = Math.floor((plan.smoothing - 1) / 2);
    this.after = plan.smoothing - 1 - this.before;
    this.delay = (this.after + this.w) * this.f - 1;
    this.join = Math.max(plan.gap, 2 * plan.padding);
    this.models = Array.isArray(model) ? model : [model as Reconstructor];
    if (this.models.length !== (plan.members ?? 1))
      throw new ConfigError(`the detector plan has ${plan.members ?? 1} models, the stream was given ${this.models.length}`, {
        argument: 'model',
        expected: plan.members ?? 1,
        actual: this.models.length,
      });
    this.rec = this.models.map(() => new Float32Array(this.w * this.w * this.d));
    this.means = new Float64Array(this.w * this.d);
    this.winLatent = new Float64Array(this.w);
    this.win = new Float32Array(this.w * this.d);
    this.medianBuf = new Float64Array(this.w);
    this.s = state
      ? this.restore(state)
      : {
          v: 1,
          rows: 0,
          partial: new Array(this.d).fill(0),
          last: [],
          bins: [],
          nBins: 0,
          prefix: [0],
          raw: [],
          shares: [],
          ready: [],
          readyShares: [],
          readyFrom: 0,
          sq: [],
          alarm: null,
          ...(plan.latent ? { lprefix: [0], lraw: [] } : {}),
          ...(plan.columnBars ? { cprefix: new Array(this.d).fill(0) } : {}),
        };
    if (options !== undefined) {
      const o = spotOptions(options);
      const want = (options as StreamOptions).threshold ?? 'saved';
      if (want !== 'saved' && want !== 'spot')
        throw new ConfigError('threshold must be saved or spot', {
          argument: 'options.threshold',
          expected: ['saved', 'spot'],
          actual: want,
        });
      if (state && (want === 'spot') !== !!this.s.spot)
        throw new ConfigError(`the state was saved by a stream with the ${this.s.spot ? 'spot' : 'saved'} threshold`, {
          argument: 'options.threshold',
          expected: this.s.spot ? 'spot' : 'saved',
          actual: want,
        });
      if (!state && want === 'spot') this.s.spot = newSpot(o);
    }
  }

  /** Pushes one row of D values (NaN = missing) and returns the score that became final. */
  push(row: ArrayLike<number>): StreamPoint {
    const { d, f } = this;
    if (row == null || typeof row.length !== 'number' || row.length !== d) {
      throw new ShapeError(`a row must have ${d} values`, { argument: 'row', expected: `${d} numbers`, actual: row?.length });
    }
    const s = this.s;
    for (let j = 0; j < d; j++) {
      let v = row[j];
      if (typeof v !== 'number' || v === Infinity || v === -Infinity) {
        throw new DataError(`row ${s.rows}, column ${j}: ${String(v)} is not a number`, {
          argument: `row[${j}]`,
          expected: 'a finite number (NaN for a missing value)',
          actual: String(v),
        });
      }
      if (Number.isNaN(v)) {
        if (s.last.length !== d)
          throw new DataError(`row ${s.rows}, column ${j}: the stream's first value is missing`, {
            argument: `row[${j}]`,
            expected: 'a number',
            actual: 'NaN',
          });
        v = s.last[j];
      }
      s.last[j] = v;
      s.partial[j] += v;
    }
    s.rows++;
    if (s.rows % f === 0) {
      this.completeBin();
      s.partial.fill(0);
    }
    const index = s.rows - 1 - this.delay;
    if (index < 0) return { index: s.rows - 1, score: NaN, anomaly: false, warmingUp: true, contributions: new Float32Array(0) };
    const b = Math.floor(index / f) - s.readyFrom;
    const score = s.ready[b];
    const threshold = s.spot ? (s.readyThreshold?.[b] ?? this.plan.threshold) : this.plan.threshold;
    const p: StreamPoint = {
      index,
      score,
      anomaly: score > threshold,
      warmingUp: false,
      contributions: Float32Array.from(s.readyShares.slice(b * d, b * d + d)),
    };
    if (s.spot) p.threshold = threshold;
    if (this.event) {
      p.event = this.event;
      this.event = undefined;
    }
    return p;
  }

  /** Pushes several rows. */
  pushMany(rows: Iterable<ArrayLike<number>>): StreamPoint[] {
    const out: StreamPoint[] = [];
    for (const r of rows) out.push(this.push(r));
    return out;
  }

  /** The stream's state (a few kilobytes): `det.stream(state)` continues with identical scores. */
  save(): Uint8Array {
    return ENCODER.encode(JSON.stringify(this.s));
  }

  private completeBin(): void {
    const { w, d, f, plan } = this;
    const s = this.s;
    for (let j = 0; j < d; j++) s.bins.push((s.partial[j] / f - plan.center[j]) / plan.scale[j]);
    s.nBins++;
    if (s.bins.length > (2 * w - 1) * d) s.bins.splice(0, d);
    const j = s.nBins - 1; // the newest bin
    if (j < w - 1) return;
    this.reconstructWindow(j - w + 1);
    this.binError(j - w + 1);
  }

  /** Scaled value of bin `b` (one of the kept ones). */
  private bin(b: number, k: number): number {
    const first = this.s.nBins - this.s.bins.length / this.d;
    return this.s.bins[(b - first) * this.d + k];
  }

  /** Reconstructs the window starting at bin `k` into the ring. */
  private reconstructWindow(k: number): void {
    const { w, d } = this;
    const x = this.win; // a buffer kept between rows
    const slot = k % w;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let t = 0; t < w; t++) m += this.bin(k + t, j);
      m /= w;
      this.means[slot * d + j] = m;
      for (let t = 0; t < w; t++) x[t * d + j] = this.bin(k + t, j) - m;
    }
    // the batch's arithmetic (windowLatentDistances): each model's distance, summed in order, divided by their count
    const lat = this.plan.latent;
    let dist = 0;
    this.models.forEach((m, i) => {
      const out = m.reconstructWithMean({ data: x, shape: [1, w, d] });
      this.rec[i].set(out.reconstruction, slot * w * d);
      if (lat) dist += latentDistance(out.mu, 0, lat.models[i], out.mu.length);
    });
    this.winLatent[slot] = dist / this.models.length;
  }

  /** The error of bin `b` (all its windows are in), its running prefix sum, and the score it completes (the smoothed error, or the point's own, `pointScore`). */
  private binError(b: number): void {
    const { w, d, before, after } = this;
    const s = this.s;
    const lo = Math.max(0, b - w + 1);
    const buf = this.medianBuf;
    // the batch's arithmetic (reconstructionErrors in detector.ts), in its order: each model's median
    // reconstruction and error norm, summed over the models, then divided by their count
    const share = new Array<number>(d).fill(0);
    let norms = 0;
    for (const rec of this.rec) {
      let s1 = 0;
      for (let j = 0; j < d; j++) {
        let c = 0;
        for (let k = lo; k <= b; k++) buf[c++] = rec[((k % w) * w + (b - k)) * d + j] + this.means[(k % w) * d + j];
        const q = buf.subarray(0, c).sort();
        const r = c % 2 ? q[(c - 1) >> 1] : 0.5 * (q[c / 2 - 1] + q[c / 2]);
        const e = (this.bin(b, j) - r) ** 2;
        share[j] += e;
        s1 += e;
      }
      norms += Math.sqrt(s1);
    }
    const m = this.rec.length;
    let sum = 0;
    for (let j = 0; j < d; j++) sum += share[j];
    const sq = (s.sq ??= []);
    for (let j = 0; j < d; j++) sq.push(share[j] / m);
    const keep = before + after + 2; // prefix sums kept: those of the oldest smoothing span and the newest
    if (this.plan.columnBars && s.cprefix) {
      // each column's point error (columnPointErrors): the root of its mean squared error, from point w − 1 on
      const cp = s.cprefix;
      const base = cp.length - d;
      for (let j = 0; j < d; j++) cp.push(cp[base + j] + (b >= w - 1 ? Math.sqrt(share[j] / m) : 0));
      if (cp.length > keep * d) cp.splice(0, cp.length - keep * d);
    }
    const keepSq = (after + 1 + this.plan.padding) * d;
    if (sq.length > keepSq) sq.splice(0, sq.length - keepSq);
    for (let j = 0; j < d; j++) share[j] = Math.fround(sum > 0 ? Math.fround(share[j]) / sum : 1 / d);
    const error = norms / m;
    // the errors of bins b − after .. b (a state saved before they were kept gets them from the prefix sums)
    s.raw ??= s.prefix.slice(1).map((v, i) => v - s.prefix[i]);
    s.prefix.push(s.prefix[s.prefix.length - 1] + error);
    s.raw.push(error);
    if (s.raw.length > after + 1) s.raw.splice(0, s.raw.length - after - 1);
    s.shares.push(...share);
    if (s.prefix.length > keep) s.prefix.splice(0, s.prefix.length - keep);
    if (this.plan.latent && s.lprefix && s.lraw) {
      // the point's latent score: the median of the distances of its w windows (pointLatentScores); 0 before w − 1
      let l = 0;
      if (b >= w - 1) {
        for (let k = lo; k <= b; k++) buf[k - lo] = this.winLatent[k % w];
        l = medianSorted(buf);
      }
      s.lprefix.push(s.lprefix[s.lprefix.length - 1] + l);
      s.lraw.push(l);
      if (s.lraw.length > after + 1) s.lraw.splice(0, s.lraw.length - after - 1);
      if (s.lprefix.length > keep) s.lprefix.splice(0, s.lprefix.length - keep);
    }
    if (s.shares.length > (after + 1) * d) s.shares.splice(0, s.shares.length - (after + 1) * d);
    // smoothed score of bin c = b − after: mean of errors max(0, c − before) .. c + after
    const c = b - after;
    if (c < 0) return;
    const lastPrefix = b + 1; // prefix index of errors[0..b]
    const firstKept = lastPrefix - (s.prefix.length - 1);
    const loE = Math.max(0, c - before);
    const smoothed = (s.prefix[lastPrefix - firstKept] - s.prefix[loE - firstKept]) / (b - loE + 1);
    const own = s.raw[s.raw.length - 1 - after];
    let score = pointScore(smoothed, own, this.plan.threshold, this.plan.pointThreshold);
    let lsmoothed = NaN;
    let latent = NaN;
    if (this.plan.latent && c >= w - 1) {
      // smoothLatent: the mean over the points from w − 1 on (the stream never reaches the series' end)
      const lp = s.lprefix ?? [];
      const lo = Math.max(w - 1, loE);
      lsmoothed = (lp[lastPrefix - firstKept] - lp[lo - firstKept]) / (b - lo + 1);
      latent = (s.lraw ?? [])[(s.lraw ?? []).length - 1 - after];
      score = withLatent(score, lsmoothed, latent, this.plan);
    }
    let colRatio = NaN;
    let colArg = -1;
    const cols = this.plan.columnBars;
    if (cols && s.cprefix && c >= w - 1) {
      // smoothColumnErrors and columnRatios: each column's mean over the points from w − 1 on, over its bar
      const cp = s.cprefix;
      const lo = Math.max(w - 1, loE);
      for (let j = 0; j < d; j++) {
        if (!(cols.threshold[j] > 0)) continue;
        const r = (cp[(lastPrefix - firstKept) * d + j] - cp[(lo - firstKept) * d + j]) / (b - lo + 1) / cols.threshold[j];
        if (!Number.isNaN(r) && !(colRatio >= r)) [colRatio, colArg] = [r, j];
      }
      // columnPointErrors: each column's point error at c (its squared error kept in s.sq), over its point bar
      const pb = cols.point;
      const row = sq.length / d - 1 - after;
      if (pb)
        for (let j = 0; j < d; j++) {
          if (!(pb[j] > 0)) continue;
          const r = Math.sqrt(sq[row * d + j]) / pb[j];
          if (!Number.isNaN(r) && !(colRatio >= r)) [colRatio, colArg] = [r, j];
        }
      score = withColumns(score, colRatio, this.plan);
    }
    s.ready.push(Math.fround(score));
    const warm = c >= (this.plan.warmup ?? 0); // the batch's rule: the first points cannot open an alarm
    let above = warm && score > this.plan.threshold;
    if (s.spot) {
      const r = spotStep(s.spot, score);
      const thr = Number.isNaN(r.threshold) ? this.plan.threshold : r.threshold;
      if (!Number.isNaN(r.threshold)) above = warm && r.above;
      (s.readyThreshold ??= []).push(thr);
      if (s.readyThreshold.length > 4) s.readyThreshold.splice(0, s.readyThreshold.length - 4);
    }
    this.alarmStep(c, b, above, score, () => scoreSource(smoothed, own, lsmoothed, latent, this.plan, colRatio), colArg);
    s.readyShares.push(...s.shares.slice(0, d));
    if (s.ready.length > 4) {
      s.ready.splice(0, s.ready.length - 4);
      s.readyShares.splice(0, s.readyShares.length - 4 * d);
    }
    s.readyFrom = c - s.ready.length + 1;
  }

  /** The interval rule at bin `c`, whose score (before rounding to float32, as the batch compares) is `above` the threshold or not; `b` is the newest bin with an error. */
  private alarmStep(c: number, b: number, above: boolean, score: number, source: () => ScoreSource, column: number): void {
    const { d, f, plan } = this;
    const s = this.s;
    const sq = s.sq ?? [];
    const addBin = (t: Tally, k: number) => {
      const pos = sq.length / d - 1 - (b - k);
      if (pos < 0) return; // a state saved before alarms: the bins before it are not known
      for (let r = k * f; r < (k + 1) * f; r++) tallyRow(t, r, sq, pos * d, d);
    };
    const a = s.alarm;
    if (a) {
      if (above) {
        mergeTally(a.done, a.pend);
        a.pend = emptyTally(d);
        addBin(a.done, c);
        a.last = c;
        if (a.peak === undefined || score > a.peak) {
          [a.peak, a.by] = [score, source()];
          a.col = a.by === 'column' ? column : undefined;
        }
      } else {
        addBin(c <= a.last + plan.padding ? a.done : a.pend, c);
        if (c - a.last > this.join) {
          const interval: [number, number] = [a.start * f, (a.last + plan.padding + 1) * f - 1];
          this.event = { type: 'close', interval, explanation: explanationOf(a.done, interval, this.names(), a.by, a.col) };
          s.alarm = null;
        }
      }
    } else if (above) {
      const start = Math.max(0, c - plan.padding);
      const done = emptyTally(d);
      for (let k = start; k <= c; k++) addBin(done, k);
      const by = source();
      s.alarm = { start, last: c, done, pend: emptyTally(d), peak: score, by, ...(by === 'column' ? { col: column } : {}) };
      this.event = { type: 'open', interval: [start * f, null] };
    }
  }

  private names(): string[] {
    return this.plan.columns ?? Array.from({ length: this.d }, (_, j) => `column ${j}`);
  }

  private restore(bytes: Uint8Array): State {
    let st: State;
    try {
      st = JSON.parse(DECODER.decode(bytes)) as State;
    } catch {
      throw new FormatError('the stream state is not readable', {
        argument: 'state',
        expected: 'bytes from stream.save()',
        actual: 'invalid JSON',
      });
    }
    const { d, w } = this;
    const ok =
      st &&
      st.v === 1 &&
      Number.isInteger(st.rows) &&
      st.rows >= 0 &&
      Array.isArray(st.bins) &&
      st.bins.length % d === 0 &&
      st.bins.length <= (2 * w - 1) * d &&
      Array.isArray(st.partial) &&
      st.partial.length === d &&
      Array.isArray(st.prefix) &&
      st.prefix.length >= 1 &&
      Number.isInteger(st.nBins) &&
      Array.isArray(st.ready) &&
      (st.sq === undefined || (Array.isArray(st.sq) && st.sq.length % d === 0)) &&
      (st.raw === undefined || (Array.isArray(st.raw) && st.raw.every((v) => typeof v === 'number'))) &&
      (st.spot === undefined || isSpotState(st.spot)) &&
      (!this.plan.latent ||
        (Array.isArray(st.lprefix) &&
          st.lprefix.length === st.prefix.length &&
          Array.isArray(st.lraw) &&
          st.lraw.every((v) => typeof v === 'number'))) &&
      (!this.plan.columnBars ||
        (Array.isArray(st.cprefix) && st.cprefix.length === st.prefix.length * d && st.cprefix.every((v) => typeof v === 'number'))) &&
      (st.alarm == null ||
        (Number.isInteger(st.alarm.start) &&
          Number.isInteger(st.alarm.last) &&
          [st.alarm.done, st.alarm.pend].every((t) => t && Array.isArray(t.sum) && t.sum.length === d && Array.isArray(t.top)) &&
          (st.alarm.peak === undefined || typeof st.alarm.peak === 'number') &&
          (st.alarm.by === undefined || SOURCES.includes(st.alarm.by)) &&
          (st.alarm.col === undefined || (Number.isInteger(st.alarm.col) && st.alarm.col >= 0 && st.alarm.col < d))));
    if (!ok)
      throw new FormatError('the stream state does not belong to this detector', {
        argument: 'state',
        expected: `a state of a ${d}-feature detector with windows of ${w}`,
        actual: 'other',
      });
    this.s = st;
    // the ring of reconstructions, from the kept bins (the same arithmetic as when they were first made)
    const first = st.nBins - st.bins.length / d;
    for (let k = Math.max(first, st.nBins - 2 * w + 2); k <= st.nBins - w; k++) this.reconstructWindow(k);
    return st;
  }
}
