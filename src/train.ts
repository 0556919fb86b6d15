import { wasm } from './backend/index.js';
import { checkInt } from './core/checks.js';
import { ConfigError, DataError, FormatError, NumericError } from './core/errors.js';
import type { LstmVae, ModelInput } from './model.js';
import { makeOptimizer, Optimizer, type OptimizerName, type OptimizerOptions } from './optim.js';
import { Rng } from './core/rng.js';
import { decodeSafetensors } from './io/safetensors.js';

export type Schedule =
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma?: number }
  | { type: 'exponential'; gamma: number }
  | { type: 'cosine'; totalSteps?: number; minLr?: number };

export type KlAnnealing =
  | { type: 'constant' }
  | { type: 'linear'; steps: number }
  | { type: 'logistic'; k?: number; x0: number }
  | { type: 'cyclical'; period: number; ratio?: number };

export interface BatchStats {
  epoch: number; batch: number; batches: number; step: number;
  loss: number; recon: number; kl: number; beta: number; learningRate: number; gradNorm: number; seqPerSec: number;
}
export interface EpochStats {
  epoch: number; loss: number; recon: number; kl: number; beta: number; learningRate: number;
  valLoss?: number; valRecon?: number; valKl?: number; seqPerSec: number; seconds: number;
}
export interface History {
  epochs: EpochStats[];
  /** Why training ended: 'epochs', 'early-stopping' or 'aborted'. */
  stopped: 'epochs' | 'early-stopping' | 'aborted';
  /** Epoch whose weights the model holds after early stopping with restoreBest. */
  bestEpoch?: number;
  /**
   * Where training stopped (after the last epoch, at an abort, at early stopping): with the optimizer,
   * `model.checkpoint(optimizer, history.trainerState)` makes a checkpoint to resume from.
   */
  trainerState?: TrainerState;
}

/**
 * The position of a training run, saved in checkpoints (`__metadata__.trainer`, JSON) so that
 * `fit(data, { resumeFrom })` continues exactly where it stopped.
 */
export interface TrainerState {
  version: 1;
  /** Epoch in progress (0-based). */
  epoch: number;
  /** Batches of that epoch already done. */
  batch: number;
  /** Optimizer steps taken = position of the learning-rate and KL schedules. */
  step: number;
  /** Training sequences per epoch (in-memory data; -1 for an async iterable). */
  samples: number;
  batchSize: number;
  shuffle: boolean;
  validationSplit: number;
  /** The model's random generator before this epoch's shuffle (regenerates the epoch's order). */
  epochRng: number[];
  /** The model's random generator now (noise, word dropout, shuffles to come). */
  rng: number[];
  /** Sums over the epoch's finished batches (per sequence) for its statistics. */
  sums: { loss: number; recon: number; kl: number; seen: number };
  /** Learning rate and KL weight of the last batch. */
  learningRate: number;
  beta: number;
  /** Statistics of the finished epochs. */
  history: EpochStats[];
  earlyStopping?: { best: number | null; bestEpoch: number; bad: number };
  /** Best weights so far (early stopping with restoreBest), in the model's parameter order; saved as `trainer.best.<key>` tensors. */
  bestWeights?: Float32Array;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** Fraction of the data held out for validation (taken from the end, before shuffling). */
  validationSplit?: number;
  validationData?: ModelInput;
  optimizer?: OptimizerName | Optimizer;
  learningRate?: number;
  optimizerOptions?: OptimizerOptions;
  schedule?: Schedule;
  /** Linear learning-rate warm-up over this many steps. */
  warmupSteps?: number;
  /** Global-norm gradient clipping (PyTorch's clip_grad_norm_ rule). */
  clipNorm?: number;
  /** KL weight (default 1), or its final value with klAnnealing. */
  beta?: number;
  klAnnealing?: KlAnnealing;
  freeBits?: number;
  earlyStopping?: { patience: number; minDelta?: number; restoreBest?: boolean; monitor?: 'valLoss' | 'loss' };
  onBatchEnd?: (s: BatchStats) => void | Promise<void>;
  onEpochEnd?: (s: EpochStats) => void | Promise<void>;
  signal?: AbortSignal;
  /**
   * A checkpoint (from `checkpointEvery` / `onCheckpoint` / `model.checkpoint`) to continue from: its
   * weights, optimizer state, random generator, epoch, batch and history are restored, so the run
   * ends with the same weights, bit for bit, as one that was never interrupted (same build, same
   * data and options). The optimizer and its hyperparameters come from the checkpoint.
   */
  resumeFrom?: Uint8Array;
  /** Make a checkpoint every this many optimizer steps (and when aborted). */
  checkpointEvery?: number;
  /** Node: write each checkpoint to this path (atomically: a crash leaves the previous one). */
  checkpointPath?: string;
  /** Receives each checkpoint (safetensors bytes), e.g. to store it elsewhere. */
  onCheckpoint?: (bytes: Uint8Array) => void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

type Tensors = Record<string, { shape: number[]; data: Float32Array }>;

/** Writes checkpoint files (set by the Node entry to its atomic writer). */
let fileWriter: ((path: string, bytes: Uint8Array) => Promise<void>) | undefined;
/** @internal */
export function setCheckpointWriter(w: (path: string, bytes: Uint8Array) => Promise<void>): void {
  fileWriter = w;
}

/** @internal The bytes of `model.checkpoint(optimizer, state)`. */
export function makeCheckpoint(model: LstmVae, optimizer: Optimizer, state?: TrainerState): Uint8Array {
  if (!(optimizer instanceof Optimizer)) throw new ConfigError('checkpoint() needs the Optimizer that trains the model', { argument: 'optimizer', expected: 'Optimizer', actual: (optimizer as object)?.constructor?.name ?? typeof optimizer });
  const extra: Tensors = optimizer.stateTensors(model);
  const meta: Record<string, string> = { optimizer: JSON.stringify(optimizer.toJSON()) };
  if (state !== undefined) {
    if (state === null || typeof state !== 'object' || state.version !== 1) throw new ConfigError('trainerState must be the trainerState of a History', { argument: 'trainerState', expected: '{ version: 1, epoch, batch, ... }', actual: state });
    const { bestWeights, ...json } = state;
    if (bestWeights) {
      if (!(bestWeights instanceof Float32Array) || bestWeights.length !== model.size) throw new ConfigError('trainerState.bestWeights does not fit this model', { argument: 'trainerState.bestWeights', expected: `Float32Array of ${model.size}`, actual: bestWeights?.length });
      for (const s of model.specs) extra[`trainer.best.${s.key}`] = { shape: [...s.shape], data: bestWeights.slice(s.offset, s.offset + s.size) };
    }
    meta.trainer = JSON.stringify(json);
  }
  return model.toSafetensors(extra, meta);
}

export interface CheckpointInfo {
  /** The optimizer's name, hyperparameters and step. */
  optimizer?: { name: OptimizerName; options: OptimizerOptions; step: number };
  /** The training position (absent in a checkpoint made without one). */
  trainerState?: TrainerState;
  /** @internal */
  tensors: Tensors;
  /** @internal */
  config?: Record<string, unknown>;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isU32s = (v: unknown): v is number[] => Array.isArray(v) && v.length === 4 && v.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32) && v.some((x) => x !== 0);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function parseJson(meta: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(meta[key]);
  } catch {
    throw new FormatError(`the ${key} entry of the checkpoint is not valid JSON`, { argument: `__metadata__.${key}`, expected: 'JSON object', actual: meta[key].slice(0, 80) });
  }
}

/**
 * Reads the optimizer and trainer parts of a checkpoint (the model itself loads with
 * `LstmVae.fromSafetensors`). Throws FormatError on a malformed file.
 */
export function readCheckpoint(bytes: Uint8Array): CheckpointInfo {
  const { metadata, tensors } = decodeSafetensors(bytes, { maxHeaderBytes: 16 << 20 });
  const bad = (what: string, actual?: unknown) => new FormatError(`the checkpoint's ${what} is malformed`, { argument: what, actual });
  const out: CheckpointInfo = { tensors };
  if (metadata.config !== undefined) {
    const c = parseJson(metadata, 'config');
    if (!isObj(c)) throw bad('__metadata__.config', c);
    out.config = c;
  }
  if (metadata.optimizer !== undefined) {
    const o = parseJson(metadata, 'optimizer');
    if (!isObj(o) || typeof o.name !== 'string' || !isObj(o.options) || !isNat(o.step)) throw bad('__metadata__.optimizer', o);
    out.optimizer = { name: o.name as OptimizerName, options: o.options as OptimizerOptions, step: o.step };
  }
  if (metadata.trainer !== undefined) {
    const t = parseJson(metadata, 'trainer');
    if (!isObj(t)) throw bad('__metadata__.trainer', t);
    if (t.version !== 1) throw new FormatError(`the checkpoint's trainer state has version ${String(t.version)}, this package reads version 1`, { argument: '__metadata__.trainer.version', expected: 1, actual: t.version });
    const sums = t.sums as Record<string, unknown>;
    const es = t.earlyStopping as Record<string, unknown> | undefined;
    const ok = isNat(t.epoch) && isNat(t.batch) && isNat(t.step) && typeof t.samples === 'number' && Number.isSafeInteger(t.samples) && t.samples >= -1 &&
      isNat(t.batchSize) && t.batchSize >= 1 && typeof t.shuffle === 'boolean' && isNum(t.validationSplit) && isU32s(t.epochRng) && isU32s(t.rng) &&
      isObj(sums) && isNum(sums.loss) && isNum(sums.recon) && isNum(sums.kl) && isNat(sums.seen) && isNum(t.learningRate) && isNum(t.beta) &&
      Array.isArray(t.history) && t.history.every((e) => isObj(e) && isNat(e.epoch) && isNum(e.loss)) &&
      (es === undefined || (isObj(es) && (es.best === null || isNum(es.best)) && typeof es.bestEpoch === 'number' && Number.isInteger(es.bestEpoch) && isNat(es.bad)));
    if (!ok) throw bad('__metadata__.trainer', t);
    const state = t as unknown as TrainerState;
    const best = Object.keys(tensors).filter((k) => k.startsWith('trainer.best.'));
    if (best.length) {
      // flattened later against the model's parameter order (see restoreBest)
      (state as TrainerState & { bestTensors?: Tensors }).bestTensors = Object.fromEntries(best.map((k) => [k.slice('trainer.best.'.length), tensors[k]]));
    }
    out.trainerState = state;
  }
  return out;
}

/** The model's architecture keys (what must match to load weights and optimizer state). */
function architecture(c: Record<string, unknown>): string {
  const keys = ['mode', 'features', 'hidden', 'latent', 'layers', 'decoder', 'vocabSize', 'embedding', 'wordDropout'];
  return JSON.stringify(keys.map((k) => [k, c[k] ?? null]));
}

/** Restores weights and optimizer from a checkpoint; returns the optimizer and the trainer state. */
function resume(model: LstmVae, info: CheckpointInfo, options: FitOptions): { opt: Optimizer; state?: TrainerState } {
  if (!info.optimizer) throw new FormatError('resumeFrom is not a checkpoint: it has no __metadata__.optimizer (a plain model file? load it with LstmVae.fromSafetensors and train it without resumeFrom)', { argument: 'options.resumeFrom', expected: 'a checkpoint from checkpointEvery / onCheckpoint / model.checkpoint()' });
  const mine = model.toConfigJSON() as unknown as Record<string, unknown>;
  if (info.config && architecture(info.config) !== architecture(mine)) {
    throw new ConfigError('the checkpoint is of a different model', { argument: 'options.resumeFrom', expected: architecture(mine), actual: architecture(info.config) });
  }
  const ck = info.optimizer;
  const o = options.optimizer;
  if (o !== undefined && (o instanceof Optimizer ? o.name : o) !== ck.name) {
    throw new ConfigError(`the checkpoint continues a '${ck.name}' optimizer`, { argument: 'options.optimizer', expected: ck.name, actual: o instanceof Optimizer ? o.name : o });
  }
  let opt: Optimizer;
  try {
    opt = new Optimizer(ck.name, ck.options);
  } catch (e) {
    throw new FormatError(`the checkpoint's optimizer configuration is invalid: ${(e as Error).message}`, { argument: '__metadata__.optimizer' });
  }
  if (options.learningRate !== undefined && options.learningRate !== opt.options.lr) {
    throw new ConfigError('resuming continues the checkpoint\'s learning rate; leave learningRate out or pass the same value', { argument: 'options.learningRate', expected: opt.options.lr, actual: options.learningRate });
  }
  const wanted = o instanceof Optimizer ? o.options : options.optimizerOptions ?? {};
  for (const [k, v] of Object.entries(wanted)) {
    const have = (opt.options as Record<string, unknown>)[k];
    if (v !== undefined && JSON.stringify(v) !== JSON.stringify(have)) {
      throw new ConfigError(`resuming continues the checkpoint's optimizer; its ${k} differs`, { argument: o instanceof Optimizer ? `options.optimizer.options.${k}` : `options.optimizerOptions.${k}`, expected: have, actual: v });
    }
  }
  if (o instanceof Optimizer) opt = o;
  const own: Tensors = {};
  for (const [k, v] of Object.entries(info.tensors)) if (!k.startsWith('optimizer.') && !k.startsWith('trainer.')) own[k] = v;
  model.loadStateDict(own);
  try {
    opt.loadState(model, ck.step, info.tensors);
  } catch (e) {
    throw new FormatError(`the checkpoint's optimizer state is incomplete: ${(e as Error).message}`, { argument: 'options.resumeFrom' });
  }
  const state = info.trainerState as (TrainerState & { bestTensors?: Tensors }) | undefined;
  if (state?.bestTensors) {
    const flat = new Float32Array(model.size);
    for (const s of model.specs) {
      const t = state.bestTensors[s.key];
      if (!t || t.data.length !== s.size) throw new FormatError(`the checkpoint lacks trainer.best.${s.key}`, { argument: `trainer.best.${s.key}`, expected: `${s.size} values`, actual: t ? t.data.length : 'missing' });
      flat.set(t.data, s.offset);
    }
    delete state.bestTensors;
    state.bestWeights = flat;
  }
  return { opt, state };
}

export function lrAt(base: number, step: number, totalSteps: number, s: Schedule | undefined, warmup: number): number {
  let lr = base;
  if (s && s.type === 'step') lr = base * Math.pow(s.gamma ?? 0.1, Math.floor(step / s.stepSize));
  else if (s && s.type === 'exponential') lr = base * Math.pow(s.gamma, step);
  else if (s && s.type === 'cosine') {
    const T = s.totalSteps ?? totalSteps;
    const min = s.minLr ?? 0;
    lr = min + 0.5 * (base - min) * (1 + Math.cos((Math.PI * Math.min(step, T)) / T));
  }
  if (warmup > 0 && step < warmup) lr *= (step + 1) / warmup;
  return lr;
}

export function betaAt(beta: number, step: number, a: KlAnnealing | undefined): number {
  if (!a || a.type === 'constant') return beta;
  if (a.type === 'linear') return beta * Math.min(1, step / a.steps);
  if (a.type === 'logistic') return beta / (1 + Math.exp(-(a.k ?? 0.0025) * (step - a.x0)));
  const ratio = a.ratio ?? 0.5;
  const pos = (step % a.period) / a.period;
  return beta * Math.min(1, pos / ratio);
}

interface Source {
  n: number;
  slice(idx: Int32Array): ModelInput;
}

/** Splits an in-memory data set into indexable sequences. */
function source(model: LstmVae, data: ModelInput): Source {
  const bt = model.toBatch(data, 'data');
  const { B, T } = bt;
  if (model.config.mode === 'continuous') {
    const D = model.config.features;
    return {
      n: B,
      slice(idx) {
        const out = new Float32Array(idx.length * T * D);
        idx.forEach((i, j) => out.set(bt.floats!.subarray(i * T * D, (i + 1) * T * D), j * T * D));
        const lengths = bt.lengths ? Int32Array.from(idx, (i) => bt.lengths![i]) : undefined;
        return { data: out, shape: [idx.length, T, D], lengths };
      },
    };
  }
  return {
    n: B,
    slice(idx) {
      const out = new Int32Array(idx.length * T);
      idx.forEach((i, j) => out.set(bt.ids!.subarray(i * T, (i + 1) * T), j * T));
      return { data: out, shape: [idx.length, T], lengths: Int32Array.from(idx, (i) => bt.lengths![i]) };
    },
  };
}

const yieldNow = () => new Promise<void>((r) => setTimeout(r, 0));

export async function fit(model: LstmVae, data: ModelInput | AsyncIterable<ModelInput>, options: FitOptions = {}): Promise<History> {
  if (options === null || typeof options !== 'object') throw new ConfigError('fit options must be an object', { argument: 'options', expected: 'object', actual: options });
  const epochs = checkInt(options.epochs ?? 10, 'options.epochs', 1);
  const batchSize = checkInt(options.batchSize ?? 32, 'options.batchSize', 1);
  const shuffle = options.shuffle ?? true;
  const beta = options.beta ?? 1;
  if (!(typeof beta === 'number' && beta >= 0 && Number.isFinite(beta))) throw new ConfigError('beta must be >= 0', { argument: 'options.beta', expected: '>= 0', actual: beta });
  const clip = options.clipNorm;
  if (clip !== undefined && !(typeof clip === 'number' && clip > 0)) throw new ConfigError('clipNorm must be > 0', { argument: 'options.clipNorm', expected: '> 0', actual: clip });
  const vs = options.validationSplit ?? 0;
  if (!(typeof vs === 'number' && vs >= 0 && vs < 1)) throw new ConfigError('validationSplit must be in [0, 1)', { argument: 'options.validationSplit', expected: '[0, 1)', actual: vs });
  const every = options.checkpointEvery;
  if (every !== undefined) checkInt(every, 'options.checkpointEvery', 1);
  const ckPath = options.checkpointPath;
  if (ckPath !== undefined) {
    if (typeof ckPath !== 'string' || ckPath.length === 0) throw new ConfigError('checkpointPath must be a non-empty string', { argument: 'options.checkpointPath', expected: 'path', actual: ckPath });
    if (!fileWriter) throw new ConfigError('checkpointPath needs Node (file system); in a browser, use onCheckpoint', { argument: 'options.checkpointPath', expected: 'undefined here', actual: ckPath });
  }
  if (options.onCheckpoint !== undefined && typeof options.onCheckpoint !== 'function') throw new ConfigError('onCheckpoint must be a function', { argument: 'options.onCheckpoint', expected: '(bytes: Uint8Array) => void', actual: typeof options.onCheckpoint });
  const checkpointing = every !== undefined || ckPath !== undefined || options.onCheckpoint !== undefined;
  if (checkpointing && every === undefined) throw new ConfigError('checkpointPath / onCheckpoint need checkpointEvery (steps between checkpoints)', { argument: 'options.checkpointEvery', expected: '>= 1', actual: every });
  let ckInfo: CheckpointInfo | undefined;
  if (options.resumeFrom !== undefined) {
    if (!(options.resumeFrom instanceof Uint8Array)) throw new ConfigError('resumeFrom takes the bytes of a checkpoint', { argument: 'options.resumeFrom', expected: 'Uint8Array', actual: (options.resumeFrom as object)?.constructor?.name ?? typeof options.resumeFrom });
    ckInfo = readCheckpoint(options.resumeFrom);
  }
  const k = wasm();
  const isIter = data !== null && typeof data === 'object' && Symbol.asyncIterator in (data as object);
  let train: Source | undefined, val: Source | undefined;
  if (!isIter) {
    const all = source(model, data as ModelInput);
    if (all.n === 0) throw new DataError('no training data', { argument: 'data', expected: 'at least one sequence', actual: 0 });
    const nVal = Math.floor(all.n * vs);
    if (vs > 0 && (nVal < 1 || nVal >= all.n)) throw new DataError('validationSplit leaves no training or no validation data', { argument: 'options.validationSplit', expected: `a split of ${all.n} sequences with both parts non-empty`, actual: vs });
    const nTrain = all.n - nVal;
    train = { n: nTrain, slice: (idx) => all.slice(idx) };
    if (nVal > 0) val = { n: nVal, slice: (idx) => all.slice(Int32Array.from(idx, (i) => i + nTrain)) };
  }
  if (options.validationData) val = source(model, options.validationData);
  const samples = train ? train.n : -1;

  // Resume: weights, optimizer, generator and position from the checkpoint (all checked first).
  let opt: Optimizer;
  let restored: TrainerState | undefined;
  if (ckInfo) {
    const st = ckInfo.trainerState;
    if (st) {
      const mismatch = (name: string, expected: unknown, actual: unknown) =>
        new ConfigError(`the checkpoint was made with ${name} = ${JSON.stringify(expected)}; resuming needs the same data and ${name}`, { argument: name === 'samples' ? 'data' : `options.${name}`, expected, actual });
      if (st.batchSize !== batchSize) throw mismatch('batchSize', st.batchSize, batchSize);
      if (st.shuffle !== shuffle) throw mismatch('shuffle', st.shuffle, shuffle);
      if (st.validationSplit !== vs) throw mismatch('validationSplit', st.validationSplit, vs);
      if (st.samples !== samples) throw new DataError(`the checkpoint was made training on ${st.samples === -1 ? 'an async iterable' : `${st.samples} sequences`}, this data has ${samples === -1 ? 'an async iterable' : `${samples}`}; resuming needs the same data`, { argument: 'data', expected: st.samples, actual: samples });
      if (st.epoch > epochs || (st.epoch === epochs && st.batch > 0)) throw new ConfigError(`the checkpoint is at epoch ${st.epoch}, beyond epochs = ${epochs}`, { argument: 'options.epochs', expected: `>= ${st.epoch + (st.batch > 0 ? 1 : 0)}`, actual: epochs });
      if (train && st.batch > Math.ceil(train.n / batchSize)) throw new FormatError('the checkpoint\'s batch position is past the end of its epoch', { argument: '__metadata__.trainer.batch', expected: `<= ${Math.ceil(train.n / batchSize)}`, actual: st.batch });
      if (st.earlyStopping && !options.earlyStopping) throw new ConfigError('the checkpoint was made with earlyStopping; resuming needs the same earlyStopping options', { argument: 'options.earlyStopping', expected: 'the same options', actual: undefined });
    }
    const r = resume(model, ckInfo, options);
    opt = r.opt;
    restored = r.state;
    if (restored && restored.step !== opt.step_) throw new FormatError('the checkpoint\'s trainer step and optimizer step differ', { argument: '__metadata__.trainer.step', expected: opt.step_, actual: restored.step });
  } else {
    opt = makeOptimizer(options.optimizer, options.learningRate, options.optimizerOptions);
  }
  const baseLr = opt.options.lr;
  const es = options.earlyStopping;
  const monitor = es?.monitor ?? (val ? 'valLoss' : 'loss');
  let best = Infinity, bestEpoch = -1, bestWeights: Float32Array | undefined, bad = 0;
  const history: History = { epochs: [], stopped: 'epochs' };
  const batchesPerEpoch = train ? Math.ceil(train.n / batchSize) : 0;
  const totalSteps = batchesPerEpoch * epochs;
  let step = opt.step_;
  let lastYield = performance.now();
  let startEpoch = 0;
  if (restored) {
    startEpoch = restored.epoch;
    history.epochs = restored.history.map((e) => ({ ...e }));
    if (restored.earlyStopping) {
      best = restored.earlyStopping.best ?? Infinity;
      bestEpoch = restored.earlyStopping.bestEpoch;
      bad = restored.earlyStopping.bad;
    }
    bestWeights = restored.bestWeights;
  }

  // The state of the run at a batch boundary (see TrainerState).
  let epochRng: number[] = model.rng.getState();
  // `pending`: the epoch has not started, its shuffle is still to come (at the end of an epoch)
  let cur = { epoch: startEpoch, batch: 0, sum: 0, sumR: 0, sumK: 0, seen: 0, lr: baseLr, beta, pending: false };
  /** The generator after the shuffle of an epoch that starts from `from` (TrainerState.rng's meaning). */
  const afterShuffle = (from: number[]): number[] => {
    if (!train || !shuffle) return [...from];
    const g = new Rng();
    g.setState(from);
    g.shuffle(new Int32Array(train.n));
    return g.getState();
  };
  const state = (): TrainerState => ({
    version: 1, epoch: cur.epoch, batch: cur.batch, step, samples, batchSize, shuffle, validationSplit: vs,
    epochRng: [...epochRng], rng: cur.pending ? afterShuffle(epochRng) : model.rng.getState(),
    sums: { loss: cur.sum, recon: cur.sumR, kl: cur.sumK, seen: cur.seen }, learningRate: cur.lr, beta: cur.beta,
    history: history.epochs.map((e) => ({ ...e })),
    ...(es ? { earlyStopping: { best: Number.isFinite(best) ? best : null, bestEpoch, bad } } : {}),
    ...(bestWeights ? { bestWeights: bestWeights.slice() } : {}),
  });
  let lastCheckpoint = -1;
  const checkpoint = async () => {
    if (!checkpointing || lastCheckpoint === step) return;
    lastCheckpoint = step;
    const bytes = makeCheckpoint(model, opt, state());
    if (ckPath !== undefined) await fileWriter!(ckPath, bytes);
    if (options.onCheckpoint) await options.onCheckpoint(bytes);
  };
  if (restored) lastCheckpoint = step;
  if (restored && startEpoch >= epochs) {
    // nothing left to train: the generator as after the last epoch
    model.rng.setState(restored.epochRng);
    epochRng = [...restored.epochRng];
    cur = { epoch: startEpoch, batch: 0, sum: 0, sumR: 0, sumK: 0, seen: 0, lr: restored.learningRate, beta: restored.beta, pending: true };
  }

  for (let epoch = startEpoch; epoch < epochs; epoch++) {
    const t0 = performance.now();
    const resuming = restored !== undefined && epoch === restored.epoch;
    if (resuming) model.rng.setState(restored!.epochRng);
    epochRng = model.rng.getState();
    cur = resuming
      ? { epoch, batch: restored!.batch, sum: restored!.sums.loss, sumR: restored!.sums.recon, sumK: restored!.sums.kl, seen: restored!.sums.seen, lr: restored!.learningRate, beta: restored!.beta, pending: false }
      : { epoch, batch: 0, sum: 0, sumR: 0, sumK: 0, seen: 0, lr: baseLr, beta, pending: false };
    const batches: (() => ModelInput)[] = [];
    let iter: AsyncIterator<ModelInput> | undefined;
    if (train) {
      const order = Int32Array.from({ length: train.n }, (_, i) => i);
      if (shuffle) model.rng.shuffle(order);
      for (let s = 0; s < train.n; s += batchSize) {
        const idx = order.subarray(s, Math.min(train.n, s + batchSize));
        batches.push(() => train!.slice(idx));
      }
    } else {
      iter = (data as AsyncIterable<ModelInput>)[Symbol.asyncIterator]();
      // an async iterable resumes by replaying the epoch up to the checkpoint's batch
      if (resuming) for (let b = 0; b < cur.batch; b++) if ((await iter.next()).done) throw new DataError(`the data ended after ${b} batches, but the checkpoint is at batch ${cur.batch} of this epoch; resuming needs the same data`, { argument: 'data', expected: `>= ${cur.batch} batches`, actual: b });
    }
    if (resuming) model.rng.setState(restored!.rng);
    for (;;) {
      if (options.signal?.aborted) {
        await checkpoint();
        history.stopped = 'aborted';
        history.trainerState = state();
        return history;
      }
      let x: ModelInput;
      if (train) {
        if (cur.batch >= batches.length) break;
        x = batches[cur.batch]();
      } else {
        const r = await iter!.next();
        if (r.done) break;
        x = r.value;
      }
      const lrNow = lrAt(baseLr, step, totalSteps, options.schedule, options.warmupSteps ?? 0);
      const betaNow = betaAt(beta, step, options.klAnnealing);
      const tb = performance.now();
      const r = model.lossAndGradientsInPlace(x, { beta: betaNow, freeBits: options.freeBits, train: true });
      const n = model.toBatch(x).B;
      const gradNorm = k.global_norm(model.size, model.grads.ptr);
      if (!Number.isFinite(r.loss) || !Number.isFinite(gradNorm)) {
        throw new NumericError(`training diverged: the loss is ${r.loss} (gradient norm ${gradNorm}) at step ${step} (epoch ${epoch}, batch ${cur.batch}); the weights were not updated — lower the learning rate or set clipNorm`, { argument: 'loss', expected: 'finite', actual: String(r.loss) });
      }
      if (clip !== undefined && gradNorm > clip) k.scale_inplace(model.size, model.grads.ptr, clip / (gradNorm + 1e-6));
      opt.step(model, undefined, lrNow);
      step++;
      cur.sum += r.loss * n; cur.sumR += r.recon * n; cur.sumK += r.kl * n; cur.seen += n;
      cur.lr = lrNow; cur.beta = betaNow;
      const dt = (performance.now() - tb) / 1000;
      const batchIdx = cur.batch++;
      if (options.onBatchEnd) await options.onBatchEnd({ epoch, batch: batchIdx, batches: batchesPerEpoch, step, loss: r.loss, recon: r.recon, kl: r.kl, beta: betaNow, learningRate: lrNow, gradNorm, seqPerSec: n / Math.max(dt, 1e-9) });
      if (every !== undefined && step % every === 0) await checkpoint();
      if (performance.now() - lastYield > 50) {
        await yieldNow();
        lastYield = performance.now();
      }
    }
    const { sum, sumR, sumK, seen } = cur;
    if (seen === 0) throw new DataError('no training data', { argument: 'data', expected: 'at least one batch', actual: 0 });
    const seconds = (performance.now() - t0) / 1000;
    const stats: EpochStats = { epoch, loss: sum / seen, recon: sumR / seen, kl: sumK / seen, beta: cur.beta, learningRate: cur.lr, seqPerSec: seen / seconds, seconds };
    if (val) {
      let vl = 0, vr = 0, vk = 0;
      for (let s = 0; s < val.n; s += batchSize) {
        const idx = Int32Array.from({ length: Math.min(val.n, s + batchSize) - s }, (_, i) => s + i);
        const r = model.evaluate(val.slice(idx), { beta: cur.beta, freeBits: options.freeBits });
        vl += r.loss * idx.length; vr += r.recon * idx.length; vk += r.kl * idx.length;
      }
      stats.valLoss = vl / val.n; stats.valRecon = vr / val.n; stats.valKl = vk / val.n;
    }
    history.epochs.push(stats);
    if (options.onEpochEnd) await options.onEpochEnd(stats);
    // the next epoch's start (also the position reported if training ends here)
    epochRng = model.rng.getState();
    cur = { epoch: epoch + 1, batch: 0, sum: 0, sumR: 0, sumK: 0, seen: 0, lr: cur.lr, beta: cur.beta, pending: true };
    if (es) {
      const m = monitor === 'valLoss' ? stats.valLoss : stats.loss;
      if (m === undefined) throw new ConfigError('earlyStopping monitors valLoss but there is no validation data', { argument: 'options.earlyStopping.monitor', expected: "'loss' or validation data", actual: monitor });
      if (m < best - (es.minDelta ?? 0)) {
        best = m; bestEpoch = epoch; bad = 0;
        if (es.restoreBest ?? true) bestWeights = model.weightsSnapshot();
      } else if (++bad >= es.patience) {
        history.stopped = 'early-stopping';
        break;
      }
    }
  }
  history.trainerState = state();
  if (es && (es.restoreBest ?? true) && bestWeights) {
    model.copyWeightsFrom(bestWeights);
    history.bestEpoch = bestEpoch;
  }
  return history;
}
