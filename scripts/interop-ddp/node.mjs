// The Node half of the PyTorch DDP round trip (`npm run interop:ddp`, driven by run.mjs; docs/scale-out.md):
//
//   node scripts/interop-ddp/node.mjs train DIR   trains a small continuous model on a generated 3-feature series
//                                                 (z-scored, windows of 32) for a few hundred Adam steps with KL
//                                                 annealing and free bits, and writes DIR/checkpoint.safetensors
//                                                 (weights, config, metadata {normalizer, threshold, window},
//                                                 Adam state, trainer state), DIR/windows.safetensors (x [N, T, D])
//                                                 and DIR/node.json (the run's settings and losses)
//   node scripts/interop-ddp/node.mjs light DIR   the checks that need no torch: the checkpoint loads and carries
//                                                 what PyTorch needs, and train_ddp.py --plan (standard library
//                                                 only) maps Adam's state of every weight
//   node scripts/interop-ddp/node.mjs check DIR   after torchrun wrote DIR/model-ddp.safetensors, DIR/probe.json and
//                                                 DIR/ddp.json: the file loads with the same config and metadata,
//                                                 the loss kept falling, our forward equals PyTorch's (rtol 1e-5),
//                                                 fit({ resumeFrom }) continues from it, and it scores
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AnomalyDetector,
  decodeSafetensors,
  encodeSafetensors,
  init,
  LstmVae,
  Optimizer,
  percentileThreshold,
  readCheckpoint,
  windows,
  ZScoreNormalizer,
} from '../../dist/index.node.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const TRAIN_DDP = join(HERE, 'train_ddp.py');
export const PYTHON = process.env.PYTHON ?? 'python3';

/** The run: model, data and the loss settings shared by both sides. */
export const RUN = {
  rows: 1600,
  features: 3,
  window: 32,
  stride: 4,
  model: { mode: 'continuous', features: 3, hidden: 16, latent: 4, layers: 1, decoder: 'repeat', seed: 7 },
  epochs: 20,
  batchSize: 32,
  learningRate: 3e-3,
  beta: 0.5,
  klAnnealing: { type: 'linear', steps: 300 },
  freeBits: 0.05,
  clipNorm: 5,
  percentile: 99,
};

/** The loss settings of RUN as train_ddp.py arguments. */
const lossArgs = () => [
  '--beta',
  String(RUN.beta),
  '--kl-annealing',
  JSON.stringify(RUN.klAnnealing),
  '--free-bits',
  String(RUN.freeBits),
  '--clip-norm',
  String(RUN.clipNorm),
];

/** Steps of the step check (see stepCheck). */
export const STEP_CHECK = 3;

/**
 * The arguments of train_ddp.py that continue RUN's training (same loss, same annealing, same batch), after
 * the step check's few deterministic steps (DIR/steps-ddp.safetensors).
 */
export function torchArgs(dir, epochs = 5) {
  const f = (name) => join(dir, name);
  return [
    '--model',
    f('checkpoint.safetensors'),
    '--data',
    f('windows.safetensors'),
    '--out',
    f('model-ddp.safetensors'),
    '--probe',
    f('probe.json'),
    '--history',
    f('ddp.json'),
    '--step-check',
    f('steps-ddp.safetensors'),
    '--step-check-steps',
    String(STEP_CHECK),
    '--epochs',
    String(epochs),
    ...lossArgs(),
  ];
}

/** Why the PyTorch half cannot run here, or undefined when it can (torch with gloo, safetensors). */
export function torchProblem() {
  const code = 'import torch, safetensors, numpy, torch.distributed as d\nassert d.is_available() and d.is_gloo_available(), "no gloo"';
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} is not available (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} has no torch with gloo, safetensors and numpy (${r.stderr.trim().split('\n').pop()})`;
  return undefined;
}

/**
 * `torchrun --standalone --nproc_per_node 2 train_ddp.py ARGS` (run as `python3 -m torch.distributed.run`,
 * the Python that has torch). `inherit`: its output goes to this process's.
 */
export function torchrun(args, { inherit = false, timeoutMs = 600_000 } = {}) {
  const all = ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', TRAIN_DDP, ...args];
  const r = spawnSync(PYTHON, all, {
    encoding: 'utf8',
    stdio: inherit ? 'inherit' : 'pipe',
    timeout: timeoutMs,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** A deterministic 3-feature series: two periods, a coupled channel, a little seeded noise. */
export function series(n = RUN.rows) {
  let s = 0x2545f491;
  const rand = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const data = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = Math.sin((2 * Math.PI * i) / 40);
    data[i * 3] = 10 + 2 * a + 0.1 * rand();
    data[i * 3 + 1] = 0.5 * Math.cos((2 * Math.PI * i) / 40) + 0.3 * Math.sin((2 * Math.PI * i) / 13) + 0.05 * rand();
    data[i * 3 + 2] = 100 + 20 * a * a + rand();
  }
  return { data, shape: [n, 3] };
}

/** Fixed noise for evaluations (float32 values). */
const fixedEps = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + 1.1) * 0.9);

const read = (dir, name) => new Uint8Array(readFileSync(join(dir, name)));
const readJson = (dir, name) => JSON.parse(readFileSync(join(dir, name), 'utf8'));

function loadWindows(dir) {
  const { tensors } = decodeSafetensors(read(dir, 'windows.safetensors'));
  return { data: tensors.x.data, shape: tensors.x.shape };
}

/** The loss of `model` on all windows with a fixed eps, at the final KL weight (comparable before and after). */
function evalLoss(model, x) {
  return model.evaluate(x, { eps: fixedEps(x.shape[0] * RUN.model.latent), beta: RUN.beta, freeBits: RUN.freeBits });
}

export async function train(dir, log = console.log) {
  await init();
  const raw = series();
  const normalizer = new ZScoreNormalizer().fit(raw.data, RUN.features);
  const scaled = normalizer.transform(raw.data);
  const win = windows({ data: scaled, shape: [RUN.rows, RUN.features] }, RUN.window, RUN.stride);
  const x = { data: win.data, shape: win.shape };
  const model = new LstmVae(RUN.model);
  const opt = new Optimizer('adam', { lr: RUN.learningRate });
  const t0 = performance.now();
  const history = await model.fit(x, {
    epochs: RUN.epochs,
    batchSize: RUN.batchSize,
    optimizer: opt,
    beta: RUN.beta,
    klAnnealing: RUN.klAnnealing,
    freeBits: RUN.freeBits,
    clipNorm: RUN.clipNorm,
  });
  const seconds = (performance.now() - t0) / 1000;
  const threshold = percentileThreshold(model.anomalyScores(x), RUN.percentile);
  model.metadata = {
    normalizer: normalizer.toJSON(),
    threshold,
    window: { length: RUN.window, stride: RUN.stride },
  };
  writeFileSync(join(dir, 'checkpoint.safetensors'), model.checkpoint(opt, history.trainerState));
  writeFileSync(join(dir, 'windows.safetensors'), encodeSafetensors({ x: { shape: [...x.shape], data: x.data } }, {}));
  const last = history.epochs[history.epochs.length - 1];
  const evalBefore = evalLoss(model, x);
  const summary = {
    steps: history.steps,
    windows: x.shape[0],
    seconds,
    last: { loss: last.loss, recon: last.recon, kl: last.kl, beta: last.beta },
    eval: evalBefore,
    threshold,
  };
  writeFileSync(join(dir, 'node.json'), JSON.stringify(summary));
  log(
    `lstm-vae: ${x.shape[0]} windows of ${RUN.window} x ${RUN.features}, ${model.parameterCount} parameters, ` +
      `${history.steps} Adam steps (${RUN.epochs} epochs) in ${seconds.toFixed(1)} s; last epoch loss ${last.loss.toFixed(5)} ` +
      `(recon ${last.recon.toFixed(5)}, kl ${last.kl.toFixed(5)}, beta ${last.beta.toFixed(4)}); threshold ${threshold.toFixed(5)}`,
  );
  model.dispose();
  return summary;
}

function check(results, name, ok, detail) {
  results.push({ name, ok: !!ok, detail });
}

/** Runs train_ddp.py --plan (standard library only); undefined with a reason when python3 is missing. */
export function torchPlan(file) {
  const r = spawnSync(PYTHON, [TRAIN_DDP, '--model', file, '--plan'], { encoding: 'utf8' });
  if (r.error) return { skipped: `${PYTHON} is not available (${r.error.message})` };
  if (r.status !== 0) return { error: r.stderr.trim() };
  return { plan: JSON.parse(r.stdout.trim().split('\n').pop()) };
}

/** The checks that need no torch. Returns [{ name, ok, detail }]. */
export async function light(dir) {
  await init();
  const results = [];
  const bytes = read(dir, 'checkpoint.safetensors');
  const node = readJson(dir, 'node.json');
  const m = LstmVae.fromSafetensors(bytes);
  const info = readCheckpoint(bytes);
  check(
    results,
    'the checkpoint loads: config, normalizer and threshold',
    m.config.hidden === RUN.model.hidden && m.metadata.normalizer?.type === 'zscore' && m.metadata.threshold === node.threshold,
    `hidden ${m.config.hidden}, latent ${m.config.latent}, normalizer ${m.metadata.normalizer?.type}, threshold ${m.metadata.threshold}`,
  );
  const keys = Object.keys(m.stateDict());
  const slots = keys.flatMap((k) => ['exp_avg', 'exp_avg_sq'].map((s) => `optimizer.${k}.${s}`));
  const have = slots.filter((k) => info.tensors[k]?.data.length === m.stateDict()[k.split('.').slice(1, -1).join('.')].data.length);
  check(
    results,
    'it carries Adam state for every weight',
    info.optimizer?.name === 'adam' && info.optimizer.step === node.steps && have.length === slots.length,
    `${info.optimizer?.name} step ${info.optimizer?.step}, ${have.length}/${slots.length} moment tensors`,
  );
  const p = torchPlan(join(dir, 'checkpoint.safetensors'));
  if (p.skipped) {
    check(results, 'train_ddp.py --plan', true, `skipped: ${p.skipped}`);
  } else if (p.error) {
    check(results, 'train_ddp.py --plan', false, p.error);
  } else {
    const plan = p.plan;
    const mapped = Object.keys(plan.mapping).sort();
    check(
      results,
      'train_ddp.py --plan maps it to torch.optim.Adam and carries the metadata',
      plan.adam_state &&
        plan.step === node.steps &&
        JSON.stringify(mapped) === JSON.stringify([...keys].sort()) &&
        mapped.every(
          (k) => plan.mapping[k].exp_avg === `optimizer.${k}.exp_avg` && plan.mapping[k].exp_avg_sq === `optimizer.${k}.exp_avg_sq`,
        ) &&
        JSON.stringify(plan.metadata) === JSON.stringify(m.metadata) &&
        plan.trainer?.batchSize === RUN.batchSize,
      `Adam state of ${mapped.length}/${keys.length} weights, step ${plan.step}, batch ${plan.trainer?.batchSize}, metadata ${Object.keys(plan.metadata ?? {}).join(', ')}`,
    );
  }
  m.dispose();
  return results;
}

function worst(ours, ref, rtol = 1e-5, atol = 1e-6) {
  let r = 0,
    a = 0;
  if (ours.length !== ref.length) return { ratio: Infinity, abs: Infinity };
  for (let i = 0; i < ours.length; i++) {
    const e = Math.abs(ours[i] - ref[i]);
    r = Math.max(r, e / (atol + rtol * Math.abs(ref[i])));
    a = Math.max(a, e);
  }
  return { ratio: r, abs: a };
}

/** The checks after torchrun. Returns [{ name, ok, detail }]. */
export async function after(dir, log = console.log) {
  await init();
  const results = [];
  const node = readJson(dir, 'node.json');
  const ddp = readJson(dir, 'ddp.json');
  const probe = readJson(dir, 'probe.json');
  const bytes = read(dir, 'model-ddp.safetensors');
  const before = LstmVae.fromSafetensors(read(dir, 'checkpoint.safetensors'));
  const m = LstmVae.fromSafetensors(bytes);
  const info = readCheckpoint(bytes);
  check(
    results,
    'the PyTorch file loads with the same config and metadata (normalizer, threshold)',
    JSON.stringify(m.toConfigJSON()) === JSON.stringify(before.toConfigJSON()) &&
      JSON.stringify(m.metadata) === JSON.stringify(before.metadata),
    `config ${JSON.stringify(m.toConfigJSON())}, metadata ${Object.keys(m.metadata).join(', ')}`,
  );
  check(
    results,
    `Adam continued from our step (${ddp.optimizer})`,
    ddp.optimizer === 'mapped' && ddp.start_step === node.steps && info.optimizer?.step === ddp.end_step && ddp.world_size === 2,
    `steps ${node.steps} here + ${ddp.end_step - ddp.start_step} in PyTorch on ${ddp.world_size} processes = ${info.optimizer?.step}`,
  );
  const x = loadWindows(dir);
  const a = evalLoss(before, x);
  const b = evalLoss(m, x);
  log(`training loss, last epoch here:  ${node.last.loss.toFixed(5)} (beta ${node.last.beta.toFixed(4)}, step ${node.steps})`);
  for (const e of ddp.epochs)
    log(`training loss, PyTorch epoch ${e.epoch + 1}:  ${e.loss.toFixed(5)} (beta ${e.beta.toFixed(4)}, step ${e.step})`);
  log(
    `loss on all ${x.shape[0]} windows, fixed eps, beta ${RUN.beta}: ${a.loss.toFixed(5)} where our run stopped -> ${b.loss.toFixed(5)} after PyTorch`,
  );
  check(
    results,
    'the loss kept falling',
    b.loss < a.loss && ddp.epochs[ddp.epochs.length - 1].loss < ddp.epochs[0].loss,
    `${a.loss.toFixed(5)} -> ${b.loss.toFixed(5)} (recon ${a.recon.toFixed(5)} -> ${b.recon.toFixed(5)}); PyTorch epochs ${ddp.epochs[0].loss.toFixed(5)} -> ${ddp.epochs[ddp.epochs.length - 1].loss.toFixed(5)}`,
  );
  const px = { data: Float32Array.from(probe.x.data), shape: probe.x.shape };
  const r = m.evaluate(px, { eps: Float32Array.from(probe.eps), beta: probe.beta });
  const { mu, logvar } = m.encode(px);
  const y = m.reconstruct(px);
  const parts = {
    'loss/recon/kl': worst([r.loss, r.recon, r.kl], [probe.loss, probe.recon, probe.kl]),
    mu: worst(mu, probe.mu),
    logvar: worst(logvar, probe.logvar),
    y: worst(y, probe.y),
  };
  check(
    results,
    "our forward equals PyTorch's on the probe (rtol 1e-5, atol 1e-6)",
    Object.values(parts).every((p) => p.ratio <= 1),
    Object.entries(parts)
      .map(([k, p]) => `${k} ${p.abs.toExponential(1)} (${p.ratio.toFixed(2)})`)
      .join(', '),
  );
  const resumed = LstmVae.fromSafetensors(bytes);
  // the same loss and clipping (Adam's moments were accumulated from clipped gradients)
  const h = await resumed.fit(x, {
    epochs: 1,
    batchSize: RUN.batchSize,
    resumeFrom: bytes,
    beta: RUN.beta,
    freeBits: RUN.freeBits,
    clipNorm: RUN.clipNorm,
  });
  check(
    results,
    'fit({ resumeFrom }) continues from it',
    h.steps === ddp.end_step + Math.ceil(x.shape[0] / RUN.batchSize) && Number.isFinite(h.epochs[0].loss),
    `step ${ddp.end_step} -> ${h.steps}, loss ${h.epochs[0].loss.toFixed(5)}`,
  );
  const scores = m.anomalyScores(x);
  const above = (t) => scores.filter((s) => s > t).length;
  const fresh = percentileThreshold(scores, RUN.percentile);
  check(
    results,
    "it scores; the carried threshold is the Node model's",
    scores.every(Number.isFinite),
    `${above(m.metadata.threshold)} of ${scores.length} windows above the carried ${m.metadata.threshold.toFixed(5)}; ` +
      `${above(fresh)} above ${fresh.toFixed(5)}, the ${RUN.percentile}th percentile of this model's training scores`,
  );
  for (const mm of [before, m, resumed]) mm.dispose();
  return results;
}

/** src/train/annealing.ts betaAt for RUN's linear annealing. */
const betaAt = (step) => RUN.beta * Math.min(1, step / RUN.klAnnealing.steps);

/**
 * The step check: the checkpoint's model and Adam state, STEPS steps here on the first batches in file order
 * with eps = 0 (the same loss, annealing, free bits and clipping as fit), against the same steps taken by
 * train_ddp.py --step-check on 2 processes (DIR/steps-ddp.safetensors). Equal weights mean the Adam state, the step count,
 * the loss and the DDP gradient average all map exactly.
 */
export async function stepCheck(dir, steps = STEP_CHECK) {
  await init();
  const bytes = read(dir, 'checkpoint.safetensors');
  const m = LstmVae.fromSafetensors(bytes);
  const info = readCheckpoint(bytes);
  const opt = new Optimizer(info.optimizer.name, info.optimizer.options);
  opt.loadState(m, info.optimizer.step, info.tensors);
  const x = loadWindows(dir);
  const [, T, D] = x.shape;
  const Z = m.config.latent;
  for (let s = 0; s < steps; s++) {
    const B = Math.min(RUN.batchSize, x.shape[0] - s * RUN.batchSize);
    const batch = { data: x.data.subarray(s * RUN.batchSize * T * D, (s * RUN.batchSize + B) * T * D), shape: [B, T, D] };
    const r = m.lossAndGradients(batch, { eps: new Float32Array(B * Z), beta: betaAt(opt.step_), freeBits: RUN.freeBits });
    let norm = 0;
    for (const g of Object.values(r.gradients)) for (const v of g) norm += v * v;
    norm = Math.sqrt(norm);
    if (norm > RUN.clipNorm)
      for (const g of Object.values(r.gradients)) for (let i = 0; i < g.length; i++) g[i] *= RUN.clipNorm / (norm + 1e-6);
    opt.step(m, r.gradients);
  }
  const theirs = decodeSafetensors(read(dir, 'steps-ddp.safetensors')).tensors;
  const ours = m.stateDict();
  let ratio = 0,
    abs = 0,
    moved = 0;
  const start = LstmVae.fromSafetensors(bytes).stateDict();
  for (const [k, v] of Object.entries(ours)) {
    const w = worst(v.data, theirs[k].data, 1e-4, 1e-6);
    ratio = Math.max(ratio, w.ratio);
    abs = Math.max(abs, w.abs);
    for (let i = 0; i < v.data.length; i++) moved = Math.max(moved, Math.abs(v.data[i] - start[k].data[i]));
  }
  const stepOk = readCheckpoint(read(dir, 'steps-ddp.safetensors')).optimizer?.step === opt.step_;
  m.dispose();
  return [
    {
      name: `${steps} Adam steps here = the same ${steps} steps in PyTorch DDP (eps = 0, rtol 1e-4)`,
      ok: ratio <= 1 && stepOk,
      detail: `largest weight difference ${abs.toExponential(1)} (${ratio.toFixed(2)} of the tolerance; the steps moved weights by up to ${moved.toExponential(1)}), optimizer step ${opt.step_}`,
    },
  ];
}

/** The arguments of train_ddp.py for the detector: its series as a CSV, the detector's defaults. */
export function detectorArgs(dir, epochs = 3) {
  const f = (name) => join(dir, name);
  return [
    '--model',
    f('detector.safetensors'),
    '--series',
    f('series.csv'),
    '--out',
    f('detector-ddp.safetensors'),
    '--history',
    f('detector-ddp.json'),
    '--epochs',
    String(epochs),
  ];
}

const MISSING = [
  [100, 0],
  [500, 2],
  [501, 2],
];

/** DIR/series.csv as { data, shape } (an empty cell is NaN, a missing value). */
export function readSeriesCsv(dir) {
  const lines = readFileSync(join(dir, 'series.csv'), 'utf8').trim().split('\n').slice(1);
  const data = lines.flatMap((l) => l.split(',').map((v) => (v === '' ? NaN : Number(v))));
  return { data, shape: [lines.length, data.length / lines.length] };
}

/** The windows train_ddp.py makes of the detector's series (--dump-windows; numpy, no torch). */
export function torchDetectorWindows(dir) {
  const out = join(dir, 'windows-py.f32');
  const r = spawnSync(
    PYTHON,
    [TRAIN_DDP, '--model', join(dir, 'detector.safetensors'), '--series', join(dir, 'series.csv'), '--dump-windows', out],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) return { error: r.error ? r.error.message : r.stderr.trim().split('\n').pop() };
  const { shape } = JSON.parse(r.stdout.trim().split('\n').pop());
  const b = readFileSync(out);
  return { shape, data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) };
}

/** An anomaly detector (AnomalyDetector.fit, as `lstm-vae train series.csv`) on the same series: DIR/detector.safetensors, DIR/series.csv. */
export async function trainDetector(dir, log = console.log) {
  await init();
  const s = series();
  const [n, d] = s.shape;
  let csv = 'a,b,c\n';
  for (let i = 0; i < n; i++) csv += Array.from(s.data.subarray(i * d, (i + 1) * d), (v) => v.toFixed(6)).join(',') + '\n';
  // a few missing values (empty cells), interpolated by the detector and by train_ddp.py alike
  const lines = csv.split('\n');
  for (const [row, col] of MISSING) {
    const cells = lines[row + 1].split(',');
    cells[col] = '';
    lines[row + 1] = cells.join(',');
  }
  csv = lines.join('\n');
  writeFileSync(join(dir, 'series.csv'), csv);
  const rows = readSeriesCsv(dir).data;
  const det = await AnomalyDetector.fit({ data: rows, shape: [n, d] }, { seed: 1, maxSteps: 300, columns: ['a', 'b', 'c'] });
  writeFileSync(join(dir, 'detector.safetensors'), det.toSafetensors());
  log(
    `detector: window ${det.plan.window}, ${det.plan.training.steps} steps (${det.plan.training.stopped}), threshold ${det.plan.threshold.toFixed(5)}`,
  );
  det.dispose();
}

/** The detector's file as train_ddp.py --plan sees it (no torch): its plan carried, Adam restarting. */
export async function lightDetector(dir) {
  const p = torchPlan(join(dir, 'detector.safetensors'));
  if (p.skipped) return [{ name: 'a detector: train_ddp.py --plan', ok: true, detail: `skipped: ${p.skipped}` }];
  if (p.error) return [{ name: 'a detector: train_ddp.py --plan', ok: false, detail: p.error }];
  const det = p.plan.metadata?.detector;
  return [
    {
      name: 'a detector: train_ddp.py --plan carries its plan; Adam restarts (a model file has no optimizer state)',
      ok: !p.plan.adam_state && p.plan.step === 0 && det?.version === 1 && Array.isArray(det.center) && typeof det.threshold === 'number',
      detail: `window ${det?.window}, threshold ${det?.threshold}; ${p.plan.restart_reason}`,
    },
  ];
}

/** After train_ddp.py continued the detector: it loads as a detector with the same plan, and its scores fell. */
export async function afterDetector(dir, log = console.log) {
  await init();
  const results = [];
  const log2 = readJson(dir, 'detector-ddp.json');
  const a = AnomalyDetector.fromSafetensors(read(dir, 'detector.safetensors'));
  const b = AnomalyDetector.fromSafetensors(read(dir, 'detector-ddp.safetensors'));
  const x = readSeriesCsv(dir);
  const ra = a.score(x);
  const rb = b.score(x);
  const mean = (v) => v.reduce((s, e) => s + e, 0) / v.length;
  const flagged = (r) => r.anomalies.reduce((s, v) => s + v, 0);
  // the detector's training loss on its windows (made by train_ddp.py exactly as the detector makes them), fixed eps
  const w = torchDetectorWindows(dir);
  const wx = { data: w.data, shape: w.shape };
  const opts = { eps: fixedEps(w.shape[0] * a.model.config.latent), beta: 0.1 };
  const la = w.error ? NaN : a.model.evaluate(wx, opts).loss;
  const lb = w.error ? NaN : b.model.evaluate(wx, opts).loss;
  log(`detector: loss on its ${w.shape?.[0]} windows, fixed eps, beta 0.1: ${la.toFixed(5)} here -> ${lb.toFixed(5)} after PyTorch`);
  // a detector of several models: PyTorch continued the first; the others come back bit for bit
  const same = (m, n) => Object.entries(m.stateDict()).every(([k, t]) => t.data.every((v, i) => Object.is(v, n.stateDict()[k].data[i])));
  const othersKept = b.models.length === a.models.length && a.models.slice(1).every((m, j) => same(m, b.models[j + 1]));
  check(
    results,
    'a detector: the PyTorch file is a detector with the same plan (window, scaling, threshold) and its other models unchanged',
    JSON.stringify(b.plan) === JSON.stringify(a.plan) && rb.threshold === ra.threshold && othersKept,
    `window ${b.plan.window}, threshold ${rb.threshold.toFixed(5)}, ${b.models.length} models (the other ${b.models.length - 1} unchanged: ${othersKept}); Adam ${log2.optimizer} (${log2.restart_reason})`,
  );
  // Adam restarts here (a detector file has no optimizer state): its first steps raise the loss before it falls again,
  // so the check is on PyTorch's epochs, and the loss on the windows is reported
  const ep = log2.epochs;
  check(
    results,
    "a detector: PyTorch's training loss fell over its epochs, and it scores",
    ep.length >= 2 &&
      ep[ep.length - 1].loss < ep[0].loss &&
      log2.optimizer === 'restarted' &&
      log2.world_size === 2 &&
      rb.scores.every(Number.isFinite),
    `epochs ${ep.map((e) => e.loss.toFixed(3)).join(' -> ')}; on its windows ${w.error ?? `${la.toFixed(5)} -> ${lb.toFixed(5)}`}; ` +
      `mean score ${mean(ra.scores).toFixed(5)} -> ${mean(rb.scores).toFixed(5)}, points flagged ${flagged(ra)} -> ${flagged(rb)} of ${x.shape[0]}`,
  );
  a.dispose();
  b.dispose();
  return results;
}

export function report(results, log = console.log) {
  for (const r of results) log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
  return results.every((r) => r.ok);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, dir] = process.argv.slice(2);
  if (!dir || !['train', 'light', 'check'].includes(cmd)) {
    console.error('usage: node scripts/interop-ddp/node.mjs train|light|check DIR');
    process.exit(2);
  }
  if (cmd === 'train') await train(dir);
  else process.exit(report(cmd === 'light' ? await light(dir) : await after(dir)) ? 0 : 1);
}
