/** SGD with optional momentum, dampening, Nesterov momentum and L2 penalty (torch.optim.SGD). */

import type { UpdateRule } from './types.js';

export const sgd: UpdateRule = {
  slots: (o) => (o.momentum > 0 ? ['momentum_buffer'] : []),
  step(k, { n, params, grads, slot, step, lr, options: o }) {
    k.sgd_step(
      n,
      params,
      grads,
      o.momentum > 0 ? slot('momentum_buffer') : 0,
      lr,
      o.momentum,
      o.dampening,
      o.nesterov,
      o.weightDecay,
      step === 1,
    );
  },
};
