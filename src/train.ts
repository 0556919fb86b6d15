import { wasm } from './backend/index.js';
import { ConfigError, DataError, NumericError } from './errors.js';
import type { LstmVae, ModelInput } from './model.js';
import { makeOptimizer, Optimizer, type OptimizerName, type OptimizerOptions } from './optim.js';

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
}

function posInt(v: unknown, name: string, def: number): number {
  const x = v ?? def;
  if (!(typeof x === 'number' && Number.isInteger(x) && x >= 1)) throw new ConfigError(`${name} must be a whole number >= 1`, { argument: `options.${name}`, expected: '>= 1', actual: v });
  return x;
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
  const epochs = posInt(options.epochs, 'epochs', 10);
  const batchSize = posInt(options.batchSize, 'batchSize', 32);
  const beta = options.beta ?? 1;
  if (!(typeof beta === 'number' && beta >= 0 && Number.isFinite(beta))) throw new ConfigError('beta must be >= 0', { argument: 'options.beta', expected: '>= 0', actual: beta });
  const clip = options.clipNorm;
  if (clip !== undefined && !(typeof clip === 'number' && clip > 0)) throw new ConfigError('clipNorm must be > 0', { argument: 'options.clipNorm', expected: '> 0', actual: clip });
  const vs = options.validationSplit ?? 0;
  if (!(typeof vs === 'number' && vs >= 0 && vs < 1)) throw new ConfigError('validationSplit must be in [0, 1)', { argument: 'options.validationSplit', expected: '[0, 1)', actual: vs });
  const opt = makeOptimizer(options.optimizer, options.learningRate, options.optimizerOptions);
  const baseLr = opt.options.lr;
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
  const es = options.earlyStopping;
  const monitor = es?.monitor ?? (val ? 'valLoss' : 'loss');
  let best = Infinity, bestEpoch = -1, bestWeights: Float32Array | undefined, bad = 0;
  const history: History = { epochs: [], stopped: 'epochs' };
  const batchesPerEpoch = train ? Math.ceil(train.n / batchSize) : 0;
  const totalSteps = batchesPerEpoch * epochs;
  let step = opt.step_;
  let lastYield = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const t0 = performance.now();
    let sum = 0, sumR = 0, sumK = 0, seen = 0, batchIdx = 0;
    const batches: (() => ModelInput)[] = [];
    let iter: AsyncIterator<ModelInput> | undefined;
    if (train) {
      const order = Int32Array.from({ length: train.n }, (_, i) => i);
      if (options.shuffle ?? true) model.rng.shuffle(order);
      for (let s = 0; s < train.n; s += batchSize) {
        const idx = order.subarray(s, Math.min(train.n, s + batchSize));
        batches.push(() => train!.slice(idx));
      }
    } else iter = (data as AsyncIterable<ModelInput>)[Symbol.asyncIterator]();
    let lrNow = baseLr, betaNow = beta;
    for (;;) {
      if (options.signal?.aborted) {
        history.stopped = 'aborted';
        return history;
      }
      let x: ModelInput;
      if (train) {
        if (batchIdx >= batches.length) break;
        x = batches[batchIdx]();
      } else {
        const r = await iter!.next();
        if (r.done) break;
        x = r.value;
      }
      lrNow = lrAt(baseLr, step, totalSteps, options.schedule, options.warmupSteps ?? 0);
      betaNow = betaAt(beta, step, options.klAnnealing);
      const tb = performance.now();
      const r = model.lossAndGradientsInPlace(x, { beta: betaNow, freeBits: options.freeBits, train: true });
      const n = model.toBatch(x).B;
      const gradNorm = k.global_norm(model.size, model.grads.ptr);
      if (!Number.isFinite(r.loss) || !Number.isFinite(gradNorm)) {
        throw new NumericError(`training diverged: the loss is ${r.loss} (gradient norm ${gradNorm}) at step ${step} (epoch ${epoch}, batch ${batchIdx}); the weights were not updated — lower the learning rate or set clipNorm`, { argument: 'loss', expected: 'finite', actual: String(r.loss) });
      }
      if (clip !== undefined && gradNorm > clip) k.scale_inplace(model.size, model.grads.ptr, clip / (gradNorm + 1e-6));
      opt.step(model, undefined, lrNow);
      step++;
      sum += r.loss * n; sumR += r.recon * n; sumK += r.kl * n; seen += n;
      const dt = (performance.now() - tb) / 1000;
      if (options.onBatchEnd) await options.onBatchEnd({ epoch, batch: batchIdx, batches: batchesPerEpoch, step, loss: r.loss, recon: r.recon, kl: r.kl, beta: betaNow, learningRate: lrNow, gradNorm, seqPerSec: n / Math.max(dt, 1e-9) });
      batchIdx++;
      if (performance.now() - lastYield > 50) {
        await yieldNow();
        lastYield = performance.now();
      }
    }
    if (seen === 0) throw new DataError('no training data', { argument: 'data', expected: 'at least one batch', actual: 0 });
    const seconds = (performance.now() - t0) / 1000;
    const stats: EpochStats = { epoch, loss: sum / seen, recon: sumR / seen, kl: sumK / seen, beta: betaNow, learningRate: lrNow, seqPerSec: seen / seconds, seconds };
    if (val) {
      let vl = 0, vr = 0, vk = 0;
      for (let s = 0; s < val.n; s += batchSize) {
        const idx = Int32Array.from({ length: Math.min(val.n, s + batchSize) - s }, (_, i) => s + i);
        const r = model.evaluate(val.slice(idx), { beta: betaNow, freeBits: options.freeBits });
        vl += r.loss * idx.length; vr += r.recon * idx.length; vk += r.kl * idx.length;
      }
      stats.valLoss = vl / val.n; stats.valRecon = vr / val.n; stats.valKl = vk / val.n;
    }
    history.epochs.push(stats);
    if (options.onEpochEnd) await options.onEpochEnd(stats);
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
  if (es && (es.restoreBest ?? true) && bestWeights) {
    model.copyWeightsFrom(bestWeights);
    history.bestEpoch = bestEpoch;
  }
  return history;
}
