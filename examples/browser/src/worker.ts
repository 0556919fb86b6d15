// The Worker: owns the data, the detector (`AnomalyDetector.fit` with its defaults, `det.score`),
// training, scoring and storage. The page only draws.
// init() here (a Worker of a cross-origin-isolated page) gets the threaded build; the calling
// thread joins the kernel pool and may block, which is fine off the main thread.
import { AnomalyDetector, backendInfo, deleteModel, init, listModels, loadFromIndexedDB, saveToIndexedDB } from 'lstm-vae';
import { isNumericColumn, numericColumn, parseCsv, suggestColumn, suggestLabel, type Table } from './csv.js';
import { regionsFromLabels, sensorNetwork, syntheticSines, type Series } from './datasets.js';
import type {
  BackendSummary,
  CsvSummary,
  DatasetSummary,
  DetectorSummary,
  Event,
  LiveAlarmEvent,
  LiveBatch,
  Reply,
  ReplayResult,
  Request,
  ScoreResult,
  StoredEntry,
  TrainOptions,
  TrainResult,
} from './protocol.js';

const scope = self as unknown as {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  crossOriginIsolated?: boolean;
  onmessage: ((e: MessageEvent) => void) | null;
};

/** The training budget of `AnomalyDetector.fit` when none is given (its documented default), for progress. */
const DEFAULT_MAX_STEPS = 1000;

let ready: Promise<BackendSummary> | undefined;
let table: { fileName: string; table: Table } | undefined;
let series: Series | undefined;
let detector: AnomalyDetector | undefined;
let training: AbortController | undefined;
let replaying: Replay | undefined;

/** A running replay: Stop sets `stop`; a new speed restarts the pacing from the rows pushed so far. */
interface Replay {
  stop: boolean;
  speed: number;
  baseTime: number;
  baseRows: number;
  rows: number;
}

/** What the demo keeps in the model's metadata besides the detector's plan (saved with it). */
interface DemoMeta {
  trainedOn?: string;
}

function emit(e: Event, transfer: Transferable[] = []): void {
  scope.postMessage(e, transfer);
}

function backend(): Promise<BackendSummary> {
  ready ??= init().then(() => {
    const b = backendInfo();
    return { build: b.build, threads: b.threads, features: b.features, reasons: b.reasons, isolated: !!scope.crossOriginIsolated };
  });
  return ready;
}

/** Mean and standard deviation of each feature (missing values skipped), for display only. */
function displayScale(values: ArrayLike<number>, d: number): { mean: number[]; sd: number[] } {
  const mean: number[] = [];
  const sd: number[] = [];
  for (let j = 0; j < d; j++) {
    let s = 0,
      ss = 0,
      c = 0;
    for (let i = j; i < values.length; i += d) {
      const v = values[i];
      if (Number.isFinite(v)) {
        s += v;
        ss += v * v;
        c++;
      }
    }
    const m = c ? s / c : 0;
    mean.push(m);
    sd.push(Math.sqrt(Math.max(0, c ? ss / c - m * m : 0)) || 1);
  }
  return { mean, sd };
}

function toDisplay(values: ArrayLike<number>, d: number, scale: { mean: number[]; sd: number[] }): Float32Array {
  return Float32Array.from(values, (v, i) => (v - scale.mean[i % d]) / scale.sd[i % d]);
}

function summary(s: Series): DatasetSummary {
  const d = s.columns.length;
  return { name: s.name, n: s.n, columns: s.columns, display: toDisplay(s.values, d, displayScale(s.values, d)), regions: s.regions };
}

function describe(det: AnomalyDetector): DetectorSummary {
  const c = det.model.config;
  const p = det.plan;
  return {
    description: `detector: ${det.models.length > 1 ? `${det.models.length} models (point errors averaged), each ` : ''}features ${c.features}, hidden ${c.hidden}, latent ${c.latent}, window ${p.window * p.aggregate} rows${p.aggregate > 1 ? ` (${p.aggregate} rows per point)` : ''}`,
    parameters: det.models.reduce((a, m) => a + m.parameterCount, 0),
    window: p.window * p.aggregate,
    windowReason: p.windowReason,
    threshold: p.threshold,
    thresholdRule: p.thresholdRule,
    diagnostics: p.diagnostics.message,
    notLearnt: p.diagnostics.notLearnt,
    columns: p.columns ?? [],
    trainedOn: (det.model.metadata as DemoMeta).trainedOn ?? 'unknown',
    steps: p.training.steps,
    stopped: p.training.stopped,
    members: det.models.length,
  };
}

function needData(): Series {
  if (!series) throw new Error('load a data set first');
  return series;
}

function needDetector(): AnomalyDetector {
  if (!detector) throw new Error('train or load a detector first');
  return detector;
}

function notTraining(): void {
  if (training) throw new Error('training is in progress (stop it first)');
}

function notReplaying(): void {
  if (replaying) throw new Error('a live replay is running (stop it first)');
}

function replaceDetector(det: AnomalyDetector | undefined): void {
  if (detector && detector !== det) detector.dispose();
  detector = det;
}

/** `AnomalyDetector.fit` with its defaults on the chosen series; only the seed and (advanced) the budget are passed. */
async function train(o: TrainOptions): Promise<TrainResult> {
  notTraining();
  notReplaying();
  const s = needData();
  await backend();
  replaceDetector(undefined);
  const ctl = new AbortController();
  training = ctl;
  const t0 = performance.now();
  const maxSteps = o.maxSteps ?? DEFAULT_MAX_STEPS;
  let step = 0;
  try {
    const det = await AnomalyDetector.fit(
      { data: s.values, shape: [s.n, s.columns.length] },
      {
        seed: o.seed,
        columns: s.columns,
        ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
        ...(o.maxSeconds !== undefined ? { maxSeconds: o.maxSeconds } : {}),
        signal: ctl.signal,
        onBatchEnd: (b) => {
          step = b.step;
          emit({ type: 'event', event: 'batch', data: { step: b.step, epoch: b.epoch, batch: b.batch, batches: b.batches, loss: b.loss } });
        },
        // after the training: every window of the series reconstructed by each model to set the threshold
        onProgress: (done, total) => emit({ type: 'event', event: 'progress', data: { what: 'setting the threshold:', done, total } }),
        onEpochEnd: (e) =>
          emit({
            type: 'event',
            event: 'epoch',
            data: {
              member: e.member,
              members: e.members,
              epoch: e.epoch,
              step,
              maxSteps,
              loss: e.loss,
              recon: e.recon,
              kl: e.kl,
              valLoss: e.valLoss,
              seconds: e.seconds,
              seqPerSec: e.seqPerSec,
            },
          }),
      },
    );
    det.model.metadata = { ...det.model.metadata, trainedOn: s.name } satisfies DemoMeta;
    replaceDetector(det);
    const ep = det.history?.epochs ?? [];
    return {
      stopped: det.plan.training.stopped,
      epochs: ep.length,
      steps: det.plan.training.steps,
      firstLoss: ep.length ? ep[0].loss : NaN,
      finalLoss: ep.length ? ep[ep.length - 1].loss : NaN,
      seconds: (performance.now() - t0) / 1000,
      detector: describe(det),
    };
  } finally {
    training = undefined;
  }
}

/** `det.score(series)`: scores, threshold and intervals as the detector gives them; the reconstruction in display units. */
function score(): ScoreResult {
  notTraining();
  const det = needDetector();
  const s = needData();
  const d = s.columns.length;
  if (d !== det.plan.features)
    throw new Error(`the detector takes ${det.plan.features} columns but the data set has ${d} (${s.columns.join(', ')})`);
  const t0 = performance.now();
  const r = det.score(
    { data: s.values, shape: [s.n, d] },
    { onProgress: (done, total) => emit({ type: 'event', event: 'progress', data: { what: 'scoring:', done, total } }) },
  );
  const n = r.scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => r.scores[b] - r.scores[a] || a - b);
  return {
    scores: r.scores,
    reconstruction: toDisplay(r.reconstruction, d, displayScale(s.values, d)),
    threshold: r.threshold,
    intervals: r.intervals,
    flagged: r.anomalies.reduce((a, v) => a + v, 0),
    topScore: r.scores[order[0]],
    topIndex: order[0],
    topIndices: order.slice(0, 50),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Rows per second as asked for: a positive number, or 0 for as fast as it goes. */
function checkSpeed(speed: number): number {
  if (!Number.isFinite(speed) || speed < 0)
    throw new Error(`speed must be 0 (as fast as it goes) or a positive number of rows per second, not ${speed}`);
  return speed;
}

/** Longest stretch of pushes between two posts (the page gets a batch at least this often while the Worker keeps up). */
const BATCH_MS = 60;
/** Pause between batches when paced (at full speed the Worker only yields, so Stop and speed changes get through). */
const PACE_MS = 30;

const pause = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/**
 * Replays the chosen series row by row through `det.stream()`, posting the points in batches at the pace asked
 * for; at the end (or on Stop) compares the live scores and closed alarms with `det.score` of the rows pushed.
 */
async function replay(speed: number): Promise<ReplayResult> {
  notTraining();
  notReplaying();
  const det = needDetector();
  const s = needData();
  const d = s.columns.length;
  if (d !== det.plan.features)
    throw new Error(`the detector takes ${det.plan.features} columns but the data set has ${d} (${s.columns.join(', ')})`);
  // (no await from the checks to `replaying = r`: a second replay request is refused)
  const live = det.stream();
  const { n } = s;
  const columns = det.plan.columns?.length === d ? det.plan.columns : s.columns;
  const threshold = det.plan.threshold;
  const r: Replay = { stop: false, speed: checkSpeed(speed), baseTime: performance.now(), baseRows: 0, rows: 0 };
  replaying = r;
  emit({ type: 'event', event: 'liveStart', data: { n, delay: live.delay, threshold, columns, speed: r.speed } });
  const scores = new Float32Array(n).fill(NaN);
  const closed: [number, number][] = [];
  let opened = 0;
  let pushTime = 0;
  const t0 = performance.now();
  const stats = () => {
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, rowsPerSec: seconds > 0 ? r.rows / seconds : 0, pushMs: r.rows ? pushTime / r.rows : 0 };
  };
  try {
    while (r.rows < n && !r.stop) {
      const now = performance.now();
      const due = r.speed > 0 ? Math.min(n, r.baseRows + Math.floor(((now - r.baseTime) / 1000) * r.speed)) : n;
      const until = now + BATCH_MS;
      const first = r.rows;
      let from = -1;
      const sc: number[] = [];
      const an: number[] = [];
      const top: number[] = [];
      const share: number[] = [];
      const events: LiveAlarmEvent[] = [];
      while (r.rows < due && performance.now() < until) {
        const i = r.rows;
        const a = performance.now();
        const p = live.push(s.values.subarray(i * d, i * d + d));
        pushTime += performance.now() - a;
        r.rows++;
        if (p.warmingUp) continue;
        if (from < 0) from = p.index;
        scores[p.index] = p.score;
        sc.push(p.score);
        an.push(p.anomaly ? 1 : 0);
        let best = 0;
        for (let j = 1; j < p.contributions.length; j++) if (p.contributions[j] > p.contributions[best]) best = j;
        top.push(p.contributions.length ? best : -1);
        share.push(p.contributions.length ? p.contributions[best] : NaN);
        const e = p.event;
        if (e?.type === 'open') {
          opened++;
          events.push({ type: 'open', start: e.interval[0], at: p.index });
        } else if (e?.type === 'close') {
          closed.push([e.interval[0], e.interval[1]]);
          events.push({
            type: 'close',
            start: e.interval[0],
            end: e.interval[1],
            at: p.index,
            features: e.explanation.features.slice(0, 3).map((f) => ({ name: f.name, share: f.share })),
            peak: e.explanation.steps[0]?.index ?? e.interval[0],
          });
        }
      }
      if (r.rows > first) {
        const batch: LiveBatch = {
          rows: r.rows,
          from: from < 0 ? r.rows : from,
          scores: Float32Array.from(sc),
          anomaly: Uint8Array.from(an),
          top: Int16Array.from(top),
          topShare: Float32Array.from(share),
          events,
          ...stats(),
        };
        emit({ type: 'event', event: 'live', data: batch }, [
          batch.scores.buffer as ArrayBuffer,
          batch.anomaly.buffer as ArrayBuffer,
          batch.top.buffer as ArrayBuffer,
          batch.topShare.buffer as ArrayBuffer,
        ]);
      }
      // yield, so that Stop and speed changes are handled between batches
      if (r.rows < n && !r.stop) await pause(r.speed > 0 && r.rows >= due ? PACE_MS : 0);
    }
  } finally {
    replaying = undefined;
  }
  const done = stats();
  const out: ReplayResult = {
    rows: r.rows,
    n,
    stopped: r.rows < n,
    delay: live.delay,
    ...done,
    opened,
    closed: closed.length,
    compared: 0,
    maxDiff: NaN,
    closedMatching: 0,
  };
  // det.score of the same rows: every live score must equal its batch score, every closed alarm a batch interval
  const m = r.rows - live.delay;
  if (m <= 0) {
    out.note = `no score yet: the first comes after ${live.delay + 1} rows`;
    return out;
  }
  let batch: ReturnType<AnomalyDetector['score']>;
  try {
    batch = det.score({ data: s.values.subarray(0, r.rows * d), shape: [r.rows, d] });
  } catch (e) {
    out.note = `det.score of the ${r.rows} rows pushed: ${(e as Error).message}`;
    return out;
  }
  let maxDiff = 0;
  for (let i = 0; i < m; i++) {
    const a = scores[i];
    const b = batch.scores[i];
    // a score missing on one side only counts as an infinite difference
    const diff = a === b || (Number.isNaN(a) && Number.isNaN(b)) ? 0 : Math.abs(a - b);
    maxDiff = Math.max(maxDiff, Number.isNaN(diff) ? Infinity : diff);
  }
  out.compared = m;
  out.maxDiff = maxDiff;
  out.closedMatching = closed.filter(([a, b]) => batch.intervals.some(([c, e]) => a === c && b === e)).length;
  return out;
}

/** The models saved in IndexedDB (lstm-vae's own store: database `lstm-vae`, object store `models`). */
async function list(): Promise<StoredEntry[]> {
  return (await listModels()).map((m) => ({
    name: m.name,
    savedAt: m.savedAt,
    bytes: m.bytes,
    description: `features ${m.config.features}, hidden ${m.config.hidden}, latent ${m.config.latent}`,
  }));
}

async function handle(req: Request): Promise<[unknown, Transferable[]?]> {
  switch (req.type) {
    case 'init':
      return [await backend()];
    case 'loadBuiltin': {
      notTraining();
      notReplaying();
      series = req.dataset === 'sine' ? syntheticSines() : await sensorNetwork(req.mote ?? 1);
      const out = summary(series);
      return [out, [out.display.buffer as ArrayBuffer]];
    }
    case 'loadCsv': {
      notTraining();
      notReplaying();
      const text = await req.file.text();
      const t = parseCsv(text);
      if (t.rows.length === 0) throw new Error('the file has a header but no rows');
      table = { fileName: req.file.name, table: t };
      const numeric = t.columns.map((_, j) => isNumericColumn(t.rows, j));
      const label = suggestLabel(t.columns.filter((_, j) => numeric[j]));
      const suggested = t.columns.map((c, j) => numeric[j] && c !== label && suggestColumn(t.rows, t.columns, j));
      const out: CsvSummary = { fileName: req.file.name, rows: t.rows.length, columns: t.columns, numeric, suggested, label };
      return [out];
    }
    case 'selectColumns': {
      notTraining();
      notReplaying();
      if (!table) throw new Error('open a CSV file first');
      const { columns, rows } = table.table;
      if (req.columns.length === 0) throw new Error('choose at least one column');
      const idx = req.columns.map((c) => {
        const j = columns.indexOf(c);
        if (j < 0) throw new Error(`no column named "${c}"`);
        return j;
      });
      const n = rows.length;
      const D = idx.length;
      const values = new Float64Array(n * D);
      idx.forEach((j, f) => {
        const col = numericColumn(rows, j);
        for (let r = 0; r < n; r++) values[r * D + f] = col[r];
      });
      const regions = req.label ? regionsFromLabels(numericColumn(rows, columns.indexOf(req.label))) : [];
      series = { name: `${table.fileName} (${req.columns.join(', ')})`, columns: req.columns, values, n, regions };
      const out = summary(series);
      return [out, [out.display.buffer as ArrayBuffer]];
    }
    case 'train':
      return [await train(req.options)];
    case 'stop':
      training?.abort();
      return [!!training];
    case 'score': {
      const r = score();
      return [r, [r.scores.buffer as ArrayBuffer, r.reconstruction.buffer as ArrayBuffer]];
    }
    case 'replay':
      return [await replay(req.speed)];
    case 'replaySpeed': {
      const r = replaying;
      if (r) {
        r.speed = checkSpeed(req.speed);
        r.baseTime = performance.now();
        r.baseRows = r.rows;
      }
      return [!!r];
    }
    case 'stopReplay': {
      const r = replaying;
      if (r) r.stop = true;
      return [!!r];
    }
    case 'exportModel': {
      // det.toSafetensors(): the model's weights with the detector's plan; a Blob is passed by reference
      const det = needDetector();
      const blob = new Blob([det.toSafetensors() as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
      return [{ blob, fileName: `lstm-vae-detector-${det.plan.features}f-w${det.plan.window * det.plan.aggregate}.safetensors` }];
    }
    case 'importModel': {
      notTraining();
      notReplaying();
      await backend();
      // a FormatError names what is wrong (not a safetensors file, or a model without a detector plan)
      const det = AnomalyDetector.fromSafetensors(new Uint8Array(await req.file.arrayBuffer()));
      replaceDetector(det);
      return [describe(det)];
    }
    case 'save': {
      notTraining();
      const name = req.name.trim();
      if (!name) throw new Error('give the model a name');
      await saveToIndexedDB(needDetector(), name); // the detector's file: its models and plan
      return [await list()];
    }
    case 'load': {
      notTraining();
      notReplaying();
      await backend();
      const m = await loadFromIndexedDB(req.name);
      let det: AnomalyDetector;
      try {
        det = AnomalyDetector.fromModel(m);
      } catch (e) {
        m.dispose();
        throw e;
      }
      replaceDetector(det);
      return [describe(det)];
    }
    case 'list':
      return [await list()];
    case 'delete':
      await deleteModel(req.name);
      return [await list()];
  }
}

scope.onmessage = async (e: MessageEvent) => {
  const { id, req } = e.data as { id: number; req: Request };
  let reply: Reply;
  let transfer: Transferable[] = [];
  try {
    const [result, t] = await handle(req);
    reply = { type: 'reply', id, ok: true, result };
    transfer = t ?? [];
  } catch (err) {
    const x = err as Error;
    reply = {
      type: 'reply',
      id,
      ok: false,
      error: x?.message ? `${x.name && x.name !== 'Error' ? x.name + ': ' : ''}${x.message}` : String(err),
    };
  }
  scope.postMessage(reply, transfer);
};
