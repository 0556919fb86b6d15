/**
 * The parameter layout (names and shapes, PyTorch's) and orthogonal initialisation.
 */

import type { Rng } from '../core/rng.js';
import { type LstmVaeConfig, resolveConfig } from './config.js';

export type { ParamSpec } from '../train/trainable.js';

function lstmSpecs(prefix: string, input: number, H: number, L: number): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (let k = 0; k < L; k++) {
    out.push(
      [`${prefix}weight_ih_l${k}`, [4 * H, k === 0 ? input : H]],
      [`${prefix}weight_hh_l${k}`, [4 * H, H]],
      [`${prefix}bias_ih_l${k}`, [4 * H]],
      [`${prefix}bias_hh_l${k}`, [4 * H]],
    );
  }
  return out;
}

/** State-dict keys and shapes of a configuration (the SPEC's table, in PyTorch's order). */
export function parameterShapes(config: LstmVaeConfig): [string, number[]][] {
  const c = resolveConfig(config);
  const { hidden: H, latent: Z, layers: L } = c;
  const heads: [string, number[]][] = [
    ['encoder.fc_mu.weight', [Z, H]],
    ['encoder.fc_mu.bias', [Z]],
    ['encoder.fc_logvar.weight', [Z, H]],
    ['encoder.fc_logvar.bias', [Z]],
  ];
  if (c.mode === 'continuous') {
    const D = c.features;
    return [
      ...lstmSpecs('encoder.lstm.', D, H, L),
      ...heads,
      ...lstmSpecs('decoder.lstm.', c.decoder === 'repeat' ? Z : D + Z, H, L),
      ['decoder.fc_out.weight', [D, H]],
      ['decoder.fc_out.bias', [D]],
    ];
  }
  const { vocabSize: V, embedding: E } = c;
  return [
    ['embedding.weight', [V, E]],
    ...lstmSpecs('encoder.lstm.', E, H, L),
    ...heads,
    ['decoder.fc_init.weight', [2 * L * H, Z]],
    ['decoder.fc_init.bias', [2 * L * H]],
    ...lstmSpecs('decoder.lstm.', E + Z, H, L),
    ['decoder.fc_out.weight', [V, H]],
    ['decoder.fc_out.bias', [V]],
  ];
}

/** Fills an H×H block with a random orthogonal matrix (Gram–Schmidt on Gaussian rows). */
export function orthogonal(out: Float32Array, H: number, rng: Rng): void {
  const m = new Float64Array(H * H);
  for (let i = 0; i < H * H; i++) m[i] = rng.normal();
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < i; j++) {
      let d = 0;
      for (let k = 0; k < H; k++) d += m[i * H + k] * m[j * H + k];
      for (let k = 0; k < H; k++) m[i * H + k] -= d * m[j * H + k];
    }
    let n = 0;
    for (let k = 0; k < H; k++) n += m[i * H + k] ** 2;
    n = Math.sqrt(n) || 1;
    for (let k = 0; k < H; k++) m[i * H + k] /= n;
  }
  for (let i = 0; i < H * H; i++) out[i] = m[i];
}
