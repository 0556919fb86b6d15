/** RMSProp with optional momentum and L2 penalty (torch.optim.RMSprop). */

import type { UpdateRule } from './types.js';

export const rmsprop: UpdateRule = {
  slots: (o) => (o.momentum > 0 ? ['square_avg', 'momentum_buffer'] : ['square_avg']),
  step(k, { n, params, grads, slot, lr, options: o }) {
    k.rmsprop_step(
      n,
      params,
      grads,
      slot('square_avg'),
      lr,
      o.alpha,
      o.eps,
      o.weightDecay,
      o.momentum,
      o.momentum > 0 ? slot('momentum_buffer') : 0,
    );
  },
};
