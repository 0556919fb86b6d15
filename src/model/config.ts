/**
 * The model configuration: defaults and checks, and the configuration read back from a file's tensors.
 */

import { isInt } from '../core/checks.js';
import { ConfigError, FormatError } from '../core/errors.js';

/** Model configuration (the keys saved in files, as in the SPEC). */
export interface LstmVaeConfig {
  /** 'continuous' (real-valued frames, default) or 'tokens' (ids from a tokenizer). */
  mode?: 'continuous' | 'tokens';
  /** D: features per step (continuous mode). */
  features?: number;
  /** H: LSTM hidden size. */
  hidden: number;
  /** Z: latent size. */
  latent: number;
  /** L: stacked LSTM layers (default 1). */
  layers?: number;
  /** Continuous decoder: 'repeat' (z at every step, default) or 'autoregressive' (previous frame and z). Token mode: 'autoregressive'. */
  decoder?: 'repeat' | 'autoregressive';
  /** V: vocabulary size (token mode). */
  vocabSize?: number;
  /** E: embedding size (token mode). */
  embedding?: number;
  /** Rate at which decoder inputs are replaced by the unknown token during training (token mode, default 0). */
  wordDropout?: number;
  /** Seed of initialisation, shuffling, dropout and sampling (default 0). */
  seed?: number;
  /** Recurrent weight initialisation: 'default' (uniform ±1/√H, as PyTorch) or 'orthogonal'. */
  recurrentInit?: 'default' | 'orthogonal';
  /** Forget-gate bias at initialisation (default: PyTorch's uniform init; e.g. 1 to start remembering). */
  forgetBias?: number;
}

export type Resolved = Required<Pick<LstmVaeConfig, 'mode' | 'hidden' | 'latent' | 'layers' | 'decoder' | 'seed'>> & {
  features: number;
  vocabSize: number;
  embedding: number;
  wordDropout: number;
  recurrentInit: 'default' | 'orthogonal';
  forgetBias?: number;
};

export const FORMAT_VERSION = 1;

export function resolveConfig(c: LstmVaeConfig): Resolved {
  if (c === null || typeof c !== 'object')
    throw new ConfigError('the model configuration must be an object', {
      argument: 'config',
      expected: '{ mode, features, hidden, latent, ... }',
      actual: c,
    });
  const mode = c.mode ?? 'continuous';
  if (mode !== 'continuous' && mode !== 'tokens')
    throw new ConfigError('unknown mode', { argument: 'config.mode', expected: "'continuous' | 'tokens'", actual: mode });
  const need = (name: keyof LstmVaeConfig, min: number, max?: number) => {
    const v = c[name];
    if (!isInt(v, min, max))
      throw new ConfigError(`config.${name} must be a whole number from ${min} to ${max ?? 1 << 20}`, {
        argument: `config.${name}`,
        expected: `${min}..${max ?? 1 << 20}`,
        actual: v,
      });
    return v;
  };
  const hidden = need('hidden', 1, 4096);
  const latent = need('latent', 1, 4096);
  const layers = c.layers === undefined ? 1 : need('layers', 1, 16);
  const seed = c.seed === undefined ? 0 : need('seed', 0, 2 ** 32 - 1);
  const recurrentInit = c.recurrentInit ?? 'default';
  if (recurrentInit !== 'default' && recurrentInit !== 'orthogonal')
    throw new ConfigError('unknown recurrentInit', {
      argument: 'config.recurrentInit',
      expected: "'default' | 'orthogonal'",
      actual: recurrentInit,
    });
  if (c.forgetBias !== undefined && !(typeof c.forgetBias === 'number' && Number.isFinite(c.forgetBias)))
    throw new ConfigError('forgetBias must be a finite number', {
      argument: 'config.forgetBias',
      expected: 'number',
      actual: c.forgetBias,
    });
  if (mode === 'continuous') {
    const features = need('features', 1, 1 << 16);
    const decoder = c.decoder ?? 'repeat';
    if (decoder !== 'repeat' && decoder !== 'autoregressive')
      throw new ConfigError('unknown decoder', { argument: 'config.decoder', expected: "'repeat' | 'autoregressive'", actual: decoder });
    return {
      mode,
      features,
      hidden,
      latent,
      layers,
      decoder,
      seed,
      vocabSize: 0,
      embedding: 0,
      wordDropout: 0,
      recurrentInit,
      forgetBias: c.forgetBias,
    };
  }
  const vocabSize = need('vocabSize', 5, 1 << 20);
  const embedding = need('embedding', 1, 4096);
  const wordDropout = c.wordDropout ?? 0;
  if (!(typeof wordDropout === 'number' && wordDropout >= 0 && wordDropout < 1))
    throw new ConfigError('wordDropout must be a number in [0, 1)', {
      argument: 'config.wordDropout',
      expected: '[0, 1)',
      actual: wordDropout,
    });
  if (c.decoder !== undefined && c.decoder !== 'autoregressive')
    throw new ConfigError('the token model has an autoregressive decoder only', {
      argument: 'config.decoder',
      expected: 'autoregressive',
      actual: c.decoder,
    });
  return {
    mode,
    features: 0,
    hidden,
    latent,
    layers,
    decoder: 'autoregressive',
    seed,
    vocabSize,
    embedding,
    wordDropout,
    recurrentInit,
    forgetBias: c.forgetBias,
  };
}

/** Sizes of a model from its tensors (files saved by PyTorch carry no config). */
export function inferConfig(t: Record<string, { shape: number[] }>): LstmVaeConfig {
  const need = (k: string) => {
    const v = t[k];
    if (!v) throw new FormatError(`the file has no config and no tensor ${k} to infer it from`, { argument: k, expected: 'present' });
    return v.shape;
  };
  const whh = need('encoder.lstm.weight_hh_l0');
  const H = whh[1];
  const Z = need('encoder.fc_mu.weight')[0];
  let L = 0;
  while (t[`encoder.lstm.weight_ih_l${L}`]) L++;
  if (t['embedding.weight']) {
    const [V, E] = need('embedding.weight');
    return { mode: 'tokens', vocabSize: V, embedding: E, hidden: H, latent: Z, layers: L, decoder: 'autoregressive', wordDropout: 0 };
  }
  const D = need('decoder.fc_out.weight')[0];
  const dIn = need('decoder.lstm.weight_ih_l0')[1];
  return { mode: 'continuous', features: D, hidden: H, latent: Z, layers: L, decoder: dIn === Z ? 'repeat' : 'autoregressive' };
}
