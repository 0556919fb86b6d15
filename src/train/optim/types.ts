/** Optimizer names, options, and the update rule each optimizer type implements. */

import type { wasm } from '../../backend/index.js';

export type OptimizerName = 'sgd' | 'momentum' | 'rmsprop' | 'adam' | 'adamw';

export interface OptimizerOptions {
  lr?: number;
  /** SGD / RMSProp momentum (default 0; 0.9 for 'momentum'). */
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 penalty (SGD, RMSProp, Adam) or decoupled decay (AdamW; default 0.01 as PyTorch). */
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
  /** RMSProp smoothing constant (default 0.99). */
  alpha?: number;
}

export type ResolvedOptimizerOptions = Required<Omit<OptimizerOptions, 'betas'>> & { betas: [number, number] };

/** One fused update over all parameters: what it reads and the state vectors (by slot name) it keeps. */
export interface UpdateArgs {
  name: OptimizerName;
  options: ResolvedOptimizerOptions;
  /** Number of parameters; pointers of the parameters and gradients in WebAssembly memory. */
  n: number;
  params: number;
  grads: number;
  /** Pointer of a state vector (allocated on first use). */
  slot: (name: string) => number;
  /** Step number, from 1. */
  step: number;
  lr: number;
}

/** An optimizer type: its state vectors and its update (one WebAssembly kernel call). */
export interface UpdateRule {
  slots(options: ResolvedOptimizerOptions): string[];
  step(k: ReturnType<typeof wasm>, a: UpdateArgs): void;
}
