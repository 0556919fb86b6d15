/**
 * What training needs from a model: the `Trainable` interface `LstmVae` implements. `train/` depends
 * on this and not on the model, so the model can call `fit` without a cycle.
 */

import type { ModelInput } from '../core/tensor.js';

/** Where one named tensor lives in the flat parameter (and gradient) vector. */
export interface ParamSpec {
  key: string;
  shape: number[];
  offset: number;
  size: number;
}

/** A flat float32 vector in WebAssembly memory. */
export interface FlatBuffer {
  /** Byte offset in WebAssembly memory. */
  readonly ptr: number;
  /** A view of the values (invalidated when memory grows). */
  f32(): Float32Array;
}

/** The model's random generator: shuffles the training order; its state is saved in checkpoints. */
export interface TrainingRng {
  shuffle<T>(a: T[] | Int32Array): void;
  getState(): number[];
  setState(state: number[]): void;
}

/** A batch as the model reads it: B sequences of T steps. */
export interface TrainingBatch {
  B: number;
  T: number;
  /** continuous: [B,T,D] floats; tokens: [B,T] ids */
  floats?: Float32Array;
  ids?: Int32Array;
  lengths?: Int32Array;
}

export interface StepOptions {
  beta?: number;
  freeBits?: number;
  train?: boolean;
}

export interface Trainable {
  readonly config: { readonly mode: 'continuous' | 'tokens'; readonly features: number };
  /** Layout of the flat parameter vector, in order. */
  readonly specs: readonly ParamSpec[];
  /** Number of parameters. */
  readonly size: number;
  readonly params: FlatBuffer;
  readonly grads: FlatBuffer;
  readonly rng: TrainingRng;
  toBatch(x: unknown, name?: string): TrainingBatch;
  /** Loss of a batch, leaving the gradients in `grads`. */
  lossAndGradientsInPlace(x: ModelInput, options?: StepOptions): { loss: number; recon: number; kl: number };
  evaluate(x: ModelInput, options?: StepOptions): { loss: number; recon: number; kl: number };
  weightsSnapshot(): Float32Array;
  copyWeightsFrom(src: Float32Array): void;
  toConfigJSON(): object;
  loadStateDict(tensors: Record<string, { shape: number[]; data: Float32Array }>): void;
  toSafetensors(extraTensors?: Record<string, { shape: number[]; data: Float32Array }>, extraMeta?: Record<string, string>): Uint8Array;
  /** Whether the trained model learnt more than trivial reconstructions of `x` (continuous models; else undefined). */
  diagnose?(x: ModelInput): Diagnostics | undefined;
}

/** What training measured on validation data: `fit` on its validation sequences, `AnomalyDetector.fit` on its windows. */
export interface Diagnostics {
  /** Mean squared reconstruction error per window: the model's, the window mean's, last value carried forward. */
  modelError: number;
  meanError: number;
  lastValueError: number;
  /** KL divergence of each latent dimension (nats, mean over windows); below 0.01 a dimension carries nothing. */
  klPerDimension: number[];
  /** Dimensions with a KL of at least 0.01 nats. */
  activeDimensions: number;
  /** True when the model is no better than the window mean or its latent has collapsed. */
  notLearnt: boolean;
  /** One sentence: what was found, and what to do about it when something is wrong. */
  message: string;
}
