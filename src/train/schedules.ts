/**
 * Learning-rate schedules and warm-up.
 */

export type Schedule =
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma?: number }
  | { type: 'exponential'; gamma: number }
  | { type: 'cosine'; totalSteps?: number; minLr?: number };

export function lrAt(base: number, step: number, totalSteps: number, s: Schedule | undefined, warmup: number): number {
  let lr = base;
  if (s && s.type === 'step') lr = base * (s.gamma ?? 0.1) ** Math.floor(step / s.stepSize);
  else if (s && s.type === 'exponential') lr = base * s.gamma ** step;
  else if (s && s.type === 'cosine') {
    const T = s.totalSteps ?? totalSteps;
    const min = s.minLr ?? 0;
    lr = min + 0.5 * (base - min) * (1 + Math.cos((Math.PI * Math.min(step, T)) / T));
  }
  if (warmup > 0 && step < warmup) lr *= (step + 1) / warmup;
  return lr;
}
