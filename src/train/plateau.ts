/**
 * Reduce-on-plateau for convergent training (opt-in, `reduceLrOnPlateau`): the learning rate is multiplied by `factor` whenever the monitored loss
 * (the one early stopping watches) has not improved for `patience` evaluations, down to `minLr`. Early stopping keeps
 * its own count (evaluations since the best one), so the run still stops `patience` evaluations after its best epoch.
 */

import { checkInt } from '../core/checks.js';
import { ConfigError } from '../core/errors.js';
import type { FitOptions, TrainerState } from './types.js';

/** Defaults of `reduceLrOnPlateau: true` (a quarter of the patience beat a half on ECG5000's validation loss; docs/training.md). */
export const PLATEAU_DEFAULTS = {
  /** Evaluations without improvement before a reduction, as a fraction of early stopping's patience. */
  patienceFraction: 0.25,
  factor: 0.5,
  /** The smallest learning rate, as a fraction of the initial one. */
  minLrFraction: 1 / 64,
};

export interface PlateauSettings {
  factor: number;
  patience: number;
  /** Smallest multiplier of the scheduled learning rate. */
  minScale: number;
}

/** Checks `options.reduceLrOnPlateau` and fills in its defaults; undefined when it is off. */
export function plateauSettings(
  option: FitOptions['reduceLrOnPlateau'],
  earlyStoppingPatience: number,
  baseLr: number,
): PlateauSettings | undefined {
  // off unless asked for: on ECG5000 it lowered the rate early and early stopping then came sooner, at a higher
  // validation loss than a constant rate (docs/training.md)
  if (option === undefined || option === false) return undefined;
  if (option !== undefined && option !== true && (option === null || typeof option !== 'object'))
    throw new ConfigError('reduceLrOnPlateau must be a boolean or { factor?, patience?, minLr? }', {
      argument: 'options.reduceLrOnPlateau',
      expected: 'boolean | object',
      actual: option,
    });
  const o = typeof option === 'object' ? option : {};
  for (const key of Object.keys(o))
    if (!['factor', 'patience', 'minLr'].includes(key))
      throw new ConfigError(`reduceLrOnPlateau has no option '${key}' (factor, patience, minLr)`, {
        argument: `options.reduceLrOnPlateau.${key}`,
        expected: 'factor | patience | minLr',
        actual: key,
      });
  const factor = o.factor ?? PLATEAU_DEFAULTS.factor;
  if (!(typeof factor === 'number' && factor > 0 && factor < 1))
    throw new ConfigError('reduceLrOnPlateau.factor must be in (0, 1)', {
      argument: 'options.reduceLrOnPlateau.factor',
      expected: '(0, 1)',
      actual: factor,
    });
  const patience =
    o.patience !== undefined
      ? checkInt(o.patience, 'options.reduceLrOnPlateau.patience', 1)
      : Math.max(1, Math.round(earlyStoppingPatience * PLATEAU_DEFAULTS.patienceFraction));
  const minLr = o.minLr ?? baseLr * PLATEAU_DEFAULTS.minLrFraction;
  if (!(typeof minLr === 'number' && minLr >= 0 && Number.isFinite(minLr)))
    throw new ConfigError('reduceLrOnPlateau.minLr must be >= 0', {
      argument: 'options.reduceLrOnPlateau.minLr',
      expected: '>= 0',
      actual: minLr,
    });
  return { factor, patience, minScale: baseLr > 0 ? Math.min(1, minLr / baseLr) : 1 };
}

export class Plateau {
  /** Multiplier of the scheduled learning rate. */
  scale = 1;
  /** Evaluations since the last improvement or reduction. */
  wait = 0;

  constructor(readonly settings: PlateauSettings) {}

  /** After an evaluation: returns true when it reduced the learning rate. */
  update(improved: boolean): boolean {
    if (improved) {
      this.wait = 0;
      return false;
    }
    if (++this.wait < this.settings.patience || this.scale <= this.settings.minScale) return false;
    this.scale = Math.max(this.settings.minScale, this.scale * this.settings.factor);
    this.wait = 0;
    return true;
  }

  state(): NonNullable<TrainerState['plateau']> {
    return { scale: this.scale, wait: this.wait };
  }

  restore(state: TrainerState['plateau']): void {
    if (!state) return;
    this.scale = state.scale;
    this.wait = state.wait;
  }
}
