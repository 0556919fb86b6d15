/** Early stopping: the best monitored loss so far, epochs without improvement, the best weights. */

import { ConfigError } from '../core/errors.js';
import type { Trainable } from './trainable.js';
import type { EpochStats, FitOptions, TrainerState } from './types.js';

export class EarlyStopping {
  best = Infinity;
  bestEpoch = -1;
  bad = 0;
  bestWeights: Float32Array | undefined;

  constructor(
    private readonly options: FitOptions['earlyStopping'],
    readonly monitor: 'valLoss' | 'loss',
  ) {}

  /** Continues from a checkpoint's trainer state. */
  restore(state: TrainerState['earlyStopping'], bestWeights: Float32Array | undefined): void {
    if (state) {
      this.best = state.best ?? Infinity;
      this.bestEpoch = state.bestEpoch;
      this.bad = state.bad;
    }
    this.bestWeights = bestWeights;
  }

  /** The part of the trainer state a checkpoint saves. */
  state(): NonNullable<TrainerState['earlyStopping']> {
    return { best: Number.isFinite(this.best) ? this.best : null, bestEpoch: this.bestEpoch, bad: this.bad };
  }

  /** After an epoch: records an improvement (and the weights), or returns true when patience runs out. */
  update(stats: EpochStats, epoch: number, model: Pick<Trainable, 'weightsSnapshot'>): boolean {
    const es = this.options;
    if (!es) return false;
    const m = this.monitor === 'valLoss' ? stats.valLoss : stats.loss;
    if (m === undefined)
      throw new ConfigError('earlyStopping monitors valLoss but there is no validation data', {
        argument: 'options.earlyStopping.monitor',
        expected: "'loss' or validation data",
        actual: this.monitor,
      });
    if (m < this.best - (es.minDelta ?? 0)) {
      this.best = m;
      this.bestEpoch = epoch;
      this.bad = 0;
      if (es.restoreBest ?? true) this.bestWeights = model.weightsSnapshot();
      return false;
    }
    return ++this.bad >= es.patience;
  }

  /** At the end: puts the best weights back (when asked to); true if it did. */
  restoreBest(model: Pick<Trainable, 'copyWeightsFrom'>): boolean {
    if (!this.options || !(this.options.restoreBest ?? true) || !this.bestWeights) return false;
    model.copyWeightsFrom(this.bestWeights);
    return true;
  }
}
