/**
 * Averaged weights: an exponential moving average of a model's weights over the optimizer steps, kept in
 * WebAssembly memory and updated by one kernel pass after each step. `fit` uses it (`emaDecay`); a custom
 * training loop can too.
 */

import { wasm } from '../backend/index.js';
import { WasmBuffer } from '../backend/memory.js';
import { ConfigError } from '../core/errors.js';
import type { Trainable } from './trainable.js';

/**
 * The decay used after `n` updates: `min(decay, (1 + n) / (10 + n))`, the warm-up of TensorFlow's
 * `ExponentialMovingAverage(num_updates=n)`, so the first steps' weights (far from the rest of the run) fade fast.
 */
export function emaDecayAt(decay: number, n: number): number {
  return Math.min(decay, (1 + n) / (10 + n));
}

/** Checks a decay (a number in [0, 1); 0 = no averaging). */
export function checkEmaDecay(v: unknown, argument = 'options.emaDecay'): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= 1)
    throw new ConfigError(`${argument.replace(/^options\./, '')} must be a number in [0, 1) (0: no averaging)`, {
      argument,
      expected: '[0, 1)',
      actual: v,
    });
  return v;
}

/**
 * An exponential moving average of a model's weights (what `fit` validates and ends with, see `emaDecay`).
 *
 * ```ts
 * const opt = new Optimizer('adam');
 * const avg = new WeightAverage(model, 0.99);
 * for (const x of batches) {
 *   model.lossAndGradients(x);
 *   opt.step(model);
 *   avg.update();
 * }
 * avg.copyTo(model); // the model now holds the averaged weights
 * avg.dispose();
 * ```
 */
export class WeightAverage {
  readonly decay: number;
  /** Updates so far (the `n` of the warm-up). */
  updates: number;
  private readonly model: Pick<Trainable, 'size' | 'params' | 'copyWeightsFrom'>;
  private readonly buf: WasmBuffer;

  /**
   * Starts the average at the model's current weights (or at `from`, a saved average, after `updates` updates).
   */
  constructor(
    model: Pick<Trainable, 'size' | 'params' | 'copyWeightsFrom'>,
    decay: number,
    options: { from?: Float32Array; updates?: number } = {},
  ) {
    this.decay = checkEmaDecay(decay, 'decay');
    const n = options.updates ?? 0;
    if (!Number.isSafeInteger(n) || n < 0)
      throw new ConfigError('updates must be a whole number >= 0', { argument: 'options.updates', expected: '>= 0', actual: n });
    if (options.from !== undefined && !(options.from instanceof Float32Array && options.from.length === model.size))
      throw new ConfigError('from must hold one value per weight of the model', {
        argument: 'options.from',
        expected: `Float32Array of ${model.size}`,
        actual: (options.from as { length?: number })?.length,
      });
    this.model = model;
    this.updates = n;
    this.buf = new WasmBuffer(model.size);
    this.buf.set(options.from ?? model.params.f32());
  }

  /** After an optimizer step: `avg += (1 − d)·(weights − avg)`, `d = min(decay, (1 + n) / (10 + n))` after n updates. */
  update(): void {
    wasm().ema_update(this.model.size, this.buf.ptr, this.model.params.ptr, emaDecayAt(this.decay, this.updates));
    this.updates++;
  }

  /** A copy of the averaged weights, in the model's parameter order. */
  weights(): Float32Array {
    return this.buf.toFloat32Array();
  }

  /** Puts the averaged weights into the model. */
  copyTo(model: Pick<Trainable, 'size' | 'copyWeightsFrom'> = this.model): void {
    if (model.size !== this.model.size)
      throw new ConfigError('the model has a different number of weights than the average', {
        argument: 'model',
        expected: this.model.size,
        actual: model.size,
      });
    model.copyWeightsFrom(this.weights());
  }

  /** Frees the average's WebAssembly memory. */
  dispose(): void {
    this.buf.free();
  }
}
