/**
 * The training loop.
 */

import { wasm } from '../backend/index.js';
import { checkInt, checkKnownKeys } from '../core/checks.js';
import { ConfigError, DataError, FormatError, NumericError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { makeOptimizer, type Optimizer } from './optim/index.js';
import type { Trainable } from './trainable.js';
import type { ModelInput } from '../core/tensor.js';
import { betaAt } from './annealing.js';
import { EarlyStopping } from './early-stopping.js';
import { checkEmaDecay, WeightAverage } from './ema.js';
import { Plateau, plateauSettings } from './plateau.js';
import { type CheckpointInfo, checkpointWriter, makeCheckpoint, readCheckpoint, resume } from './checkpoint.js';
import { lrAt } from './schedules.js';
import { type Source, source } from './sources.js';
import type { EpochStats, FitOptions, History, TrainerState } from './types.js';

/** Every key `fit` reads (an unknown key is a ConfigError naming the closest, e.g. `epoch` → `epochs`). */
const FIT_OPTIONS = [
  'epochs',
  'maxSteps',
  'maxSeconds',
  'patience',
  'reduceLrOnPlateau',
  'batchSize',
  'shuffle',
  'validationSplit',
  'validationData',
  'optimizer',
  'learningRate',
  'optimizerOptions',
  'schedule',
  'warmupSteps',
  'clipNorm',
  'beta',
  'klAnnealing',
  'freeBits',
  'earlyStopping',
  'onBatchEnd',
  'onEpochEnd',
  'signal',
  'resumeFrom',
  'checkpointEvery',
  'checkpointPath',
  'onCheckpoint',
  'emaDecay',
] as const satisfies readonly (keyof FitOptions)[];

/** Without `epochs`: the default time budget, a safety net (the step budget and convergence are what stop a run). */
const DEFAULT_MAX_SECONDS = 3600;
/** Without `epochs`: the default batch size (with `epochs`: 32). */
const DEFAULT_CONVERGENT_BATCH = 16;
/**
 * Without `epochs`: the default decay of the averaged weights that validation measures and training ends with
 * (0.99 reached a lower validation loss than 0.999 or no averaging on every ECG5000 split; docs/training.md).
 */
const DEFAULT_EMA_DECAY = 0.99;
/**
 * Convergent training's optimizer when none is given: AdamW with its decoupled weight decay (0.01) at the same rate
 * as Adam (1e-3). Chosen 2026-12-04 on the held-out loss of normal ECG5000 beats that fit never saw, by a rule written
 * before the runs (lower on 6 of 9 runs, mean 16.11 against 16.20; docs/training.md). With `epochs`, Adam as before.
 */
const DEFAULT_CONVERGENT_OPTIMIZER = 'adamw';
const DEFAULT_MAX_STEPS = 20_000;

const yieldNow = () => new Promise<void>((r) => setTimeout(r, 0));

export async function fit(model: Trainable, data: ModelInput | AsyncIterable<ModelInput>, options: FitOptions = {}): Promise<History> {
  if (options === null || typeof options !== 'object')
    throw new ConfigError('fit options must be an object', { argument: 'options', expected: 'object', actual: options });
  checkKnownKeys(options, FIT_OPTIONS);
  const convergent = options.epochs === undefined;
  // convergent training's default batch: 16 reached a lower validation loss than 8 or 32 on ECG5000 (docs/training.md)
  const batchSize = checkInt(options.batchSize ?? (convergent ? DEFAULT_CONVERGENT_BATCH : 32), 'options.batchSize', 1);
  // 20,000 (patience 2,000): lower held-out normal-beat loss than 10,000 on 7 of 9 ECG5000 runs (docs/training.md)
  const maxSteps = checkInt(options.maxSteps ?? DEFAULT_MAX_STEPS, 'options.maxSteps', 1);
  const maxSeconds = options.maxSeconds ?? DEFAULT_MAX_SECONDS;
  if (!(typeof maxSeconds === 'number' && maxSeconds > 0))
    throw new ConfigError('maxSeconds must be > 0', { argument: 'options.maxSeconds', expected: '> 0', actual: maxSeconds });
  if (options.patience !== undefined) checkInt(options.patience, 'options.patience', 1);
  if (!convergent) {
    for (const key of ['maxSteps', 'maxSeconds', 'patience', 'reduceLrOnPlateau'] as const) {
      if (options[key] !== undefined && !(key === 'reduceLrOnPlateau' && options[key] === false))
        throw new ConfigError(`${key} goes with convergent training (no epochs); with epochs, training runs exactly that many epochs`, {
          argument: `options.${key}`,
          expected: 'undefined when epochs is given',
          actual: options[key],
        });
    }
  }
  const emaDecay = checkEmaDecay(options.emaDecay ?? (convergent ? DEFAULT_EMA_DECAY : 0));
  const shuffle = options.shuffle ?? true;
  const beta = options.beta ?? 1;
  if (!(typeof beta === 'number' && beta >= 0 && Number.isFinite(beta)))
    throw new ConfigError('beta must be >= 0', { argument: 'options.beta', expected: '>= 0', actual: beta });
  const clip = options.clipNorm;
  if (clip !== undefined && !(typeof clip === 'number' && clip > 0))
    throw new ConfigError('clipNorm must be > 0', { argument: 'options.clipNorm', expected: '> 0', actual: clip });
  const vs = options.validationSplit ?? (convergent && !options.validationData && options.earlyStopping?.monitor !== 'loss' ? 0.1 : 0);
  if (!(typeof vs === 'number' && vs >= 0 && vs < 1))
    throw new ConfigError('validationSplit must be in [0, 1)', { argument: 'options.validationSplit', expected: '[0, 1)', actual: vs });
  const every = options.checkpointEvery;
  if (every !== undefined) checkInt(every, 'options.checkpointEvery', 1);
  const ckPath = options.checkpointPath;
  if (ckPath !== undefined) {
    if (typeof ckPath !== 'string' || ckPath.length === 0)
      throw new ConfigError('checkpointPath must be a non-empty string', {
        argument: 'options.checkpointPath',
        expected: 'path',
        actual: ckPath,
      });
    if (!checkpointWriter())
      throw new ConfigError('checkpointPath needs Node (file system); in a browser, use onCheckpoint', {
        argument: 'options.checkpointPath',
        expected: 'undefined here',
        actual: ckPath,
      });
  }
  if (options.onCheckpoint !== undefined && typeof options.onCheckpoint !== 'function')
    throw new ConfigError('onCheckpoint must be a function', {
      argument: 'options.onCheckpoint',
      expected: '(bytes: Uint8Array) => void',
      actual: typeof options.onCheckpoint,
    });
  const checkpointing = every !== undefined || ckPath !== undefined || options.onCheckpoint !== undefined;
  if (checkpointing && every === undefined)
    throw new ConfigError('checkpointPath / onCheckpoint need checkpointEvery (steps between checkpoints)', {
      argument: 'options.checkpointEvery',
      expected: '>= 1',
      actual: every,
    });
  let ckInfo: CheckpointInfo | undefined;
  if (options.resumeFrom !== undefined) {
    if (!(options.resumeFrom instanceof Uint8Array))
      throw new ConfigError('resumeFrom takes the bytes of a checkpoint', {
        argument: 'options.resumeFrom',
        expected: 'Uint8Array',
        actual: (options.resumeFrom as object)?.constructor?.name ?? typeof options.resumeFrom,
      });
    ckInfo = readCheckpoint(options.resumeFrom);
  }
  const k = wasm();
  const isIter = data !== null && typeof data === 'object' && Symbol.asyncIterator in (data as object);
  let train: Source | undefined, val: Source | undefined;
  if (!isIter) {
    const all = source(model, data as ModelInput);
    if (all.n === 0) throw new DataError('no training data', { argument: 'data', expected: 'at least one sequence', actual: 0 });
    let nVal = Math.floor(all.n * vs);
    // the default split of convergent training needs at least 10 sequences; with fewer it monitors the training loss
    if (convergent && options.validationSplit === undefined && nVal < 1) nVal = 0;
    else if (vs > 0 && (nVal < 1 || nVal >= all.n))
      throw new DataError('validationSplit leaves no training or no validation data', {
        argument: 'options.validationSplit',
        expected: `a split of ${all.n} sequences with both parts non-empty`,
        actual: vs,
      });
    const nTrain = all.n - nVal;
    train = { n: nTrain, slice: (idx) => all.slice(idx) };
    if (nVal > 0) val = { n: nVal, slice: (idx) => all.slice(Int32Array.from(idx, (i) => i + nTrain)) };
  }
  if (options.validationData) val = source(model, options.validationData);
  const samples = train ? train.n : -1;
  const batchesPerEpoch = train ? Math.ceil(train.n / batchSize) : 0;
  // Convergent training: as many epochs as the step budget allows, early stopping on the validation loss
  // (the training loss without validation data), the best weights restored.
  const epochs = convergent ? (train ? Math.ceil(maxSteps / batchesPerEpoch) : maxSteps) : checkInt(options.epochs, 'options.epochs', 1);
  const es: FitOptions['earlyStopping'] =
    options.earlyStopping ??
    (convergent
      ? {
          // a tenth of the step budget (at least 150 steps) without improvement: the validation loss of a small
          // data set is noisy and still falls slowly long after a 150-step plateau (ECG5000 beats: 27.1 at 700 steps,
          // 12.2 at 4,700)
          patience: options.patience ?? Math.max(3, Math.ceil(Math.max(150, maxSteps / 10) / Math.max(1, batchesPerEpoch))),
          restoreBest: true,
          monitor: val ? 'valLoss' : 'loss',
        }
      : undefined);
  const tStart = performance.now();

  // Resume: weights, optimizer, generator and position from the checkpoint (all checked first).
  let opt: Optimizer;
  let restored: TrainerState | undefined;
  if (ckInfo) {
    const st = ckInfo.trainerState;
    if (st) {
      const mismatch = (name: string, expected: unknown, actual: unknown) =>
        new ConfigError(`the checkpoint was made with ${name} = ${JSON.stringify(expected)}; resuming needs the same data and ${name}`, {
          argument: name === 'samples' ? 'data' : `options.${name}`,
          expected,
          actual,
        });
      if (st.batchSize !== batchSize) throw mismatch('batchSize', st.batchSize, batchSize);
      if (st.shuffle !== shuffle) throw mismatch('shuffle', st.shuffle, shuffle);
      if (st.validationSplit !== vs) throw mismatch('validationSplit', st.validationSplit, vs);
      if ((st.emaDecay ?? 0) !== emaDecay) throw mismatch('emaDecay', st.emaDecay ?? 0, emaDecay);
      if (st.samples !== samples)
        throw new DataError(
          `the checkpoint was made training on ${st.samples === -1 ? 'an async iterable' : `${st.samples} sequences`}, this data has ${samples === -1 ? 'an async iterable' : `${samples}`}; resuming needs the same data`,
          { argument: 'data', expected: st.samples, actual: samples },
        );
      if (st.epoch > epochs || (st.epoch === epochs && st.batch > 0))
        throw new ConfigError(`the checkpoint is at epoch ${st.epoch}, beyond epochs = ${epochs}`, {
          argument: 'options.epochs',
          expected: `>= ${st.epoch + (st.batch > 0 ? 1 : 0)}`,
          actual: epochs,
        });
      if (train && st.batch > Math.ceil(train.n / batchSize))
        throw new FormatError("the checkpoint's batch position is past the end of its epoch", {
          argument: '__metadata__.trainer.batch',
          expected: `<= ${Math.ceil(train.n / batchSize)}`,
          actual: st.batch,
        });
      if (st.earlyStopping && !es)
        throw new ConfigError('the checkpoint was made with earlyStopping; resuming needs the same earlyStopping options', {
          argument: 'options.earlyStopping',
          expected: 'the same options',
          actual: undefined,
        });
    }
    const r = resume(model, ckInfo, options);
    opt = r.opt;
    restored = r.state;
    if (restored && restored.step !== opt.step_)
      throw new FormatError("the checkpoint's trainer step and optimizer step differ", {
        argument: '__metadata__.trainer.step',
        expected: opt.step_,
        actual: restored.step,
      });
  } else {
    opt = makeOptimizer(
      options.optimizer ?? (convergent ? DEFAULT_CONVERGENT_OPTIMIZER : 'adam'),
      options.learningRate,
      options.optimizerOptions,
    );
  }
  const baseLr = opt.options.lr;
  const stopper = new EarlyStopping(es, es?.monitor ?? (val ? 'valLoss' : 'loss'));
  // convergent training can lower the learning rate when the monitored loss stalls (reduceLrOnPlateau, off by default)
  const plateauSet = convergent && es ? plateauSettings(options.reduceLrOnPlateau, es.patience, baseLr) : undefined;
  const plateau = plateauSet ? new Plateau(plateauSet) : undefined;
  const history: History = { epochs: [], stopped: 'epochs' };
  const totalSteps = convergent ? maxSteps : batchesPerEpoch * epochs;
  let capped: 'max-steps' | 'max-seconds' | undefined;
  let step = opt.step_;
  let lastYield = performance.now();
  let startEpoch = 0;
  if (restored) {
    startEpoch = restored.epoch;
    history.epochs = restored.history.map((e) => ({ ...e }));
    stopper.restore(restored.earlyStopping, restored.bestWeights);
    plateau?.restore(restored.plateau);
  }
  // averaged weights (emaDecay > 0): what validation measures, early stopping keeps and training ends with
  const avg = emaDecay > 0 ? new WeightAverage(model, emaDecay, { from: restored?.emaWeights, updates: step }) : undefined;
  try {
    return await loop();
  } finally {
    avg?.dispose();
  }

  async function loop(): Promise<History> {
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
      version: 1,
      epoch: cur.epoch,
      batch: cur.batch,
      step,
      samples,
      batchSize,
      shuffle,
      validationSplit: vs,
      epochRng: [...epochRng],
      rng: cur.pending ? afterShuffle(epochRng) : model.rng.getState(),
      sums: { loss: cur.sum, recon: cur.sumR, kl: cur.sumK, seen: cur.seen },
      learningRate: cur.lr,
      beta: cur.beta,
      history: history.epochs.map((e) => ({ ...e })),
      ...(es ? { earlyStopping: stopper.state() } : {}),
      ...(plateau ? { plateau: plateau.state() } : {}),
      ...(stopper.bestWeights ? { bestWeights: stopper.bestWeights.slice() } : {}),
      ...(avg ? { emaDecay, emaWeights: avg.weights() } : {}),
    });
    let lastCheckpoint = -1;
    const checkpoint = async () => {
      if (!checkpointing || lastCheckpoint === step) return;
      lastCheckpoint = step;
      const bytes = makeCheckpoint(model, opt, state());
      if (ckPath !== undefined) await checkpointWriter()!(ckPath, bytes);
      if (options.onCheckpoint) await options.onCheckpoint(bytes);
    };
    if (restored) lastCheckpoint = step;
    if (restored && startEpoch >= epochs) {
      // nothing left to train: the generator as after the last epoch
      model.rng.setState(restored.epochRng);
      epochRng = [...restored.epochRng];
      cur = {
        epoch: startEpoch,
        batch: 0,
        sum: 0,
        sumR: 0,
        sumK: 0,
        seen: 0,
        lr: restored.learningRate,
        beta: restored.beta,
        pending: true,
      };
    }

    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const t0 = performance.now();
      const resuming = restored !== undefined && epoch === restored.epoch;
      if (resuming) model.rng.setState(restored!.epochRng);
      epochRng = model.rng.getState();
      cur = resuming
        ? {
            epoch,
            batch: restored!.batch,
            sum: restored!.sums.loss,
            sumR: restored!.sums.recon,
            sumK: restored!.sums.kl,
            seen: restored!.sums.seen,
            lr: restored!.learningRate,
            beta: restored!.beta,
            pending: false,
          }
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
        if (resuming)
          for (let b = 0; b < cur.batch; b++)
            if ((await iter.next()).done)
              throw new DataError(
                `the data ended after ${b} batches, but the checkpoint is at batch ${cur.batch} of this epoch; resuming needs the same data`,
                { argument: 'data', expected: `>= ${cur.batch} batches`, actual: b },
              );
      }
      if (resuming) model.rng.setState(restored!.rng);
      for (;;) {
        if (options.signal?.aborted) {
          await checkpoint();
          history.stopped = 'aborted';
          history.steps = step;
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
        const lrNow = lrAt(baseLr, step, totalSteps, options.schedule, options.warmupSteps ?? 0) * (plateau?.scale ?? 1);
        const betaNow = betaAt(beta, step, options.klAnnealing);
        const tb = performance.now();
        const r = model.lossAndGradientsInPlace(x, { beta: betaNow, freeBits: options.freeBits, train: true });
        const n = model.toBatch(x).B;
        const gradNorm = k.global_norm(model.size, model.grads.ptr);
        if (!Number.isFinite(r.loss) || !Number.isFinite(gradNorm)) {
          throw new NumericError(
            `training diverged: the loss is ${r.loss} (gradient norm ${gradNorm}) at step ${step} (epoch ${epoch}, batch ${cur.batch}); the weights were not updated — lower the learning rate or set clipNorm`,
            { argument: 'loss', expected: 'finite', actual: String(r.loss) },
          );
        }
        if (clip !== undefined && gradNorm > clip) k.scale_inplace(model.size, model.grads.ptr, clip / (gradNorm + 1e-6));
        opt.step(model, undefined, lrNow);
        avg?.update();
        step++;
        cur.sum += r.loss * n;
        cur.sumR += r.recon * n;
        cur.sumK += r.kl * n;
        cur.seen += n;
        cur.lr = lrNow;
        cur.beta = betaNow;
        const dt = (performance.now() - tb) / 1000;
        const batchIdx = cur.batch++;
        if (options.onBatchEnd)
          await options.onBatchEnd({
            epoch,
            batch: batchIdx,
            batches: batchesPerEpoch,
            step,
            loss: r.loss,
            recon: r.recon,
            kl: r.kl,
            beta: betaNow,
            learningRate: lrNow,
            gradNorm,
            seqPerSec: n / Math.max(dt, 1e-9),
          });
        if (every !== undefined && step % every === 0) await checkpoint();
        if (convergent) {
          if (step >= maxSteps) capped = 'max-steps';
          else if ((performance.now() - tStart) / 1000 >= maxSeconds) capped = 'max-seconds';
          if (capped) break;
        }
        if (performance.now() - lastYield > 50) {
          await yieldNow();
          lastYield = performance.now();
        }
      }
      const { sum, sumR, sumK, seen } = cur;
      if (seen === 0) throw new DataError('no training data', { argument: 'data', expected: 'at least one batch', actual: 0 });
      const seconds = (performance.now() - t0) / 1000;
      const stats: EpochStats = {
        epoch,
        loss: sum / seen,
        recon: sumR / seen,
        kl: sumK / seen,
        beta: cur.beta,
        learningRate: cur.lr,
        seqPerSec: seen / seconds,
        seconds,
      };
      // validation measures (and early stopping keeps) the averaged weights; training goes on from its own
      const live = avg ? model.weightsSnapshot() : undefined;
      if (avg) model.copyWeightsFrom(avg.weights());
      if (val) {
        let vl = 0,
          vr = 0,
          vk = 0;
        for (let s = 0; s < val.n; s += batchSize) {
          const idx = Int32Array.from({ length: Math.min(val.n, s + batchSize) - s }, (_, i) => s + i);
          // at the final KL weight, not klAnnealing's weight of the moment: early stopping compares epochs, and a loss
          // with a smaller β during the warm-up would look better than the same model's loss at the β it trains for
          const r = model.evaluate(val.slice(idx), { beta, freeBits: options.freeBits });
          vl += r.loss * idx.length;
          vr += r.recon * idx.length;
          vk += r.kl * idx.length;
        }
        stats.valLoss = vl / val.n;
        stats.valRecon = vr / val.n;
        stats.valKl = vk / val.n;
      }
      history.epochs.push(stats);
      // a training loss monitored under klAnnealing is taken at the final β too (recon + β·KL of the epoch), as the
      // validation loss is: otherwise the ramp itself raises the loss and runs out the patience
      const stop = stopper.update(options.klAnnealing ? { ...stats, loss: stats.recon + beta * stats.kl } : stats, epoch, model);
      if (live) model.copyWeightsFrom(live);
      if (options.onEpochEnd) await options.onEpochEnd(stats);
      // the next epoch's start (also the position reported if training ends here)
      epochRng = model.rng.getState();
      cur = { epoch: epoch + 1, batch: 0, sum: 0, sumR: 0, sumK: 0, seen: 0, lr: cur.lr, beta: cur.beta, pending: true };
      plateau?.update(stopper.bestEpoch === epoch);
      if (stop) {
        history.stopped = convergent ? 'converged' : 'early-stopping';
        break;
      }
      if (capped) {
        history.stopped = capped;
        break;
      }
    }
    if (convergent && history.stopped === 'epochs') history.stopped = 'max-steps';
    history.steps = step;
    history.trainerState = state();
    if (stopper.restoreBest(model)) history.bestEpoch = stopper.bestEpoch;
    else if (avg) model.copyWeightsFrom(avg.weights());
    // did the model learn more than each sequence's mean? (continuous models, on the validation data)
    if (val && model.diagnose) history.diagnostics = model.diagnose(val.slice(Int32Array.from({ length: val.n }, (_, i) => i)));
    return history;
  }
}
