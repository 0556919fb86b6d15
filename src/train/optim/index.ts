/** Optimizers: one update rule per type (sgd.ts, rmsprop.ts, adam.ts), the Optimizer class and its factory. */

export { makeOptimizer, Optimizer } from './optimizer.js';
export type { OptimizerName, OptimizerOptions } from './types.js';
