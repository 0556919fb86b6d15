// Timing helpers shared by every benchmark piece (plain ES module: Node, Bun, Deno, browsers).

export const median = (a) => quantile(a, 0.5);

/** Linear-interpolated quantile of a sample. */
export function quantile(a, q) {
  const s = [...a].sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  const p = (s.length - 1) * q,
    lo = Math.floor(p),
    hi = Math.ceil(p);
  return s[lo] + (s[hi] - s[lo]) * (p - lo);
}

/**
 * Runs `step` (sync or async) `warmup` times, then measures steps until `steps` are done, or, without
 * `steps`, until at least `minSteps` ran and `budgetMs` passed (at most `maxSteps`). A first warm-up
 * step slower than `budgetMs` lowers `minSteps` to 2 (large configurations on slow backends).
 * `cpuNow()` (optional, ms of process CPU time) adds the CPU time of each step.
 */
export async function timeSteps(step, { steps, warmup = 1, budgetMs = 3000, minSteps = 3, maxSteps = 50, cpuNow, onStep } = {}) {
  let slow = false;
  for (let i = 0; i < warmup; i++) {
    const s = performance.now();
    await step();
    if (performance.now() - s > budgetMs) slow = true;
    onStep?.();
  }
  if (slow) minSteps = Math.min(minSteps, 2);
  const times = [],
    cpu = [];
  const t0 = performance.now();
  for (;;) {
    const c = cpuNow?.();
    const s = performance.now();
    await step();
    times.push(performance.now() - s);
    if (cpuNow) cpu.push(cpuNow() - c);
    onStep?.();
    const n = times.length;
    if (steps ? n >= steps : (n >= minSteps && performance.now() - t0 >= budgetMs) || n >= maxSteps) break;
  }
  return { times, cpu: cpuNow ? cpu : null };
}

/** Summary of per-step times for a batch of `B` sequences: medians and spread, in seq/s and ms. */
export function summarize(times, B, cpu) {
  const med = median(times);
  const q1 = quantile(times, 0.25),
    q3 = quantile(times, 0.75);
  return {
    seqPerSec: B / (med / 1000),
    // seq/s at the slow and fast quartiles of the step time (the spread of the measurement)
    seqPerSecQ1: B / (q3 / 1000),
    seqPerSecQ3: B / (q1 / 1000),
    stepMs: {
      median: med,
      q1,
      q3,
      min: Math.min(...times),
      max: Math.max(...times),
      n: times.length,
      all: times.map((t) => +t.toFixed(3)),
    },
    cpuMsPerStep: cpu?.length ? median(cpu) : null,
  };
}
