/** Adam (L2 penalty) and AdamW (decoupled weight decay), as torch.optim.Adam / AdamW. */

import type { UpdateRule } from './types.js';

export const adam: UpdateRule = {
  slots: () => ['exp_avg', 'exp_avg_sq'],
  step(k, { name, n, params, grads, slot, step, lr, options: o }) {
    k.adam_step(
      n,
      params,
      grads,
      slot('exp_avg'),
      slot('exp_avg_sq'),
      step,
      lr,
      o.betas[0],
      o.betas[1],
      o.eps,
      o.weightDecay,
      name === 'adamw',
    );
  },
};
