/** The model: configuration, parameter layout, inputs, buffers, and the LstmVae class. */

export type { ModelInput, SequenceInput, TokenInput } from '../core/tensor.js';
export type { LstmVaeConfig } from './config.js';
export type { LossOptions, LossResult } from './loss.js';
export { parameterShapes } from './params.js';
export { LstmVae } from './lstm-vae.js';
