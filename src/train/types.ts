/**
 * The options, statistics, history and trainer state of `fit`.
 */

import type { Optimizer, OptimizerName, OptimizerOptions } from './optim/index.js';
import type { ModelInput } from '../core/tensor.js';
import type { KlAnnealing } from './annealing.js';
import type { Schedule } from './schedules.js';
import type { Diagnostics } from './trainable.js';

export type { Diagnostics } from './trainable.js';

export interface BatchStats {
  epoch: number;
  batch: number;
  batches: number;
  step: number;
  loss: number;
  recon: number;
  kl: number;
  beta: number;
  learningRate: number;
  gradNorm: number;
  seqPerSec: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  recon: number;
  kl: number;
  beta: number;
  learningRate: number;
  /** Loss on the validation data at the final KL weight (`beta`, also while `klAnnealing` ramps it up). */
  valLoss?: number;
  valRecon?: number;
  valKl?: number;
  seqPerSec: number;
  seconds: number;
}

export interface History {
  epochs: EpochStats[];
  /**
   * Why training ended: 'epochs' (all requested epochs ran), 'early-stopping', 'aborted', or, without
   * `epochs`: 'converged' (the validation loss stopped improving), 'max-steps', 'max-seconds'.
   */
  stopped: 'epochs' | 'early-stopping' | 'aborted' | 'converged' | 'max-steps' | 'max-seconds';
  /** Optimizer steps taken (in all, counting a resumed run's earlier steps). */
  steps?: number;
  /**
   * Whether the model learnt more than trivial reconstructions, measured on the validation data after training: set by
   * `fit` for a continuous model with validation data (each sequence over its own length), and by `AnomalyDetector.fit`.
   */
  diagnostics?: Diagnostics;
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
  /** Reduce-on-plateau (convergent training): the multiplier of the learning rate and evaluations since the last improvement or reduction. */
  plateau?: { scale: number; wait: number };
  /** Best weights so far (early stopping with restoreBest), in the model's parameter order; saved as `trainer.best.<key>` tensors. */
  bestWeights?: Float32Array;
  /** The decay of the averaged weights (`emaDecay`; absent: no averaging). */
  emaDecay?: number;
  /** The averaged weights now (with `emaDecay`), in the model's parameter order; saved as `trainer.ema.<key>` tensors. */
  emaWeights?: Float32Array;
}

export interface FitOptions {
  /**
   * Exactly this many passes over the data, at the learning rate given (and its `schedule`). Left out, training
   * runs until it converges: it holds out a validation split (`validationSplit`, default 0.1, when no
   * `validationData` is given), optionally lowers the learning rate when the validation loss stalls
   * (`reduceLrOnPlateau`), stops when it has not improved for `patience` evaluations (one per epoch), restores the best weights, and never
   * runs past `maxSteps` optimizer steps or `maxSeconds`.
   */
  epochs?: number;
  /** Without `epochs`: the most optimizer steps (default 20,000). The budget is in steps, not epochs. */
  maxSteps?: number;
  /**
   * Without `epochs`: the most seconds of training (default 3,600), a safety net: the step budget and convergence
   * are what normally stop a run, so that the result does not depend on how busy the machine is.
   */
  maxSeconds?: number;
  /** Without `epochs`: evaluations (epochs) without improvement before stopping; default: a tenth of `maxSteps` (at least 150 steps, 3 epochs) in epochs. */
  patience?: number;
  /**
   * Without `epochs` (off by default; `true` for the defaults): multiply the learning rate by `factor` (default 0.5)
   * whenever the validation loss has not improved for `patience` evaluations (default: a quarter of early stopping's
   * patience), down to `minLr` (default: the initial rate / 64). Early stopping still counts from the best
   * evaluation, so training stops `patience` evaluations after it, with the best weights restored. Off by default:
   * on ECG5000 it made early stopping come sooner, at a higher validation loss (docs/training.md).
   */
  reduceLrOnPlateau?: boolean | { factor?: number; patience?: number; minLr?: number };
  /**
   * Average the weights over the optimizer steps (an exponential moving average with this decay, warmed up as
   * TensorFlow's `ExponentialMovingAverage(num_updates)`: `min(emaDecay, (1 + n) / (10 + n))` after n steps).
   * Validation measures the averaged weights, early stopping keeps the best of them, and training ends with them;
   * the optimizer keeps stepping its own. Default 0.99 without `epochs` (on ECG5000 it lowered the validation loss
   * on every split; docs/training.md), 0 (off) with `epochs`. An aborted run keeps the optimizer's weights.
   */
  emaDecay?: number;
  /** Sequences per optimizer step: default 32 with `epochs`, 16 without (convergent training; chosen on validation loss). */
  batchSize?: number;
  shuffle?: boolean;
  /** Fraction of the data held out for validation (taken from the end, before shuffling). */
  validationSplit?: number;
  validationData?: ModelInput;
  /** Default `'adamw'` (weight decay 0.01) for convergent training (no `epochs`), `'adam'` with `epochs`. */
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
  /**
   * Stop when the monitored loss (`valLoss` with validation data, else the training `loss`) has not improved for
   * `patience` epochs. Under `klAnnealing` both are compared at the final `beta`, not the warm-up's.
   */
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
