// The Worker: owns the data, the model, training, scoring and storage. The page only draws.
// init() here (a Worker of a cross-origin-isolated page) gets the threaded build; the calling
// thread joins the kernel pool and may block, which is fine off the main thread.
import {
  backendInfo, deleteModel, init, listModels, loadFromIndexedDB, LstmVae, modelFromFile, modelToBlob, saveToIndexedDB, windows, windowScoresToPoints, ZScoreNormalizer,
} from 'lstm-vae';
import { isNumericColumn, numericColumn, parseCsv, suggestColumn, suggestLabel, type Table } from './csv.js';
import { regionsFromLabels, sensorNetwork, syntheticSines, type Series } from './datasets.js';
import type {
  BackendSummary, CsvSummary, DatasetSummary, Event, ModelSummary, Preview, Reply, Request, ScoreResult, StoredEntry, TrainOptions, TrainResult,
} from './protocol.js';

const scope = self as unknown as { postMessage(m: unknown, transfer?: Transferable[]): void; crossOriginIsolated?: boolean; onmessage: ((e: MessageEvent) => void) | null };

let ready: Promise<BackendSummary> | undefined;
let table: { fileName: string; table: Table } | undefined;
let series: Series | undefined;
let model: LstmVae | undefined;
let training: AbortController | undefined;

/** What the demo keeps in the model's metadata (saved with it). */
interface DemoMeta {
  normalizer?: unknown;
  windowLength?: number;
  stride?: number;
  columns?: string[];
  trainedOn?: string;
  epochs?: number;
  finalLoss?: number;
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

function zscore(values: Float64Array, d: number): Float32Array {
  return new ZScoreNormalizer().fit(values, d).transform(values);
}

function summary(s: Series, previewWindow = 32): DatasetSummary {
  const first = s.regions[0];
  const previewStart = first ? Math.max(0, Math.min(s.n - 4 * previewWindow, first[0] - 2 * previewWindow)) : 0;
  return { name: s.name, n: s.n, columns: s.columns, display: zscore(s.values, s.columns.length), regions: s.regions, previewStart };
}

function meta(m: LstmVae): DemoMeta {
  return m.metadata as DemoMeta;
}

function describe(m: LstmVae): ModelSummary {
  const c = m.config;
  const md = meta(m);
  const W = md.windowLength ?? 32;
  return {
    description: `features ${c.features}, hidden ${c.hidden}, latent ${c.latent}, layers ${c.layers}, ${c.decoder} decoder, window ${W}`,
    parameters: m.parameterCount,
    windowLength: W,
    columns: md.columns ?? [],
    trainedOn: md.trainedOn ?? 'unknown',
    epochs: md.epochs ?? 0,
    finalLoss: md.finalLoss,
  };
}

function needData(): Series {
  if (!series) throw new Error('load a data set first');
  return series;
}

function needModel(): LstmVae {
  if (!model) throw new Error('train or load a model first');
  return model;
}

function notTraining(): void {
  if (training) throw new Error('training is in progress (stop it first)');
}

/** The series in the model's units: its saved normalizer, or one fitted on this data for models without it. */
function normalised(m: LstmVae, s: Series): Float32Array {
  const D = m.config.features;
  if (s.columns.length !== D) throw new Error(`the model takes ${D} features but the data set has ${s.columns.length} (${s.columns.join(', ')})`);
  const j = meta(m).normalizer;
  const norm = j ? ZScoreNormalizer.fromJSON(j) : new ZScoreNormalizer().fit(s.values, D);
  return norm.transform(s.values);
}

function preview(m: LstmVae, s: Series, start: number): Preview {
  const W = meta(m).windowLength ?? 32;
  const D = m.config.features;
  const k = Math.max(1, Math.min(4, Math.floor(s.n / W)));
  const len = k * W;
  if (s.n < len) throw new Error(`the data set is shorter than one window (${W} points)`);
  const from = Math.max(0, Math.min(s.n - len, Math.round(start)));
  const x = normalised(m, s);
  const input = x.slice(from * D, (from + len) * D);
  const recon = m.reconstruct({ data: input, shape: [k, W, D] });
  return { start: from, length: len, features: D, input, recon };
}

async function train(o: TrainOptions): Promise<TrainResult> {
  notTraining();
  const s = needData();
  await backend();
  const D = s.columns.length;
  const normalizer = new ZScoreNormalizer().fit(s.values, D);
  const x = normalizer.transform(s.values);
  const w = windows({ data: x, shape: [s.n, D] }, o.windowLength, o.stride);
  model?.dispose();
  model = undefined;
  const m = new LstmVae({ mode: 'continuous', features: D, hidden: o.hidden, latent: o.latent, layers: o.layers, seed: o.seed });
  m.metadata = { normalizer: normalizer.toJSON(), windowLength: o.windowLength, stride: o.stride, columns: s.columns, trainedOn: s.name } satisfies DemoMeta;
  model = m;
  const ctl = new AbortController();
  training = ctl;
  const t0 = performance.now();
  try {
    const history = await m.fit({ data: w.data, shape: w.shape }, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      optimizer: 'adam',
      learningRate: o.learningRate,
      clipNorm: 5,
      beta: o.beta,
      validationSplit: o.validationSplit,
      signal: ctl.signal,
      onBatchEnd: (b) => emit({ type: 'event', event: 'batch', data: { step: b.step, epoch: b.epoch, batch: b.batch, batches: b.batches, loss: b.loss } }),
      onEpochEnd: (e) => {
        let p: Preview | undefined;
        try {
          p = preview(m, s, o.previewStart);
        } catch {
          p = undefined;
        }
        emit(
          { type: 'event', event: 'epoch', data: { epoch: e.epoch, epochs: o.epochs, loss: e.loss, recon: e.recon, kl: e.kl, valLoss: e.valLoss, seconds: e.seconds, seqPerSec: e.seqPerSec, preview: p } },
          p ? [p.input.buffer as ArrayBuffer, p.recon.buffer as ArrayBuffer] : [],
        );
      },
    });
    const ep = history.epochs;
    const md = meta(m);
    md.epochs = ep.length;
    md.finalLoss = ep.length ? ep[ep.length - 1].loss : undefined;
    return {
      stopped: history.stopped,
      epochs: ep.length,
      firstLoss: ep.length ? ep[0].loss : NaN,
      finalLoss: ep.length ? ep[ep.length - 1].loss : NaN,
      seconds: (performance.now() - t0) / 1000,
      model: describe(m),
    };
  } finally {
    training = undefined;
  }
}

const yieldNow = () => new Promise<void>((r) => setTimeout(r, 0));

async function score(k: number): Promise<ScoreResult> {
  notTraining();
  const m = needModel();
  const s = needData();
  const t0 = performance.now();
  const W = meta(m).windowLength ?? 32;
  const D = m.config.features;
  const x = normalised(m, s);
  // every window (stride 1), scored in chunks so the memory stays small and progress can be shown
  const w = windows({ data: x, shape: [s.n, D] }, W, 1);
  const nw = w.starts.length;
  const perWindow = new Float32Array(nw);
  const chunk = 256;
  for (let i = 0; i < nw; i += chunk) {
    const b = Math.min(chunk, nw - i);
    const part = w.data.subarray(i * W * D, (i + b) * W * D);
    perWindow.set(m.anomalyScores({ data: part, shape: [b, W, D] }), i);
    emit({ type: 'event', event: 'progress', data: { what: 'scoring', done: i + b, total: nw } });
    await yieldNow();
  }
  const points = windowScoresToPoints(perWindow, w.starts, W, s.n, 'mean');
  let mean = 0;
  for (const v of points) mean += v;
  mean /= points.length;
  let v2 = 0;
  for (const v of points) v2 += (v - mean) ** 2;
  const threshold = mean + k * Math.sqrt(v2 / points.length);
  let flagged = 0;
  for (const v of points) if (v > threshold) flagged++;
  const order = Array.from({ length: s.n }, (_, i) => i).sort((a, b) => points[b] - points[a] || a - b);
  return {
    scores: Float32Array.from(points),
    threshold,
    k,
    flagged,
    topScore: points[order[0]],
    topIndex: order[0],
    topIndices: order.slice(0, 50),
    seconds: (performance.now() - t0) / 1000,
    windows: nw,
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
    case 'preview': {
      notTraining();
      const p = preview(needModel(), needData(), req.start);
      return [p, [p.input.buffer as ArrayBuffer, p.recon.buffer as ArrayBuffer]];
    }
    case 'score': {
      const r = await score(req.k);
      return [r, [r.scores.buffer as ArrayBuffer]];
    }
    case 'exportModel': {
      // a Blob is passed by reference; the page makes the download link
      const m = needModel();
      return [{ blob: modelToBlob(m), fileName: `lstm-vae-${m.config.features}f-h${m.config.hidden}-z${m.config.latent}.safetensors` }];
    }
    case 'importModel': {
      notTraining();
      await backend();
      const m = await modelFromFile(req.file);
      if (m.config.mode !== 'continuous') {
        m.dispose();
        throw new Error('this demo scores continuous models; the file holds a token model');
      }
      model?.dispose();
      model = m;
      return [describe(m)];
    }
    case 'save': {
      notTraining();
      const name = req.name.trim();
      if (!name) throw new Error('give the model a name');
      const m = needModel();
      await saveToIndexedDB(m, name);
      return [await list()];
    }
    case 'load': {
      notTraining();
      await backend();
      const m = await loadFromIndexedDB(req.name);
      model?.dispose();
      model = m;
      return [describe(m)];
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
    reply = { type: 'reply', id, ok: false, error: x && x.message ? `${x.name && x.name !== 'Error' ? x.name + ': ' : ''}${x.message}` : String(err) };
  }
  scope.postMessage(reply, transfer);
};
