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
  Reply,
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
    description: `detector: features ${c.features}, hidden ${c.hidden}, latent ${c.latent}, window ${p.window * p.aggregate} rows${p.aggregate > 1 ? ` (${p.aggregate} rows per point)` : ''}`,
    parameters: det.model.parameterCount,
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

function replaceDetector(det: AnomalyDetector | undefined): void {
  if (detector && detector !== det) detector.dispose();
  detector = det;
}

/** `AnomalyDetector.fit` with its defaults on the chosen series; only the seed and (advanced) the budget are passed. */
async function train(o: TrainOptions): Promise<TrainResult> {
  notTraining();
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
        onEpochEnd: (e) =>
          emit({
            type: 'event',
            event: 'epoch',
            data: {
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
  const r = det.score({ data: s.values, shape: [s.n, d] });
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
      series = req.dataset === 'sine' ? syntheticSines() : await sensorNetwork(req.mote ?? 1);
      const out = summary(series);
      return [out, [out.display.buffer as ArrayBuffer]];
    }
    case 'loadCsv': {
      notTraining();
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
    case 'exportModel': {
      // det.toSafetensors(): the model's weights with the detector's plan; a Blob is passed by reference
      const det = needDetector();
      const blob = new Blob([det.toSafetensors() as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
      return [{ blob, fileName: `lstm-vae-detector-${det.plan.features}f-w${det.plan.window * det.plan.aggregate}.safetensors` }];
    }
    case 'importModel': {
      notTraining();
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
      await saveToIndexedDB(needDetector().model, name);
      return [await list()];
    }
    case 'load': {
      notTraining();
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
      error: x && x.message ? `${x.name && x.name !== 'Error' ? x.name + ': ' : ''}${x.message}` : String(err),
    };
  }
  scope.postMessage(reply, transfer);
};
