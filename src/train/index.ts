/** Training: the fit loop, schedules, KL annealing, checkpoints and optimizers, over the `Trainable` interface. */

export { fit } from './fit.js';
export { WeightAverage } from './ema.js';
export { lrAt, type Schedule } from './schedules.js';
export { betaAt, type KlAnnealing } from './annealing.js';
export type { BatchStats, Diagnostics, EpochStats, FitOptions, History, TrainerState } from './types.js';
export { makeCheckpoint, readCheckpoint, setCheckpointWriter, type CheckpointInfo } from './checkpoint.js';
export { makeOptimizer, Optimizer, type OptimizerName, type OptimizerOptions } from './optim/index.js';
export type { Trainable, ParamSpec, StepOptions } from './trainable.js';
