/**
 * `AnomalyDetector`: the whole recipe a user gets with no options: fill missing values, find the dominant
 * period (aggregating rows when it is longer than the longest window), scale each feature, cut windows
 * centred on their own mean, train three LSTM-VAEs to convergence (seeds apart), score every point by the error of
 * its median reconstruction over the windows that hold it (averaged over the three models), smooth over 1 % of the
 * points, and flag what rises above
 * mean + 3·std of the training series' smoothed scores, or a point whose own error is above mean + 12·std of the
 * point errors (one score: `pointScore`), or whose latent score (the distance of its windows' posterior means from the
 * training windows', detect/latent.ts) crosses its own bars (mean + 4·std smoothed, 12·std point) (`withLatent`), or, in a
 * table of two or more columns, whose column's own smoothed error crosses that column's bar (mean + 6·std,
 * detect/columns.ts); intervals merged across
 * small gaps, widened by half a window. Windows,
 * scaling, model and thresholds are saved together in one safetensors file.
 *
 * Every default here was chosen on the development set named in the README (NAB artificialWithAnomaly,
 * realKnownCause and artificialNoAnomaly, the npm sensor-network set, seeded synthetic series) and then frozen.
 */

import { checkKnownKeys } from '../core/checks.js';
import { ConfigError, DataError, FormatError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { LstmVae } from '../model/index.js';
import type { Diagnostics, History } from '../train/index.js';
import { calibration } from './calibration.js';
import { columnPointErrors, columnRatios, smoothColumnErrors, withColumns } from './columns.js';
import { prepare, type SeriesInput } from './input.js';
import { smoothScores } from './find-anomalies.js';
import { diagnose } from './diagnostics.js';
import { explainRows } from './explain.js';
import { pointLatentScores, smoothLatent, windowLatentDistances } from './latent.js';
import {
  correctTail,
  intervalsAbove,
  pointScore,
  type Progress,
  type Reconstructions,
  reconstructionErrors,
  scoreSource,
  withLatent,
} from './postprocess.js';
import { type DetectorPlan, readPlan } from './plan.js';
import { DetectorStream, type StreamOptions } from './stream.js';
import { aggregate, centredWindows, dominantPeriod, fitScale, longPeriod, strideStarts } from './preprocess.js';
import {
  checkOptions,
  checkSwitches,
  DEFAULTS,
  type DetectorOptions,
  type DetectorScores,
  MAX_WINDOW,
  MEMBER_PREFIX,
  MEMBER_SEED_STEP,
  MIN_WINDOW,
  NO_PERIOD_WINDOW,
  type ScoreOptions,
} from './detector-options.js';

export type { DetectorPlan } from './plan.js';
export type { StreamEvent, StreamOptions, StreamPoint } from './stream.js';
export type { IntervalExplanation } from './explain.js';
export { DetectorStream } from './stream.js';

export type { SeriesInput };
export type { DetectorBatchStats, DetectorEpochStats, DetectorOptions, DetectorScores, ScoreOptions } from './detector-options.js';

export class AnomalyDetector {
  /**
   * The reconstructions `fit` computed of its training series to set the bars, kept for the first `score` call: on
   * that same series with the same weights they are what `score` would compute again (the CLI and the usual
   * `fit(series)` then `score(series)` so score it once, not twice). Dropped at that first call.
   */
  private fitted?: { xs: Float64Array; rec: Reconstructions; weights: number };

  private constructor(
    /** The first trained LSTM-VAE (its `metadata.detector` holds the plan); `models` lists them all. */
    readonly model: LstmVae,
    private current: DetectorPlan,
    /** The first model's training history (on a loaded detector: epochs are not kept). */
    readonly history?: History,
    private readonly others: LstmVae[] = [],
  ) {}

  /** What the detector saves beside its models' weights: windows, scaling, threshold rule and bars. */
  get plan(): DetectorPlan {
    return this.current;
  }

  /** Every model of the detector (`plan.members` of them; the first is `model`); their point errors are averaged. */
  get models(): readonly LstmVae[] {
    return [this.model, ...this.others];
  }

  /** The diagnostics of training: whether the model learnt more than each window's mean. */
  get diagnostics(): Diagnostics {
    return this.plan.diagnostics;
  }

  /** Trains a detector on a series with the package's defaults (see `DetectorOptions` to change them). */
  static async fit(series: SeriesInput, options: DetectorOptions = {}): Promise<AnomalyDetector> {
    checkOptions(options);
    const t0 = performance.now();
    const o = { ...DEFAULTS, ...options };
    const { x: x0, n: n0, d, filled } = prepare(series, undefined, options.columns);
    if (options.columns && options.columns.length !== d) {
      throw new ConfigError(`columns names ${options.columns.length} columns but the series has ${d}`, {
        argument: 'options.columns',
        expected: d,
        actual: options.columns.length,
      });
    }
    if (n0 < 4 * 8)
      throw new DataError(`the series has ${n0} rows; a detector needs at least 32`, {
        argument: 'series',
        expected: '>= 32 rows',
        actual: n0,
      });
    // Period → aggregation → window.
    const per = dominantPeriod(x0, n0, d);
    const f = options.aggregate ?? (per.period !== null && per.period > MAX_WINDOW ? Math.ceil(per.period / MAX_WINDOW) : 1);
    const n = Math.floor(n0 / f);
    let w: number;
    let why: string;
    if (options.window !== undefined) {
      w = Math.max(2, Math.round(options.window / f));
      why = `given (${options.window} rows)`;
    } else if (per.period !== null) {
      const p = Math.round(per.period / f);
      w = Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, p));
      why = `the dominant period, ${per.period} rows (autocorrelation ${per.acf.toFixed(2)})${f > 1 ? `, aggregated ${f} rows per point` : ''}${w !== p ? `, kept within ${MIN_WINDOW}–${MAX_WINDOW} points` : ''}`;
    } else {
      w = NO_PERIOD_WINDOW;
      // A period past the 1,000 rows searched (a day of minute data) is reported, not followed: windows of a whole
      // aggregated day found fewer anomalies on such series than these (docs/training.md).
      const long = longPeriod(x0, n0, d);
      why =
        long.period !== null
          ? `a period of ${long.period} rows (autocorrelation ${long.acf.toFixed(2)}), longer than the 1,000 rows windows follow: the default ${NO_PERIOD_WINDOW} points`
          : `no clear period (best autocorrelation ${per.acf.toFixed(2)} < 0.2): the default ${NO_PERIOD_WINDOW} points`;
    }
    if (options.window === undefined && w > Math.floor(n / 4)) {
      w = Math.max(8, Math.floor(n / 4));
      why += `; shortened to ${w} points, a quarter of the series`;
    }
    if (n < 2 * w)
      throw new DataError(
        `the series has ${n0} rows, too short for windows of ${w * f} rows; give at least ${2 * w * f} rows or a smaller window`,
        { argument: 'series', expected: `>= ${2 * w * f} rows`, actual: n0 },
      );
    const x = aggregate(x0, n0, d, f);
    const { center, scale, constant } = fitScale(x, n, d, w, options.columns);
    const xs = scaleRows(x, n, d, center, scale);

    // Training windows (evenly spaced, at most maxTrainWindows) and a seeded 10 % for validation.
    const starts = strideStarts(n, w, Math.max(1, Math.ceil((n - w + 1) / o.maxTrainWindows)));
    const all = centredWindows(xs, d, w, starts);
    const count = starts.length;
    const order = seededOrder(count, options.seed ?? 1);
    const nVal = Math.max(1, Math.round(count * 0.1));
    const pick = (ids: ArrayLike<number>) => {
      const out = new Float32Array(ids.length * w * d);
      for (let i = 0; i < ids.length; i++) out.set(all.data.subarray(ids[i] * w * d, (ids[i] + 1) * w * d), i * w * d);
      return { data: out, shape: [ids.length, w, d] as [number, number, number] };
    };
    const val = pick(order.subarray(0, nVal));
    const train = pick(count - nVal >= 1 ? order.subarray(nVal) : order);
    const k = o.members;
    const seed = options.seed ?? 1;
    const models: LstmVae[] = [];
    const runs: Array<{ steps: number; stopped: History['stopped'] }> = [];
    let history: History | undefined;
    try {
      for (let j = 0; j < k; j++) {
        const m = new LstmVae({
          mode: 'continuous',
          features: d,
          hidden: o.hidden,
          latent: o.latent,
          layers: 1,
          seed: (seed + MEMBER_SEED_STEP * j) % 2 ** 32,
        });
        models.push(m);
        const { onBatchEnd, onEpochEnd } = options;
        const h = await m.fit(train, {
          batchSize: o.batchSize,
          learningRate: o.learningRate,
          beta: o.beta,
          clipNorm: 5,
          validationData: val,
          maxSteps: o.maxSteps,
          maxSeconds: o.maxSeconds,
          // no averaged weights: the detector's defaults were chosen without them, and with them (0.99) its short
          // budget stopped sooner on the development set (artificialWithAnomaly F1 0.939 -> 0.847, sensor 0.524 ->
          // 0.500; realKnownCause 0.424 -> 0.440; docs/training.md)
          emaDecay: 0,
          // Adam, as the detector's defaults were chosen with (fit's convergent default became AdamW afterwards, chosen
          // on ECG5000 beats; the detector's training stays frozen)
          optimizer: 'adam',
          onBatchEnd: onBatchEnd && ((b) => onBatchEnd({ ...b, member: j, members: k })),
          onEpochEnd: onEpochEnd && ((e) => onEpochEnd({ ...e, member: j, members: k })),
          signal: options.signal,
        });
        history ??= h;
        runs.push({ steps: h.steps ?? 0, stopped: h.stopped });
        if (h.stopped === 'aborted') {
          history.stopped = 'aborted';
          break;
        }
      }
    } catch (e) {
      for (const m of models) m.dispose();
      throw e;
    }
    const model = models[0];
    try {
      if (!history) throw new Error('unreachable: no model trained');
      const diagnostics = diagnose(model, val);
      history.diagnostics = diagnostics;
      const { bars, rec } = calibration(models, xs, n, d, w, o.latentScore, o.tailCorrection, undefined, options.onProgress);
      const padding = Math.round(w / 2);
      const plan: DetectorPlan = {
        version: 1,
        features: d,
        ...(options.columns ? { columns: [...options.columns] } : {}),
        aggregate: f,
        period: per.period,
        periodAcf: per.acf,
        window: w,
        windowReason: why,
        center,
        scale,
        ...(constant.length > 0 ? { constantColumns: constant } : {}),
        smoothing: bars.smoothing,
        threshold: bars.threshold,
        thresholdRule: bars.thresholdRule,
        k: bars.k,
        ...(bars.pointThreshold !== undefined ? { pointThreshold: bars.pointThreshold, pointK: bars.pointK } : {}),
        gap: bars.gap,
        padding,
        warmup: Math.floor(w / 2),
        ...(bars.tail ? { tail: bars.tail } : {}),
        ...(bars.latent ? { latent: bars.latent } : {}),
        ...(bars.columnBars ? { columnBars: bars.columnBars } : {}),
        training: {
          rows: n0,
          windows: count,
          filled,
          steps: runs.reduce((a, r) => a + r.steps, 0),
          stopped: history.stopped,
          seconds: (performance.now() - t0) / 1000,
          ...(models.length > 1 ? { members: runs } : {}),
        },
        diagnostics,
        ...(models.length > 1 ? { members: models.length } : {}),
      };
      model.metadata = { ...model.metadata, detector: plan };
      const det = new AnomalyDetector(model, plan, history, models.slice(1));
      det.fitted = { xs, rec, weights: weightsPrint(models) };
      return det;
    } catch (e) {
      for (const m of models) m.dispose();
      throw e;
    }
  }

  /** Scores every row of a series with the saved windows, scaling, model and threshold. */
  score(series: SeriesInput, options: ScoreOptions = {}): DetectorScores {
    if (options === null || typeof options !== 'object')
      throw new ConfigError('options must be an object', { argument: 'options', expected: 'object', actual: options });
    checkKnownKeys(options, ['onProgress']);
    const p = this.plan;
    const { x: x0, n: n0, d } = prepare(series, p.features, p.columns);
    const f = p.aggregate;
    const n = Math.floor(n0 / f);
    if (n < p.window) {
      throw new DataError(`the series has ${n0} rows, fewer than one window of ${p.window * f} rows`, {
        argument: 'series',
        expected: `>= ${p.window * f} rows`,
        actual: n0,
      });
    }
    const xs = scaleRows(aggregate(x0, n0, d, f), n, d, p.center, p.scale);
    const { error, share, rec, sq: sqBins, mu } = this.reconstructions(xs, n, d, options.onProgress);
    correctTail(error, p.tail);
    const smoothed = smoothScores(error, 'moving-average', p.smoothing);
    let scored = smoothed.map((v, b) => pointScore(v, error[b], p.threshold, p.pointThreshold));
    let lat: Float64Array | undefined;
    let latSmoothed: Float64Array | undefined;
    if (p.latent) {
      const z = p.latent.models[0].mean.length;
      lat = pointLatentScores(windowLatentDistances(mu, p.latent.models, n - p.window + 1, z), n, p.window);
      latSmoothed = smoothLatent(lat, n, p.window, p.smoothing);
      const [l, ls] = [lat, latSmoothed];
      scored = scored.map((v, b) => withLatent(v, ls[b], l[b], p));
    }
    let cols: { ratio: Float64Array; column: Int32Array } | undefined;
    if (p.columnBars) {
      const cb = p.columnBars;
      const points = columnPointErrors(sqBins, n, d, p.window);
      const c = columnRatios(
        smoothColumnErrors(points, n, p.window, p.smoothing),
        cb.threshold,
        n,
        cb.point ? points : undefined,
        cb.point,
      );
      cols = c;
      scored = scored.map((v, b) => withColumns(v, c.ratio[b], p));
    }
    const warmup = p.warmup ?? 0;
    const binIntervals = intervalsAbove(scored, p.threshold, p.gap, p.padding, warmup);
    // each interval's bar: the one its highest score (above the threshold, past the warm-up; the first on a tie) crossed
    const peaks = binIntervals.map(([a, b]) => {
      let peak = -1;
      for (let k = Math.max(a, warmup); k <= b; k++) if (scored[k] > p.threshold && (peak < 0 || scored[k] > scored[peak])) peak = k;
      const by = scoreSource(
        smoothed[peak],
        error[peak],
        latSmoothed ? latSmoothed[peak] : NaN,
        lat ? lat[peak] : NaN,
        p,
        cols ? cols.ratio[peak] : NaN,
      );
      return { by, column: cols && by === 'column' ? cols.column[peak] : -1 };
    });
    const scores = new Float32Array(n0);
    const contributions = new Float32Array(n0 * d);
    const reconstruction = new Float32Array(n0 * d);
    const sq = new Float64Array(n0 * d);
    for (let i = 0; i < n0; i++) {
      const b = Math.min(n - 1, Math.floor(i / f));
      scores[i] = scored[b];
      for (let j = 0; j < d; j++) {
        sq[i * d + j] = sqBins[b * d + j];
        contributions[i * d + j] = share[b * d + j];
        reconstruction[i * d + j] = rec[b * d + j] * p.scale[j] + p.center[j];
      }
    }
    const intervals = binIntervals.map(([a, b]) => [a * f, b === n - 1 ? n0 - 1 : (b + 1) * f - 1] as [number, number]);
    const anomalies = new Uint8Array(n0);
    for (const [a, b] of intervals) anomalies.fill(1, a, b + 1);
    const explanations = intervals.map((iv, k) => {
      const { by, column } = peaks[k];
      const name = (p.columns ?? [])[column] ?? `column ${column}`;
      return { ...explainRows(sq, d, iv, p.columns), by, ...(column >= 0 ? { column: { feature: column, name } } : {}) };
    });
    return {
      scores,
      anomalies,
      threshold: p.threshold,
      intervals,
      contributions,
      reconstruction,
      errors: Float32Array.from(sq),
      explanations,
    };
  }

  /** The reconstructions of a scaled series: those `fit` kept when it is the training series and the weights are the same. */
  private reconstructions(xs: Float64Array, n: number, d: number, onProgress?: Progress): Reconstructions {
    const kept = this.fitted;
    this.fitted = undefined;
    if (kept && sameValues(kept.xs, xs) && kept.weights === weightsPrint(this.models)) {
      const total = this.models.length * (n - this.plan.window + 1);
      onProgress?.(total, total);
      return kept.rec;
    }
    return reconstructionErrors(this.models, xs, n, d, this.plan.window, { onProgress });
  }

  /**
   * Sets the detector's bars again from a series it should find normal, with its models as they are: the threshold
   * (mean + 3·std of the series' smoothed errors), the point error bar and the latent score's statistics and bars,
   * by the rule `fit` uses on its training series. The windows, scaling and weights stay. For a detector whose
   * normal has drifted (recalibrate on recent normal data instead of training again), or whose weights changed after
   * `fit` (trained further elsewhere, e.g. in PyTorch). `latentScore` (default: as the plan has it) adds or drops the
   * latent score. Streams opened before keep the bars they started with. Returns the new plan (also `det.plan`, and
   * saved by `toSafetensors()`), with `calibration.rows` the series' length.
   */
  recalibrate(series: SeriesInput, options: { latentScore?: boolean; tailCorrection?: boolean } = {}): DetectorPlan {
    if (options === null || typeof options !== 'object')
      throw new ConfigError('options must be an object', { argument: 'options', expected: 'object', actual: options });
    checkKnownKeys(options, ['latentScore', 'tailCorrection']);
    checkSwitches(options);
    const p = this.current;
    const { x: x0, n: n0, d } = prepare(series, p.features, p.columns);
    const f = p.aggregate;
    const n = Math.floor(n0 / f);
    const w = p.window;
    if (n < 2 * w)
      throw new DataError(`the series has ${n0} rows; recalibrating takes at least two windows, ${2 * w * f} rows`, {
        argument: 'series',
        expected: `>= ${2 * w * f} rows`,
        actual: n0,
      });
    const xs = scaleRows(aggregate(x0, n0, d, f), n, d, p.center, p.scale);
    const { bars } = calibration(
      this.models,
      xs,
      n,
      d,
      w,
      options.latentScore ?? p.latent !== undefined,
      options.tailCorrection ?? p.tail !== undefined,
      `a recalibration series' (${n0} rows)`,
    );
    const { pointThreshold: _pt, pointK: _pk, latent: _l, tail: _t, columnBars: _c, ...kept } = p;
    const plan: DetectorPlan = { ...kept, ...bars, calibration: { rows: n0 } };
    readPlan(plan);
    this.current = plan;
    this.model.metadata = { ...this.model.metadata, detector: plan };
    return plan;
  }

  /**
   * The detector as one safetensors file: the first model's weights under the model's own names (the file loads as
   * an `LstmVae`), the other models' under `detector.member<j>.<name>`, and the plan in `__metadata__.metadata`.
   */
  toSafetensors(): Uint8Array {
    const extra: Record<string, { shape: number[]; data: Float32Array }> = {};
    this.others.forEach((m, i) => {
      for (const [key, t] of Object.entries(m.stateDict())) extra[`${MEMBER_PREFIX}${i + 1}.${key}`] = t;
    });
    return this.model.toSafetensors(extra);
  }

  /** A detector saved by `toSafetensors()`. */
  static fromSafetensors(bytes: Uint8Array): AnomalyDetector {
    const model = LstmVae.fromSafetensors(bytes);
    try {
      return AnomalyDetector.fromModel(model);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /**
   * The detector of a loaded model file that holds a detector plan (`metadata.detector`); the detector owns the model
   * (and the other models of a detector of several, which the same file holds).
   */
  static fromModel(model: LstmVae): AnomalyDetector {
    const plan = readPlan(model.metadata.detector);
    if (model.config.mode !== 'continuous' || model.config.features !== plan.features) {
      throw new FormatError('the detector plan does not match its model', {
        argument: '__metadata__.metadata.detector.features',
        expected: model.config.features,
        actual: plan.features,
      });
    }
    if (plan.latent && plan.latent.models[0].mean.length !== model.config.latent)
      throw new FormatError("the detector plan's latent statistics do not match its model", {
        argument: '__metadata__.metadata.detector.latent',
        expected: `means of ${model.config.latent} values`,
        actual: plan.latent.models[0].mean.length,
      });
    const k = plan.members ?? 1;
    if (k === 1) return new AnomalyDetector(model, plan);
    const tensors = model.detectorTensors ?? {};
    const others: LstmVae[] = [];
    try {
      for (let j = 1; j < k; j++) {
        const prefix = `${MEMBER_PREFIX}${j}.`;
        const own: Record<string, { shape: number[]; data: Float32Array }> = {};
        for (const [key, t] of Object.entries(tensors)) if (key.startsWith(prefix)) own[key.slice(prefix.length)] = t;
        if (Object.keys(own).length === 0)
          throw new FormatError(`the detector plan names ${k} models but its file holds no tensors of model ${j} (${prefix}*)`, {
            argument: prefix,
            expected: `the tensors of model ${j}`,
            actual: 'none',
          });
        others.push(LstmVae.fromStateDict(model.config, own));
      }
    } catch (e) {
      for (const m of others) m.dispose();
      throw e;
    }
    model.detectorTensors = undefined; // now in the other models' memory
    return new AnomalyDetector(model, plan, undefined, others);
  }

  /**
   * Live scoring, one row at a time (see `DetectorStream`); `state` (from `stream.save()`) continues a stream
   * where it stopped, with identical scores. `options.threshold: 'spot'`: an online threshold that follows the scores
   * (see `StreamOptions`).
   */
  stream(state?: Uint8Array, options?: StreamOptions): DetectorStream {
    return new DetectorStream(this.models, this.plan, state, options);
  }

  /** Frees the model's WebAssembly memory. */
  dispose(): void {
    this.fitted = undefined;
    for (const m of this.others) m.dispose();
    this.model.dispose();
  }
}

/** Whether two arrays hold the same values (NaN never occurs here: the series are filled and scaled). */
function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A hash of every model's weights (FNV-1a over their float32 bits): changes when any weight does. */
function weightsPrint(models: readonly LstmVae[]): number {
  let h = 0x811c9dc5;
  for (const m of models) {
    const w = m.weightsSnapshot();
    const bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193) >>> 0;
  }
  return h;
}

function scaleRows(x: Float64Array, n: number, d: number, center: number[], scale: number[]): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (x[i * d + j] - center[j]) / scale[j];
  return out;
}

/** A seeded permutation of 0..count−1. */
function seededOrder(count: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  new Rng(seed).shuffle(order);
  return order;
}
