/**
 * Loss options and results.
 */

import { ConfigError } from '../core/errors.js';

export interface LossOptions {
  /** Noise of the reparameterisation `[B * Z]`; drawn from the model's generator if absent. */
  eps?: Float32Array;
  /** Weight of the KL term (default 1). */
  beta?: number;
  /** Free bits λ per latent dimension (default 0). */
  freeBits?: number;
  /** Apply word dropout (token mode; default false here, true in fit). */
  train?: boolean;
}

export interface LossResult {
  loss: number;
  recon: number;
  kl: number;
  /** Gradients of `loss` by state-dict key (same layouts as the weights). */
  gradients: Record<string, Float32Array>;
}

export function lossOptions(o: LossOptions): { beta: number; freeBits: number } {
  if (o === null || typeof o !== 'object')
    throw new ConfigError('options must be an object', { argument: 'options', expected: '{ eps?, beta?, freeBits? }', actual: o });
  const beta = o.beta ?? 1;
  const freeBits = o.freeBits ?? 0;
  if (!(typeof beta === 'number' && Number.isFinite(beta) && beta >= 0))
    throw new ConfigError('beta must be a finite number >= 0', { argument: 'options.beta', expected: '>= 0', actual: beta });
  if (!(typeof freeBits === 'number' && Number.isFinite(freeBits) && freeBits >= 0))
    throw new ConfigError('freeBits must be a finite number >= 0', { argument: 'options.freeBits', expected: '>= 0', actual: freeBits });
  return { beta, freeBits };
}
