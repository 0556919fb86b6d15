/**
 * KL annealing: the weight of the KL term at each step.
 */

export type KlAnnealing =
  | { type: 'constant' }
  | { type: 'linear'; steps: number }
  | { type: 'logistic'; k?: number; x0: number }
  | { type: 'cyclical'; period: number; ratio?: number };

export function betaAt(beta: number, step: number, a: KlAnnealing | undefined): number {
  if (!a || a.type === 'constant') return beta;
  if (a.type === 'linear') return beta * Math.min(1, step / a.steps);
  if (a.type === 'logistic') return beta / (1 + Math.exp(-(a.k ?? 0.0025) * (step - a.x0)));
  const ratio = a.ratio ?? 0.5;
  const pos = (step % a.period) / a.period;
  return beta * Math.min(1, pos / ratio);
}
