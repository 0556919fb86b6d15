#!/usr/bin/env node
// Streaming benchmark: det.stream().push(row), one row at a time, as `lstm-vae watch` does.
//   - detectors: univariate and 4 features, window 100 points, hidden 32, latent 8 (trained briefly: the weights do
//     not change the cost), no aggregation;
//   - each on 1 and 2 threads (init({ threads })), each configuration in a fresh Node process;
//   - throughput (rows/s over the measured pushes) and latency per push (median, p99, max), after the warm-up
//     (`delay` rows, which reconstruct no window, then 200 rows); beside it the batch score's cost per row
//     (det.score over the same rows) for reference.
// Usage: node bench/stream.mjs [--rows=N] [--threads=1,2] [--features=1,4] [--no-write]
// Writes bench/results/stream-latest.json and stream-latest.md, and prints the table.
// Needs dist/ (`npx tsup`). Node 20 needs --experimental-wasm-relaxed-simd for relaxed-mt: the children get it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median, quantile } from './lib/stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const argv = process.argv.slice(2);
const opt = (name, dflt) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const WINDOW = 100;

if (argv[0] === '--child') {
  const { features, threads, rows } = JSON.parse(argv[1]);
  const { AnomalyDetector, init } = await import(`${root}/dist/index.node.js`);
  const info = await init({ threads });
  // A seasonal series with period WINDOW (each feature its own phase): training data and the rows streamed.
  const n = Math.max(4 * WINDOW, 1000) + rows + 2000;
  const data = new Float32Array(n * features);
  let st = 12345;
  const rand = () => {
    st = (st * 1664525 + 1013904223) >>> 0;
    return st / 2 ** 32 - 0.5;
  };
  for (let i = 0; i < n; i++)
    for (let j = 0; j < features; j++) data[i * features + j] = Math.sin((2 * Math.PI * i) / WINDOW + j) + 0.1 * rand();
  const train = { data: data.subarray(0, 1000 * features), shape: [1000, features] };
  const det = await AnomalyDetector.fit(train, { window: WINDOW, hidden: 32, latent: 8, maxSteps: 20, seed: 1 });
  const live = det.stream();
  const row = (i) => data.subarray(i * features, (i + 1) * features);
  let i = 1000;
  const warm = live.delay + 200;
  for (const end = i + warm; i < end; i++) live.push(row(i));
  const times = new Float64Array(rows);
  const cpu = new Float64Array(rows);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let k = 0; k < rows; k++, i++) {
    const c = process.cpuUsage();
    const s = performance.now();
    live.push(row(i));
    times[k] = performance.now() - s;
    const u = process.cpuUsage(c);
    cpu[k] = (u.user + u.system) / 1000;
  }
  const total = performance.now() - t0;
  const cu = process.cpuUsage(c0);
  // the batch path over the same rows (with the windows before them), for reference
  const m = live.delay + rows;
  const b0 = performance.now();
  det.score({ data: data.subarray((i - m) * features, i * features), shape: [m, features] });
  const batchMs = performance.now() - b0;
  const sorted = Array.from(times).sort((a, b) => a - b);
  console.log(
    `@@stream ${JSON.stringify({
      features,
      threads: info.threads,
      build: info.build,
      window: det.plan.window,
      delay: live.delay,
      rows,
      rowsPerSecond: rows / (total / 1000),
      medianMs: median(sorted),
      p99Ms: quantile(sorted, 0.99),
      maxMs: sorted[sorted.length - 1],
      // CPU time of this process per push (all its threads): what the push costs apart from waiting for a core
      cpuMeanMs: (cu.user + cu.system) / 1000 / rows,
      cpuMedianMs: median(cpu),
      cpuP99Ms: quantile(cpu, 0.99),
      batchRowsPerSecond: m / (batchMs / 1000),
      stateBytes: live.save().length,
    })}`,
  );
  det.dispose();
  process.exit(0);
}

const rows = Number(opt('rows', '5000'));
const threadList = opt('threads', '1,2').split(',').map(Number);
const featureList = opt('features', '1,4').split(',').map(Number);
const nodeFlags = process.versions.node.startsWith('20.') ? ['--experimental-wasm-relaxed-simd'] : [];
const results = [];
for (const features of featureList) {
  for (const threads of threadList) {
    console.error(`bench:stream: ${features} feature${features > 1 ? 's' : ''}, ${threads} thread${threads > 1 ? 's' : ''} …`);
    const r = spawnSync(
      process.execPath,
      [...nodeFlags, fileURLToPath(import.meta.url), '--child', JSON.stringify({ features, threads, rows })],
      {
        encoding: 'utf8',
        timeout: 10 * 60_000,
      },
    );
    const line = r.stdout?.split('\n').find((l) => l.startsWith('@@stream '));
    if (!line) {
      console.error(`bench:stream: failed (${r.status}): ${r.stderr}`);
      continue;
    }
    results.push(JSON.parse(line.slice('@@stream '.length)));
  }
}
const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average ${loadavg()
  .map((v) => v.toFixed(2))
  .join(' ')} at the end, Node ${process.versions.node}`;
const md = [
  `Streaming (det.stream().push), window ${WINDOW}, hidden 32, latent 8, ${rows} rows measured per line; ${machine}.`,
  '',
  '| features | threads | build | rows/s | median ms/push | p99 ms/push | max ms | CPU ms/push (mean, median, p99) | batch rows/s | state bytes |',
  '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.features} | ${r.threads} | ${r.build} | ${f(r.rowsPerSecond, 0)} | ${f(r.medianMs, 3)} | ${f(r.p99Ms, 3)} | ${f(r.maxMs, 2)} | ${f(r.cpuMeanMs, 3)}, ${f(r.cpuMedianMs, 3)}, ${f(r.cpuP99Ms, 3)} | ${f(r.batchRowsPerSecond, 0)} | ${r.stateBytes} |`,
  ),
].join('\n');
console.log(md);
if (!argv.includes('--no-write')) {
  mkdirSync(`${root}/bench/results`, { recursive: true });
  writeFileSync(
    `${root}/bench/results/stream-latest.json`,
    `${JSON.stringify({ date: new Date().toISOString(), machine, window: WINDOW, rows, results }, null, 2)}\n`,
  );
  writeFileSync(`${root}/bench/results/stream-latest.md`, `${md}\n`);
}
