// The page: controls and charts. Everything heavy (parsing, training, scoring, live replay, storage)
// runs in the Worker (worker.ts), which trains `AnomalyDetector.fit(series, { seed })` with the
// package's defaults, scores with `det.score(series)` and replays the series through `det.stream()`,
// so this thread stays free to draw and respond.
import { drawChart, PALETTE, type Line } from './charts.js';
import type {
  BackendSummary,
  BatchEvent,
  CsvSummary,
  DatasetSummary,
  DetectorSummary,
  EpochEvent,
  Event,
  LiveBatch,
  LiveStart,
  ReplayResult,
  Reply,
  Request,
  ScoreResult,
  StoredEntry,
  TrainOptions,
  TrainResult,
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
  else if (m.event === 'progress')
    $(m.data.what.startsWith('setting') ? 'train-status' : 'score-status').textContent =
      `${m.data.what} ${Math.floor((100 * m.data.done) / m.data.total)}% of ${m.data.total} windows`;
  else if (m.event === 'liveStart') onLiveStart(m.data);
  else if (m.event === 'live') onLive(m.data);
};
worker.onerror = (e) => fail('backend', 'the Worker', new Error(e.message || 'it failed to load'));

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

/** Where a failure is shown: the `<slot>-error` element next to the controls of that part of the page. */
type Slot = 'backend' | 'data' | 'train' | 'score' | 'live' | 'model' | 'storage';

/** Shows an error next to the control that failed (and in the log); cleared when that part of the page is used again. */
function fail(slot: Slot, what: string, e: unknown): void {
  const message = `${what}: ${e instanceof Error ? e.message : String(e)}`;
  const el = $(`${slot}-error`);
  el.textContent = message;
  el.hidden = false;
  log(message, true);
}

function clearError(slot: Slot): void {
  const el = $(`${slot}-error`);
  el.textContent = '';
  el.hidden = true;
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

/** An optional number: empty means the detector's default. */
function optionalNum(id: string): number | undefined {
  return $<HTMLInputElement>(id).value.trim() === '' ? undefined : num(id);
}

const buttons = [
  'builtin-sine',
  'builtin-sensor',
  'csv-use',
  'train',
  'stop',
  'score',
  'replay',
  'replay-stop',
  'download',
  'save-idb',
  'load-idb',
  'delete-idb',
] as const;
const state = { data: false, model: false, training: false, busy: false, replaying: false };

function refresh(): void {
  const can: Record<(typeof buttons)[number], boolean> = {
    'builtin-sine': !state.training && !state.busy && !state.replaying,
    'builtin-sensor': !state.training && !state.busy && !state.replaying,
    'csv-use': !state.training && !state.busy && !state.replaying,
    train: state.data && !state.training && !state.busy && !state.replaying,
    stop: state.training,
    score: state.data && state.model && !state.training && !state.busy,
    replay: state.data && state.model && !state.training && !state.busy && !state.replaying,
    'replay-stop': state.replaying,
    download: state.model && !state.training,
    'save-idb': state.model && !state.training && !state.busy,
    'load-idb': !state.training && !state.busy && !state.replaying && $<HTMLSelectElement>('saved-models').options.length > 0,
    'delete-idb': !state.training && !state.busy && $<HTMLSelectElement>('saved-models').options.length > 0,
  };
  for (const b of buttons) $<HTMLButtonElement>(b).disabled = !can[b];
  // a replay uses the data set and the detector: neither changes until it ends
  for (const f of ['csv-file', 'model-file']) $<HTMLInputElement>(f).disabled = state.replaying;
}

/** Runs an action with the controls locked; an error is shown next to its controls (`slot`) and in the log. */
async function action(what: string, slot: Slot, fn: () => Promise<void>): Promise<void> {
  state.busy = true;
  clearError(slot);
  refresh();
  try {
    await fn();
  } catch (e) {
    fail(slot, what, e);
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
let scored: ScoreResult | undefined;

function drawData(): void {
  const lines: Line[] = [];
  if (dataset) {
    const D = dataset.columns.length;
    dataset.columns.forEach((c, f) =>
      lines.push({ y: dataset!.display, stride: D, offset: f, color: PALETTE[f % PALETTE.length], label: c, width: 1 }),
    );
  }
  drawChart($<HTMLCanvasElement>('chart-data'), {
    lines,
    regions: dataset?.regions,
    xLabel: 'point',
    yLabel: 'z-score',
    empty: 'choose a data set',
  });
}

function drawLoss(): void {
  const lines: Line[] = [];
  if (batchLoss.length)
    lines.push({ y: batchLoss, x0: 1 / batchesPerEpoch, dx: 1 / batchesPerEpoch, color: '#9bb7d4', width: 1, label: 'batch' });
  if (epochLoss.length) lines.push({ y: epochLoss, x0: 1, dx: 1, color: '#1f77b4', width: 2, dots: true, label: 'epoch' });
  if (valLoss.length) lines.push({ y: valLoss, x0: 1, dx: 1, color: '#ff7f0e', width: 1.5, dash: [5, 3], dots: true, label: 'validation' });
  drawChart($<HTMLCanvasElement>('chart-loss'), { lines, logY: true, xLabel: 'epoch', yLabel: 'loss', empty: 'train to see the loss' });
}

/** The data (solid) and the detector's reconstruction (dashed), both z-scored per feature for display. */
function drawRecon(): void {
  const lines: Line[] = [];
  if (scored && dataset) {
    const D = dataset.columns.length;
    for (let f = 0; f < D; f++) {
      const c = PALETTE[f % PALETTE.length];
      const name = dataset.columns[f] ?? `feature ${f}`;
      lines.push({ y: dataset.display, stride: D, offset: f, color: c, width: 1, label: name });
      lines.push({ y: scored.reconstruction, stride: D, offset: f, color: c, width: 1.5, dash: [4, 3], label: `${name} (recon)` });
    }
  }
  drawChart($<HTMLCanvasElement>('chart-recon'), {
    lines,
    regions: scored?.intervals,
    xLabel: 'point',
    yLabel: 'z-score',
    empty: "score to see the detector's reconstruction",
  });
}

function drawScore(): void {
  const lines: Line[] = [];
  const flaggedXs: number[] = [];
  if (scored) {
    lines.push({ y: scored.scores, color: '#444', width: 1, label: 'anomaly score' });
    for (const [a, b] of scored.intervals) for (let i = a; i <= b; i++) flaggedXs.push(i);
  }
  drawChart($<HTMLCanvasElement>('chart-score'), {
    lines,
    regions: dataset?.regions,
    hlines: scored ? [{ y: scored.threshold, color: '#d62728', label: "threshold (the detector's)" }] : [],
    marks: { xs: flaggedXs, color: '#d62728' },
    xLabel: 'point',
    empty: 'score to see anomaly scores',
  });
}

/** The series as it arrives in the replay, with the alarms so far. */
function drawLiveData(): void {
  const lines: Line[] = [];
  if (live && dataset) {
    const D = dataset.columns.length;
    const shown = dataset.display.subarray(0, live.rows * D);
    dataset.columns.forEach((c, f) =>
      lines.push({ y: shown, stride: D, offset: f, color: PALETTE[f % PALETTE.length], label: c, width: 1 }),
    );
  }
  drawChart($<HTMLCanvasElement>('chart-live-data'), {
    lines,
    bands: live ? alarmBands(live) : [],
    xRange: live ? [0, live.n - 1] : undefined,
    xLabel: 'row',
    yLabel: 'z-score',
    empty: 'replay to see the series arrive',
  });
}

/** The live scores with the threshold, the alarms and each point's top feature. */
function drawLiveScore(): void {
  const lines: Line[] = [];
  if (live && live.scored > 0) lines.push({ y: live.scores.subarray(0, live.scored), color: '#444', width: 1, label: 'live score' });
  drawChart($<HTMLCanvasElement>('chart-live-score'), {
    lines,
    regions: live ? dataset?.regions : undefined,
    bands: live ? alarmBands(live) : [],
    strip: live ? { values: live.top.subarray(0, live.scored), colors: PALETTE.slice(0, live.columns.length) } : undefined,
    hlines: live ? [{ y: live.threshold, color: '#d62728', label: 'threshold' }] : [],
    xRange: live ? [0, live.n - 1] : undefined,
    xLabel: 'row',
    empty: 'replay to see the live score',
  });
}

function drawLive(): void {
  drawLiveData();
  drawLiveScore();
}

function drawAll(): void {
  drawData();
  drawLoss();
  drawRecon();
  drawScore();
  drawLive();
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
  });
}

// ------------------------------------------------------------------------------------------
// Main-thread responsiveness meter: the longest gap between 50 ms timer ticks while training or replaying.

let lastTick = performance.now();
let maxGap = 0;
setInterval(() => {
  const now = performance.now();
  if (state.training || state.replaying) maxGap = Math.max(maxGap, now - lastTick);
  lastTick = now;
}, 50);

// ------------------------------------------------------------------------------------------
// Data

function showDataset(d: DatasetSummary): void {
  dataset = d;
  state.data = true;
  scored = undefined;
  $('dataset-name').textContent = d.name;
  setNum('dataset-points', d.n);
  const pr = $('planted-regions');
  pr.textContent = d.regions.length
    ? d.regions
        .slice(0, 12)
        .map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`))
        .join(', ') + (d.regions.length > 12 ? ` … (${d.regions.length})` : '')
    : 'none';
  pr.dataset.value = JSON.stringify(d.regions);
  clearScores();
  $('score-status').textContent = 'not scored';
  log(`data: ${d.name}, ${d.n} points × ${d.columns.length} (${d.columns.join(', ')}), ${d.regions.length} labelled region(s)`);
  drawAll();
}

$('builtin-sine').onclick = () =>
  action('loading the data set', 'data', async () => showDataset(await call<DatasetSummary>({ type: 'loadBuiltin', dataset: 'sine' })));
$('builtin-sensor').onclick = () =>
  action('loading the data set', 'data', async () =>
    showDataset(await call<DatasetSummary>({ type: 'loadBuiltin', dataset: 'sensor', mote: Number($<HTMLSelectElement>('mote').value) })),
  );

$<HTMLInputElement>('csv-file').onchange = (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  // The File goes to the Worker as is (a reference); the Worker reads and parses it.
  void action('reading the CSV file', 'data', async () => {
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
    log(
      `CSV: ${s.fileName}, ${s.rows} rows, columns ${s.columns.join(', ')}; numeric: ${s.columns.filter((_, j) => s.numeric[j]).join(', ') || 'none'}`,
    );
  });
};

$('csv-use').onclick = () =>
  action('choosing columns', 'data', async () => {
    const columns = [...$('csv-columns').querySelectorAll<HTMLInputElement>('input:checked')].map((c) => c.value);
    const label = $<HTMLSelectElement>('csv-label').value || undefined;
    showDataset(await call<DatasetSummary>({ type: 'selectColumns', columns, label }));
  });

// ------------------------------------------------------------------------------------------
// Training

function onBatch(b: BatchEvent): void {
  batchesPerEpoch = b.batches;
  batchLoss.push(b.loss);
  setNum('steps-done', b.step);
  redrawSoon();
}

function onEpoch(e: EpochEvent): void {
  // the detector trains its models one after the other: the chart and counters follow the one training now
  if (e.epoch === 0) {
    epochLoss = [];
    valLoss = [];
    setNum('first-loss', e.loss);
  }
  epochLoss.push(e.loss);
  if (e.valLoss !== undefined) valLoss.push(e.valLoss);
  setNum('epochs-done', e.epoch + 1);
  setNum('steps-done', e.step);
  setNum('last-loss', e.loss);
  $('train-speed').textContent = `${Math.round(e.seqPerSec)} windows/s`;
  const which = e.members > 1 ? `model ${e.member + 1} of ${e.members}, ` : '';
  log(
    `${which}epoch ${e.epoch + 1} (step ${e.step} of at most ${e.maxSteps}): loss ${e.loss.toPrecision(5)} (recon ${e.recon.toPrecision(4)}, KL ${e.kl.toPrecision(4)})` +
      (e.valLoss !== undefined ? `, validation ${e.valLoss.toPrecision(5)}` : '') +
      `, ${e.seconds.toFixed(2)} s`,
  );
  redrawSoon();
}

function trainOptions(): TrainOptions {
  const o: TrainOptions = { seed: num('opt-seed') };
  const maxSteps = optionalNum('opt-max-steps');
  const maxSeconds = optionalNum('opt-max-seconds');
  if (maxSteps !== undefined) o.maxSteps = maxSteps;
  if (maxSeconds !== undefined) o.maxSeconds = maxSeconds;
  return o;
}

function clearScores(): void {
  scored = undefined;
  clearLive();
  for (const id of ['flagged-count', 'top-score', 'top-index']) setNum(id, undefined);
  const iv = $('intervals');
  iv.textContent = '–';
  delete iv.dataset.value;
  $('top-indices').textContent = '–';
  $('score-status').textContent = 'not scored';
}

/** The detector's plan: window and why, threshold and its rule, diagnostics. */
function showDetector(m: DetectorSummary): void {
  state.model = true;
  $('model-info').textContent =
    `${m.description}; ${m.parameters} parameters; trained on ${m.trainedOn} (${m.steps} steps, stopped: ${m.stopped})` +
    (m.columns.length ? `; columns ${m.columns.join(', ')}` : '');
  setNum('window', m.window);
  $('window-reason').textContent = m.windowReason;
  setNum('threshold', m.threshold);
  $('threshold-rule').textContent = m.thresholdRule;
  const diag = $('diagnostics');
  diag.textContent = m.notLearnt ? `warning: ${m.diagnostics}` : m.diagnostics;
  diag.dataset.notLearnt = String(m.notLearnt);
  diag.classList.toggle('warning', m.notLearnt);
}

function clearDetector(): void {
  state.model = false;
  $('model-info').textContent = 'no detector';
  for (const id of ['window', 'threshold']) setNum(id, undefined);
  for (const id of ['window-reason', 'threshold-rule', 'diagnostics']) $(id).textContent = '–';
  $('diagnostics').classList.remove('warning');
}

$('train').onclick = async () => {
  let opts: TrainOptions;
  clearError('train');
  try {
    opts = trainOptions();
  } catch (e) {
    fail('train', 'training options', e);
    return;
  }
  batchLoss = [];
  epochLoss = [];
  valLoss = [];
  clearScores();
  clearDetector();
  for (const id of ['first-loss', 'last-loss', 'final-loss', 'stopped']) setNum(id, undefined);
  $('stopped').textContent = '–';
  setNum('epochs-done', 0);
  setNum('steps-done', 0);
  state.training = true;
  maxGap = 0;
  lastTick = performance.now();
  $('train-status').textContent = 'training';
  refresh();
  drawAll();
  log(
    `training: AnomalyDetector.fit with its defaults (seed ${opts.seed}${opts.maxSteps !== undefined ? `, at most ${opts.maxSteps} steps` : ''}${opts.maxSeconds !== undefined ? `, at most ${opts.maxSeconds} s` : ''})`,
  );
  try {
    const r = await call<TrainResult>({ type: 'train', options: opts });
    // the first model's curve (the detector's history); steps count all its models
    setNum('first-loss', r.firstLoss);
    setNum('final-loss', r.finalLoss);
    setNum('steps-done', r.steps);
    $('stopped').textContent = r.stopped;
    showDetector(r.detector);
    $('train-status').textContent = r.stopped === 'aborted' ? 'stopped' : 'done';
    log(
      `training ${r.stopped === 'aborted' ? 'stopped' : `finished (${r.stopped})`} after ${r.steps} steps${r.detector.members > 1 ? ` over ${r.detector.members} models (their point errors averaged)` : ''}, ${r.epochs} epoch(s) of the first in ${r.seconds.toFixed(1)} s; final loss ${r.finalLoss.toPrecision(5)}`,
    );
    log(`window ${r.detector.window} rows: ${r.detector.windowReason}`);
    log(`diagnostics: ${r.detector.diagnostics}`, r.detector.notLearnt);
  } catch (e) {
    $('train-status').textContent = 'error';
    fail('train', 'training', e);
  } finally {
    state.training = false;
    setNum('main-max-gap', Math.round(maxGap));
    refresh();
    drawAll();
  }
};

$('stop').onclick = () => void call({ type: 'stop' });

// ------------------------------------------------------------------------------------------
// Scoring

function describeIntervals(iv: [number, number][], max = 12): string {
  if (iv.length === 0) return 'none';
  return (
    iv
      .slice(0, max)
      .map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`))
      .join(', ') + (iv.length > max ? ` … (${iv.length})` : '')
  );
}

$('score').onclick = () =>
  action('scoring', 'score', async () => {
    $('score-status').textContent = 'scoring';
    try {
      const r = await call<ScoreResult>({ type: 'score' });
      scored = r;
      setNum('flagged-count', r.flagged);
      setNum('threshold', r.threshold);
      setNum('top-score', r.topScore, 6);
      setNum('top-index', r.topIndex);
      const iv = $('intervals');
      iv.textContent = describeIntervals(r.intervals);
      iv.dataset.value = JSON.stringify(r.intervals);
      const ti = $('top-indices');
      ti.textContent = r.topIndices.slice(0, 20).join(', ') + (r.topIndices.length > 20 ? ', …' : '');
      ti.dataset.value = JSON.stringify(r.topIndices);
      $('score-status').textContent = 'scored';
      log(
        `scored ${r.scores.length} points in ${r.seconds.toFixed(2)} s: ${r.intervals.length} interval(s) above the threshold ${r.threshold.toPrecision(4)} (${r.flagged} points): ${describeIntervals(r.intervals)}; top ${r.topScore.toPrecision(6)} at ${r.topIndex}`,
      );
      drawScore();
      drawRecon();
    } catch (e) {
      $('score-status').textContent = 'error';
      throw e;
    }
  });

// ------------------------------------------------------------------------------------------
// Live: the Worker replays the series through det.stream() and posts the points in batches

interface LiveAlarm {
  start: number;
  /** null while open. */
  end: number | null;
  /** The point whose score opened it, then the one that closed it. */
  at: number;
  features?: { name: string; share: number }[];
  peak?: number;
}

/** What the page has of the running (or last) replay. */
interface LiveView {
  n: number;
  delay: number;
  threshold: number;
  columns: string[];
  /** Rows pushed; scores received (of rows 0 .. scored − 1). */
  rows: number;
  scored: number;
  scores: Float32Array;
  /** Each point's top feature (index into columns; NaN: not yet scored). */
  top: Float32Array;
  alarms: LiveAlarm[];
  batches: number;
}

let live: LiveView | undefined;

// grey, apart from the features' colours (the strip, the series) and the orange of the planted anomalies
const CLOSED_ALARM = 'rgba(70, 70, 90, 0.16)';
const OPEN_ALARM = 'rgba(70, 70, 90, 0.34)';

function alarmBands(v: LiveView): { intervals: [number, number][]; color: string }[] {
  const closed: [number, number][] = [];
  const open: [number, number][] = [];
  for (const a of v.alarms) {
    if (a.end !== null) closed.push([a.start, a.end]);
    else open.push([a.start, Math.max(a.start, v.scored - 1)]);
  }
  return [
    { intervals: closed, color: CLOSED_ALARM },
    { intervals: open, color: OPEN_ALARM },
  ];
}

function percent(share: number): string {
  return `${(100 * share).toFixed(0)} %`;
}

function clearLive(): void {
  live = undefined;
  $('live-status').textContent = 'idle';
  for (const id of ['live-rows', 'live-delay', 'live-rate', 'live-push-ms', 'live-max-diff', 'live-compared', 'live-matching'])
    setNum(id, undefined);
  setNum('live-opened', 0);
  setNum('live-closed', 0);
  for (const id of ['live-last', 'live-check']) $(id).textContent = '–';
  showAlarms();
}

function showAlarms(): void {
  const list = $('live-alarms');
  const alarms = live?.alarms ?? [];
  list.replaceChildren(
    ...alarms.map((a) => {
      const li = document.createElement('li');
      if (a.end === null) {
        li.className = 'open';
        li.textContent = `${a.start}– open (since the score of row ${a.at})`;
      } else {
        const top = (a.features ?? []).map((f) => `${f.name} ${percent(f.share)}`).join(', ');
        li.textContent = `${a.start}–${a.end}: top feature ${top || '–'}; most error at row ${a.peak}`;
      }
      return li;
    }),
  );
  list.dataset.value = JSON.stringify(alarms);
}

let liveFrame = 0;
function redrawLiveSoon(): void {
  if (liveFrame) return;
  liveFrame = requestAnimationFrame(() => {
    liveFrame = 0;
    drawLive();
  });
}

function onLiveStart(s: LiveStart): void {
  live = {
    n: s.n,
    delay: s.delay,
    threshold: s.threshold,
    columns: s.columns,
    rows: 0,
    scored: 0,
    scores: new Float32Array(s.n).fill(NaN),
    top: new Float32Array(s.n).fill(NaN),
    alarms: [],
    batches: 0,
  };
  setNum('live-delay', s.delay);
  showAlarms();
  log(
    `live: replaying ${s.n} rows through det.stream() ${s.speed > 0 ? `at ${s.speed} rows/s` : 'as fast as it goes'}; each score comes ${s.delay} rows after its row`,
  );
  drawLive();
}

function onLive(b: LiveBatch): void {
  const v = live;
  if (!v) return;
  v.batches++;
  v.rows = b.rows;
  v.scores.set(b.scores, b.from);
  v.top.set(b.top, b.from);
  for (let k = 0; k < b.top.length; k++) if (b.top[k] < 0) v.top[b.from + k] = NaN;
  if (b.scores.length) v.scored = b.from + b.scores.length;
  for (const e of b.events) {
    if (e.type === 'open') {
      v.alarms.push({ start: e.start, end: null, at: e.at });
      log(`live: alarm opened at row ${e.start} (score of row ${e.at} above the threshold)`);
    } else {
      const a = v.alarms.find((x) => x.end === null && x.start === e.start);
      const closed = { start: e.start, end: e.end, at: e.at, features: e.features, peak: e.peak };
      if (a) Object.assign(a, closed);
      else v.alarms.push(closed);
      log(`live: alarm ${e.start}–${e.end} closed; top feature ${e.features.map((f) => `${f.name} ${percent(f.share)}`).join(', ')}`);
    }
  }
  if (b.events.length) {
    showAlarms();
    setNum('live-opened', v.alarms.length);
    setNum('live-closed', v.alarms.filter((a) => a.end !== null).length);
  }
  setNum('live-rows', b.rows);
  $('live-rows').dataset.batches = String(v.batches);
  setNum('live-rate', Math.round(b.rowsPerSec));
  setNum('live-push-ms', b.pushMs, 3);
  const k = b.scores.length - 1;
  if (k >= 0) {
    const i = b.from + k;
    const t = b.top[k];
    $('live-last').textContent =
      `row ${i}: score ${b.scores[k].toPrecision(4)} (${b.anomaly[k] ? 'above' : 'below'} the threshold)` +
      (t >= 0 ? `, top feature ${v.columns[t] ?? `column ${t}`} (${percent(b.topShare[k])})` : '');
  } else $('live-last').textContent = `warming up: the first score comes after ${v.delay + 1} rows`;
  redrawLiveSoon();
}

$('replay').onclick = async () => {
  clearError('live');
  clearLive();
  const speed = Number($<HTMLSelectElement>('replay-speed').value);
  state.replaying = true;
  maxGap = 0;
  lastTick = performance.now();
  $('live-status').textContent = 'replaying';
  refresh();
  try {
    const r = await call<ReplayResult>({ type: 'replay', speed });
    $('live-status').textContent = r.stopped ? 'stopped' : 'done';
    setNum('live-rows', r.rows);
    setNum('live-rate', Math.round(r.rowsPerSec));
    setNum('live-push-ms', r.pushMs, 3);
    setNum('live-opened', r.opened);
    setNum('live-closed', r.closed);
    setNum('live-compared', r.compared);
    setNum('live-max-diff', r.maxDiff);
    if (r.compared > 0) setNum('live-matching', r.closedMatching);
    $('live-check').textContent = r.compared === 0 ? (r.note ?? 'not compared') : r.maxDiff === 0 ? 'the same scores' : 'the scores differ';
    log(
      `live: ${r.stopped ? 'stopped' : 'replayed'} ${r.rows} of ${r.n} rows in ${r.seconds.toFixed(1)} s (${Math.round(r.rowsPerSec)} rows/s, ${r.pushMs.toFixed(3)} ms per push); ${r.opened} alarm(s) opened, ${r.closed} closed; ` +
        (r.compared > 0
          ? `${r.compared} live scores against det.score of the same rows: largest difference ${r.maxDiff}; ${r.closedMatching} of ${r.closed} closed alarms are its intervals`
          : (r.note ?? 'not compared')),
      r.compared > 0 && r.maxDiff !== 0,
    );
  } catch (e) {
    $('live-status').textContent = 'error';
    fail('live', 'replay', e);
  } finally {
    state.replaying = false;
    setNum('live-max-gap', Math.round(maxGap));
    refresh();
    drawLive();
  }
};

$('replay-stop').onclick = () => void call({ type: 'stopReplay' });

$<HTMLSelectElement>('replay-speed').onchange = () => {
  if (!state.replaying) return;
  const speed = Number($<HTMLSelectElement>('replay-speed').value);
  call({ type: 'replaySpeed', speed }).catch((e) => fail('live', 'replay speed', e));
};

// ------------------------------------------------------------------------------------------
// Files and IndexedDB

$('download').onclick = () =>
  action('download', 'model', async () => {
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
  void action('opening the model', 'model', async () => {
    clearScores();
    drawAll();
    showDetector(await call<DetectorSummary>({ type: 'importModel', file }));
    log(`opened ${file.name}`);
  });
};

function showStored(list: StoredEntry[], select?: string): void {
  const sel = $<HTMLSelectElement>('saved-models');
  const keep = select ?? sel.value;
  sel.replaceChildren(
    ...list.map(
      (m) =>
        new Option(`${m.name} (${m.description}; ${(m.bytes / 1024).toFixed(1)} KiB, ${new Date(m.savedAt).toLocaleString()})`, m.name),
    ),
  );
  if (list.some((m) => m.name === keep)) sel.value = keep;
  sel.dataset.names = JSON.stringify(list.map((m) => m.name));
  refresh();
}

$('save-idb').onclick = () =>
  action('saving', 'storage', async () => {
    const name = $<HTMLInputElement>('model-name').value.trim();
    showStored(await call<StoredEntry[]>({ type: 'save', name }), name);
    $('storage-status').textContent = `saved "${name}"`;
    log(`saved the model to IndexedDB as "${name}"`);
  });

$('load-idb').onclick = () =>
  action('loading', 'storage', async () => {
    const name = $<HTMLSelectElement>('saved-models').value;
    if (!name) throw new Error('no saved model chosen');
    clearScores();
    drawAll();
    showDetector(await call<DetectorSummary>({ type: 'load', name }));
    $('storage-status').textContent = `loaded "${name}"`;
    log(`loaded "${name}" from IndexedDB`);
  });

$('delete-idb').onclick = () =>
  action('deleting', 'storage', async () => {
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
    fail('backend', 'init', e);
  }
  try {
    showStored(await call<StoredEntry[]>({ type: 'list' }));
  } catch (e) {
    fail('storage', 'IndexedDB', e);
  }
  document.body.dataset.ready = 'true';
})();
