/**
 * The anomaly detector's options, their defaults and checks, and the types of what it gives back (detector.ts has
 * the detector itself).
 */

import { checkInt, checkKnownKeys } from '../core/checks.js';
import { ConfigError } from '../core/errors.js';
import type { BatchStats, EpochStats } from '../train/index.js';
import type { IntervalExplanation } from './explain.js';
import type { Progress } from './postprocess.js';

export interface DetectorOptions {
  /** Window length in rows of the input (default: from the dominant period, 32–128 points after aggregation; 64 without a period; a default window is shortened to a quarter of a short series, a given one is kept). */
  window?: number;
  /** Rows averaged into one point before windowing (default: ceil(period / 128) when the period is longer than 128, else 1). */
  aggregate?: number;
  /** LSTM hidden size (default 32) and latent size (default 8). */
  hidden?: number;
  latent?: number;
  /** KL weight (default 0.1). */
  beta?: number;
  learningRate?: number;
  batchSize?: number;
  /**
   * Training budget of each model: at most `maxSteps` optimizer steps (default 1000) and `maxSeconds` (default 40 s,
   * a safety net: on a 2-core x86 machine a model takes 2–10 s); each stops earlier when its validation loss stops
   * improving.
   */
  maxSteps?: number;
  maxSeconds?: number;
  /**
   * Models trained on the same windows, each from its own seed, whose point errors are averaged (default 3): one
   * model's scores depend on its seed (its initial weights and the order of its batches); the average of three
   * depends far less on it. 1 = a single model, as older detector files hold.
   */
  members?: number;
  /**
   * Score the windows' posterior means too (default true): a point is anomalous when its reconstruction error or its
   * latent score (how far its windows' posterior means lie from the training windows') crosses its bar; false = the
   * reconstruction error alone.
   */
  latentScore?: boolean;
  /**
   * Correct the errors of the last window − 1 rows for being held by fewer windows (default true): the c-th row from
   * the end is reconstructed only by the windows that hold it in their last c positions, which the model reconstructs
   * less well, so its error is divided by how much larger such errors are on the training series (`plan.tail`).
   * false = the errors as they come, as files made before it.
   */
  tailCorrection?: boolean;
  /** At most this many windows train the model (default 1024, evenly spaced over the series); scoring uses every window. */
  maxTrainWindows?: number;
  seed?: number;
  /** Column names, used in messages and saved with the detector. */
  columns?: string[];
  /** Called for every model in turn (`member` says which). */
  onBatchEnd?: (s: DetectorBatchStats) => void | Promise<void>;
  onEpochEnd?: (s: DetectorEpochStats) => void | Promise<void>;
  /**
   * Called while the trained models reconstruct every window of the training series to set the bars (after the
   * training; on a long series the longest part after it): `done` of `total` windows, over every model.
   */
  onProgress?: Progress;
  signal?: AbortSignal;
}

/** Options of `score`. */
export interface ScoreOptions {
  /** Called as the models reconstruct the series' windows: `done` of `total` windows, over every model. */
  onProgress?: Progress;
}

export interface DetectorScores {
  /**
   * Anomaly score of each row `[N]` (higher = more anomalous): its smoothed error, or its own error scaled by
   * `threshold / plan.pointThreshold` when that is larger (`pointScore`); these are compared with `threshold`.
   */
  scores: Float32Array;
  /** 1 for the rows inside a detected interval `[N]`. */
  anomalies: Uint8Array;
  threshold: number;
  /** Detected intervals, inclusive row indices. */
  intervals: Array<[number, number]>;
  /** Each feature's share of the row's squared reconstruction error `[N, D]` (rows sum to 1). */
  contributions: Float32Array;
  /** The detector's reconstruction of each row, in the input's units `[N, D]`. */
  reconstruction: Float32Array;
  /** Each feature's squared reconstruction error per row, in the detector's scaled units `[N, D]` (`contributions` are its shares per row). */
  errors: Float32Array;
  /** One per interval: which features and rows carry its error (`explainRows(r.errors, D, rows)` explains any other rows). */
  explanations: IntervalExplanation[];
}

export const DEFAULTS = {
  hidden: 32,
  latent: 8,
  beta: 0.1,
  learningRate: 3e-3,
  batchSize: 32,
  maxSteps: 1000,
  maxSeconds: 40,
  maxTrainWindows: 1024,
  members: 3,
  latentScore: true,
  tailCorrection: true,
};
/** The seed of member j is the detector's seed + MEMBER_SEED_STEP·j (modulo 2^32, the seeds' range). */
export const MEMBER_SEED_STEP = 7919;
export const MAX_MEMBERS = 16;
/** Tensor names of the models after the first in a detector file: `detector.member<j>.<name>`. */
export const MEMBER_PREFIX = 'detector.member';
export const MIN_WINDOW = 32;
export const MAX_WINDOW = 128;
export const NO_PERIOD_WINDOW = 64;

export function checkOptions(o: DetectorOptions): void {
  if (o === null || typeof o !== 'object')
    throw new ConfigError('options must be an object', { argument: 'options', expected: 'object', actual: o });
  checkKnownKeys(o, [
    'window',
    'aggregate',
    'hidden',
    'latent',
    'beta',
    'learningRate',
    'batchSize',
    'maxSteps',
    'maxSeconds',
    'maxTrainWindows',
    'members',
    'latentScore',
    'tailCorrection',
    'seed',
    'columns',
    'onBatchEnd',
    'onEpochEnd',
    'onProgress',
    'signal',
  ]);
  for (const key of ['window', 'aggregate', 'hidden', 'latent', 'batchSize', 'maxSteps', 'maxTrainWindows'] as const) {
    if (o[key] !== undefined) checkInt(o[key], `options.${key}`, key === 'window' ? 2 : 1);
  }
  if (o.members !== undefined) checkInt(o.members, 'options.members', 1, MAX_MEMBERS);
  checkSwitches(o);
}

/** `latentScore` and `tailCorrection`, when given, are true or false (a ConfigError naming the option otherwise). */
export function checkSwitches(o: { latentScore?: unknown; tailCorrection?: unknown }): void {
  for (const key of ['latentScore', 'tailCorrection'] as const)
    if (o[key] !== undefined && typeof o[key] !== 'boolean')
      throw new ConfigError(`options.${key} must be true or false`, {
        argument: `options.${key}`,
        expected: 'boolean',
        actual: o[key],
      });
}

/** A training callback's statistics, with which of the detector's models is training (0-based) and how many there are. */
export type DetectorBatchStats = BatchStats & { member: number; members: number };
export type DetectorEpochStats = EpochStats & { member: number; members: number };
