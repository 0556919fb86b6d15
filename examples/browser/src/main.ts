// The page: controls and charts. Everything heavy (parsing, training, scoring, storage) runs in
// the Worker (worker.ts), so this thread stays free to draw and respond.
import { drawChart, PALETTE, type Line } from './charts.js';
import type {
  BackendSummary, BatchEvent, CsvSummary, DatasetSummary, EpochEvent, Event, ModelSummary, Preview, Reply, Request, ScoreResult, StoredEntry, TrainOptions, TrainResult,
} from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

// ------------------------------------------------------------------------------------------
// Worker RPC

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'lstm-vae-demo' });
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

function call<T>(req: Request, transfer: Transferable[] = []): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ id, req }, transfer);
  });
}

worker.onmessage = (e: MessageEvent<Reply | Event>) => {
  const m = e.data;
  if (m.type === 'reply') {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error));
  } else if (m.event === 'epoch') onEpoch(m.data);
  else if (m.event === 'batch') onBatch(m.data);
  else if (m.event === 'progress') $('score-status').textContent = `${m.data.what} ${m.data.done}/${m.data.total} windows`;
};
worker.onerror = (e) => log(`worker error: ${e.message}`, true);

// ------------------------------------------------------------------------------------------
// Helpers

function log(msg: string, error = false): void {
  const el = $('log');
  const line = document.createElement('div');
  line.textContent = `${new Date().toLocaleTimeString()}  ${msg}`;
  if (error) line.className = 'error';
  el.append(line);
  el.scrollTop = el.scrollHeight;
}

/** Shows a number: short text, and the exact value in data-value (for tests and copying). */
function setNum(id: string, v: number | undefined, digits = 5): void {
  const el = $(id);
  if (v === undefined || Number.isNaN(v)) {
    el.textContent = '–';
    delete el.dataset.value;
    return;
  }
  el.textContent = Number.isInteger(v) ? String(v) : v.toPrecision(digits);
  el.dataset.value = String(v);
}

function num(id: string): number {
  const v = Number($<HTMLInputElement>(id).value);
  if (!Number.isFinite(v)) throw new Error(`${id.replace('opt-', '')} must be a number`);
  return v;
}

const buttons = ['builtin-sine', 'builtin-sensor', 'csv-use', 'train', 'stop', 'score', 'download', 'save-idb', 'load-idb', 'delete-idb'] as const;
const state = { data: false, model: false, training: false, busy: false };

function refresh(): void {
  const can: Record<(typeof buttons)[number], boolean> = {
    'builtin-sine': !state.training && !state.busy,
    'builtin-sensor': !state.training && !state.busy,
    'csv-use': !state.training && !state.busy,
    train: state.data && !state.training && !state.busy,
    stop: state.training,
    score: state.data && state.model && !state.training && !state.busy,
    download: state.model && !state.training,
    'save-idb': state.model && !state.training && !state.busy,
    'load-idb': !state.training && !state.busy && $<HTMLSelectElement>('saved-models').options.length > 0,
    'delete-idb': !state.training && !state.busy && $<HTMLSelectElement>('saved-models').options.length > 0,
  };
  for (const b of buttons) $<HTMLButtonElement>(b).disabled = !can[b];
}

/** Runs an action with the controls locked; errors go to the log. */
async function action(what: string, fn: () => Promise<void>): Promise<void> {
  state.busy = true;
  refresh();
  try {
    await fn();
  } catch (e) {
    log(`${what}: ${(e as Error).message}`, true);
  } finally {
    state.busy = false;
    refresh();
  }
}

// ------------------------------------------------------------------------------------------
// Charts (redrawn from these values; also on resize)

let dataset: DatasetSummary | undefined;
let batchLoss: number[] = [];
let batchesPerEpoch = 1;
let epochLoss: number[] = [];
let valLoss: number[] = [];
let preview: Preview | undefined;
let scored: ScoreResult | undefined;

function drawData(): void {
  const lines: Line[] = [];
  if (dataset) {
    const D = dataset.columns.length;
    dataset.columns.forEach((c, f) => lines.push({ y: dataset!.display, stride: D, offset: f, color: PALETTE[f % PALETTE.length], label: c, width: 1 }));
  }
  drawChart($<HTMLCanvasElement>('chart-data'), { lines, regions: dataset?.regions, xLabel: 'point', yLabel: 'z-score', empty: 'choose a data set' });
}

function drawLoss(): void {
  const lines: Line[] = [];
  if (batchLoss.length) lines.push({ y: batchLoss, x0: 1 / batchesPerEpoch, dx: 1 / batchesPerEpoch, color: '#9bb7d4', width: 1, label: 'batch' });
  if (epochLoss.length) lines.push({ y: epochLoss, x0: 1, dx: 1, color: '#1f77b4', width: 2, dots: true, label: 'epoch' });
  if (valLoss.length) lines.push({ y: valLoss, x0: 1, dx: 1, color: '#ff7f0e', width: 1.5, dash: [5, 3], dots: true, label: 'validation' });
  drawChart($<HTMLCanvasElement>('chart-loss'), { lines, logY: true, xLabel: 'epoch', yLabel: 'loss', empty: 'train to see the loss' });
}

function drawRecon(): void {
  const lines: Line[] = [];
  let regions: [number, number][] = [];
  if (preview) {
    const p = preview;
    for (let f = 0; f < p.features; f++) {
      const c = PALETTE[f % PALETTE.length];
      const name = dataset?.columns[f] ?? `feature ${f}`;
      lines.push({ y: p.input, stride: p.features, offset: f, x0: p.start, color: c, width: 1.5, label: name });
      lines.push({ y: p.recon, stride: p.features, offset: f, x0: p.start, color: c, width: 1.5, dash: [4, 3], label: `${name} (recon)` });
    }
    regions = (dataset?.regions ?? []).filter(([a, b]) => b >= p.start && a < p.start + p.length);
  }
  drawChart($<HTMLCanvasElement>('chart-recon'), { lines, regions, xLabel: 'point', empty: 'reconstructions appear after each epoch' });
}

function drawScore(): void {
  const lines: Line[] = [];
  const flaggedXs: number[] = [];
  if (scored) {
    lines.push({ y: scored.scores, color: '#444', width: 1, label: 'anomaly score' });
    for (let i = 0; i < scored.scores.length; i++) if (scored.scores[i] > scored.threshold) flaggedXs.push(i);
  }
  drawChart($<HTMLCanvasElement>('chart-score'), {
    lines,
    regions: dataset?.regions,
    hlines: scored ? [{ y: scored.threshold, color: '#d62728', label: `threshold (k = ${scored.k})` }] : [],
    marks: { xs: flaggedXs, color: '#d62728' },
    xLabel: 'point',
    empty: 'score to see anomaly scores',
  });
}

function drawAll(): void {
  drawData();
  drawLoss();
  drawRecon();
  drawScore();
}
let resizeTimer = 0;
addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(drawAll, 100);
});

// Redraw at most once per frame when events stream in.
let frame = 0;
function redrawSoon(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    drawLoss();
    drawRecon();
  });
}

// ------------------------------------------------------------------------------------------
// Main-thread responsiveness meter: the longest gap between 50 ms timer ticks while training.

let lastTick = performance.now();
let maxGap = 0;
setInterval(() => {
  const now = performance.now();
  if (state.training) maxGap = Math.max(maxGap, now - lastTick);
  lastTick = now;
}, 50);

// ------------------------------------------------------------------------------------------
// Data

function showDataset(d: DatasetSummary): void {
  dataset = d;
  state.data = true;
  scored = undefined;
  preview = undefined;
  $('dataset-name').textContent = d.name;
  setNum('dataset-points', d.n);
  const pr = $('planted-regions');
  pr.textContent = d.regions.length ? d.regions.slice(0, 12).map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ') + (d.regions.length > 12 ? ` … (${d.regions.length})` : '') : 'none';
  pr.dataset.value = JSON.stringify(d.regions);
  $<HTMLInputElement>('opt-preview').value = String(d.previewStart);
  for (const id of ['flagged-count', 'threshold', 'top-score', 'top-index']) setNum(id, undefined);
  $('top-indices').textContent = '–';
  $('score-status').textContent = 'not scored';
  log(`data: ${d.name}, ${d.n} points × ${d.columns.length} (${d.columns.join(', ')}), ${d.regions.length} labelled region(s)`);
  drawAll();
}

$('builtin-sine').onclick = () => action('loading the data set', async () => showDataset(await call<DatasetSummary>({ type: 'loadBuiltin', dataset: 'sine' })));
$('builtin-sensor').onclick = () =>
  action('loading the data set', async () => showDataset(await call<DatasetSummary>({ type: 'loadBuiltin', dataset: 'sensor', mote: Number($<HTMLSelectElement>('mote').value) })));

$<HTMLInputElement>('csv-file').onchange = (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  // The File goes to the Worker as is (a reference); the Worker reads and parses it.
  void action('reading the CSV file', async () => {
    const s = await call<CsvSummary>({ type: 'loadCsv', file });
    const box = $('csv-columns');
    box.replaceChildren();
    const label = $<HTMLSelectElement>('csv-label');
    label.replaceChildren(new Option('none', ''));
    s.columns.forEach((c, j) => {
      if (!s.numeric[j]) return;
      const l = document.createElement('label');
      const cb = document.createElement('input');
      cb.type = 'checkbox';
      cb.value = c;
      cb.checked = s.suggested[j];
      l.append(cb, ` ${c}`);
      box.append(l);
      label.append(new Option(c, c, false, c === s.label));
    });
    $('csv-pick').hidden = false;
    log(`CSV: ${s.fileName}, ${s.rows} rows, columns ${s.columns.join(', ')}; numeric: ${s.columns.filter((_, j) => s.numeric[j]).join(', ') || 'none'}`);
  });
};

$('csv-use').onclick = () =>
  action('choosing columns', async () => {
    const columns = [...$('csv-columns').querySelectorAll<HTMLInputElement>('input:checked')].map((c) => c.value);
    const label = $<HTMLSelectElement>('csv-label').value || undefined;
    showDataset(await call<DatasetSummary>({ type: 'selectColumns', columns, label }));
  });

// ------------------------------------------------------------------------------------------
// Training

function onBatch(b: BatchEvent): void {
  batchesPerEpoch = b.batches;
  batchLoss.push(b.loss);
  redrawSoon();
}

function onEpoch(e: EpochEvent): void {
  epochLoss.push(e.loss);
  if (e.valLoss !== undefined) valLoss.push(e.valLoss);
  if (e.preview) preview = e.preview;
  setNum('epochs-done', e.epoch + 1);
  if (e.epoch === 0) setNum('first-loss', e.loss);
  setNum('last-loss', e.loss);
  $('train-speed').textContent = `${Math.round(e.seqPerSec)} windows/s`;
  log(`epoch ${e.epoch + 1}/${e.epochs}: loss ${e.loss.toPrecision(5)} (recon ${e.recon.toPrecision(4)}, KL ${e.kl.toPrecision(4)})` +
    (e.valLoss !== undefined ? `, validation ${e.valLoss.toPrecision(5)}` : '') + `, ${e.seconds.toFixed(2)} s`);
  redrawSoon();
}

function trainOptions(): TrainOptions {
  return {
    windowLength: num('opt-window'),
    stride: num('opt-stride'),
    hidden: num('opt-hidden'),
    latent: num('opt-latent'),
    layers: num('opt-layers'),
    epochs: num('opt-epochs'),
    batchSize: num('opt-batch'),
    learningRate: num('opt-lr'),
    beta: num('opt-beta'),
    validationSplit: num('opt-val'),
    seed: num('opt-seed'),
    previewStart: num('opt-preview'),
  };
}

function showModel(m: ModelSummary): void {
  state.model = true;
  $('model-info').textContent = `${m.description}; ${m.parameters} parameters; trained on ${m.trainedOn}` +
    (m.epochs ? ` for ${m.epochs} epoch(s)` : '') + (m.finalLoss !== undefined ? `, final loss ${m.finalLoss.toPrecision(5)}` : '') +
    (m.columns.length ? `; columns ${m.columns.join(', ')}` : '');
  $('model-info').dataset.window = String(m.windowLength);
  $<HTMLInputElement>('opt-window').value = String(m.windowLength);
}

$('train').onclick = async () => {
  let opts: TrainOptions;
  try {
    opts = trainOptions();
  } catch (e) {
    log((e as Error).message, true);
    return;
  }
  batchLoss = [];
  epochLoss = [];
  valLoss = [];
  preview = undefined;
  scored = undefined;
  for (const id of ['epochs-done', 'first-loss', 'last-loss', 'final-loss']) setNum(id, undefined);
  setNum('epochs-done', 0);
  state.training = true;
  state.model = false;
  maxGap = 0;
  lastTick = performance.now();
  $('train-status').textContent = 'training';
  refresh();
  drawAll();
  log(`training: window ${opts.windowLength}, stride ${opts.stride}, hidden ${opts.hidden}, latent ${opts.latent}, ${opts.epochs} epochs`);
  try {
    const r = await call<TrainResult>({ type: 'train', options: opts });
    setNum('final-loss', r.finalLoss);
    showModel(r.model);
    $('train-status').textContent = r.stopped === 'aborted' ? 'stopped' : 'done';
    log(`training ${r.stopped === 'aborted' ? 'stopped' : 'finished'} after ${r.epochs} epoch(s) in ${r.seconds.toFixed(1)} s; final loss ${r.finalLoss.toPrecision(5)}`);
  } catch (e) {
    $('train-status').textContent = 'error';
    log(`training: ${(e as Error).message}`, true);
  } finally {
    state.training = false;
    setNum('main-max-gap', Math.round(maxGap));
    refresh();
    drawAll();
  }
};

$('stop').onclick = () => void call({ type: 'stop' });

$<HTMLInputElement>('opt-preview').onchange = () => {
  if (!state.model || state.training || !state.data) return;
  void action('preview', async () => {
    preview = await call<Preview>({ type: 'preview', start: num('opt-preview') });
    drawRecon();
  });
};

// ------------------------------------------------------------------------------------------
// Scoring

$('score').onclick = () =>
  action('scoring', async () => {
    $('score-status').textContent = 'scoring';
    try {
      const r = await call<ScoreResult>({ type: 'score', k: num('opt-k') });
      scored = r;
      setNum('flagged-count', r.flagged);
      setNum('threshold', r.threshold);
      setNum('top-score', r.topScore, 6);
      setNum('top-index', r.topIndex);
      const ti = $('top-indices');
      ti.textContent = r.topIndices.slice(0, 20).join(', ') + (r.topIndices.length > 20 ? ', …' : '');
      ti.dataset.value = JSON.stringify(r.topIndices);
      $('score-status').textContent = 'scored';
      log(`scored ${r.windows} windows in ${r.seconds.toFixed(2)} s: ${r.flagged} of ${r.scores.length} points above the threshold ${r.threshold.toPrecision(4)}; top ${r.topScore.toPrecision(6)} at ${r.topIndex}`);
      drawScore();
    } catch (e) {
      $('score-status').textContent = 'error';
      throw e;
    }
  });

// ------------------------------------------------------------------------------------------
// Files and IndexedDB

$('download').onclick = () =>
  action('download', async () => {
    const { blob, fileName } = await call<{ blob: Blob; fileName: string }>({ type: 'exportModel' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    log(`downloaded ${fileName} (${blob.size} bytes)`);
  });

$<HTMLInputElement>('model-file').onchange = (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  void action('opening the model', async () => {
    showModel(await call<ModelSummary>({ type: 'importModel', file }));
    log(`opened ${file.name}`);
  });
};

function showStored(list: StoredEntry[], select?: string): void {
  const sel = $<HTMLSelectElement>('saved-models');
  const keep = select ?? sel.value;
  sel.replaceChildren(...list.map((m) => new Option(`${m.name} (${m.description}; ${(m.bytes / 1024).toFixed(1)} KiB, ${new Date(m.savedAt).toLocaleString()})`, m.name)));
  if (list.some((m) => m.name === keep)) sel.value = keep;
  sel.dataset.names = JSON.stringify(list.map((m) => m.name));
  refresh();
}

$('save-idb').onclick = () =>
  action('saving', async () => {
    const name = $<HTMLInputElement>('model-name').value.trim();
    showStored(await call<StoredEntry[]>({ type: 'save', name }), name);
    $('storage-status').textContent = `saved "${name}"`;
    log(`saved the model to IndexedDB as "${name}"`);
  });

$('load-idb').onclick = () =>
  action('loading', async () => {
    const name = $<HTMLSelectElement>('saved-models').value;
    if (!name) throw new Error('no saved model chosen');
    showModel(await call<ModelSummary>({ type: 'load', name }));
    scored = undefined;
    drawScore();
    $('storage-status').textContent = `loaded "${name}"`;
    log(`loaded "${name}" from IndexedDB`);
  });

$('delete-idb').onclick = () =>
  action('deleting', async () => {
    const name = $<HTMLSelectElement>('saved-models').value;
    showStored(await call<StoredEntry[]>({ type: 'delete', name }));
    $('storage-status').textContent = `deleted "${name}"`;
  });

// ------------------------------------------------------------------------------------------
// Start

$('page-isolated').textContent = String(globalThis.crossOriginIsolated === true);
refresh();
drawAll();
void (async () => {
  try {
    const b = await call<BackendSummary>({ type: 'init' });
    $('backend-build').textContent = b.build;
    setNum('backend-threads', b.threads);
    $('backend-features').textContent = b.features;
    $('backend-reasons').textContent = b.reasons.join('; ') || '–';
    log(`backend: ${b.build}, ${b.threads} thread(s) (Worker isolated: ${b.isolated})`);
  } catch (e) {
    $('backend-build').textContent = 'failed';
    log(`init: ${(e as Error).message}`, true);
  }
  try {
    showStored(await call<StoredEntry[]>({ type: 'list' }));
  } catch (e) {
    log(`IndexedDB: ${(e as Error).message}`, true);
  }
  document.body.dataset.ready = 'true';
})();
