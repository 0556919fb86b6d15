// One streaming measurement (bench/stream.mjs), the same in a Node process and in a browser Worker:
// a detector with windows of 100 points, hidden 32, latent 8, trained briefly on a seasonal series (the weights do not
// change the cost), then rows pushed one at a time: throughput and latency per push after the warm-up, CPU time per
// push when the runtime tells it (`cpuNow`, ms of process CPU), and the batch score's rows/s over the same rows.
import { median, quantile } from './stats.mjs';

export const WINDOW = 100;

export async function measureStream(pkg, { features, rows, info, cpuNow, members }) {
  const { AnomalyDetector } = pkg;
  const n = 1000 + 2 * WINDOW + 400 + rows;
  const data = new Float32Array(n * features);
  let st = 12345;
  const rand = () => {
    st = (st * 1664525 + 1013904223) >>> 0;
    return st / 2 ** 32 - 0.5;
  };
  for (let i = 0; i < n; i++)
    for (let j = 0; j < features; j++) data[i * features + j] = Math.sin((2 * Math.PI * i) / WINDOW + j) + 0.1 * rand();
  const train = { data: data.subarray(0, 1000 * features), shape: [1000, features] };
  const det = await AnomalyDetector.fit(train, {
    window: WINDOW,
    hidden: 32,
    latent: 8,
    maxSteps: 20,
    seed: 1,
    ...(members !== undefined ? { members } : {}),
  });
  try {
    const live = det.stream();
    const row = (i) => data.subarray(i * features, (i + 1) * features);
    let i = 1000;
    for (const end = i + live.delay + 200; i < end; i++) live.push(row(i));
    const times = new Float64Array(rows);
    const cpu = cpuNow ? new Float64Array(rows) : null;
    const c0 = cpuNow?.();
    const t0 = performance.now();
    for (let k = 0; k < rows; k++, i++) {
      const c = cpuNow?.();
      const s = performance.now();
      live.push(row(i));
      times[k] = performance.now() - s;
      if (cpu) cpu[k] = cpuNow() - c;
    }
    const total = performance.now() - t0;
    const cpuTotal = cpuNow ? cpuNow() - c0 : NaN;
    const m = live.delay + rows;
    const b0 = performance.now();
    det.score({ data: data.subarray((i - m) * features, i * features), shape: [m, features] });
    const batchMs = performance.now() - b0;
    return {
      features,
      members: det.models.length,
      threads: info.threads,
      build: info.build,
      window: det.plan.window,
      delay: live.delay,
      rows,
      rowsPerSecond: rows / (total / 1000),
      medianMs: median(times),
      p99Ms: quantile(times, 0.99),
      maxMs: Math.max(...times),
      // CPU time of the process per push (all its threads): what a push costs apart from waiting for a core
      cpuMeanMs: cpuTotal / rows,
      cpuMedianMs: cpu ? median(cpu) : NaN,
      cpuP99Ms: cpu ? quantile(cpu, 0.99) : NaN,
      batchRowsPerSecond: m / (batchMs / 1000),
      stateBytes: live.save().length,
    };
  } finally {
    det.dispose();
  }
}
