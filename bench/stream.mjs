#!/usr/bin/env node
// Streaming benchmark: det.stream().push(row), one row at a time, as `lstm-vae watch` does.
//   - detectors: univariate and 4 features, window 100 points, hidden 32, latent 8 (trained briefly: the weights do
//     not change the cost), no aggregation;
//   - each on 1 and 2 threads (init({ threads })), each configuration in a fresh Node process;
//   - throughput (rows/s over the measured pushes) and latency per push (median, p99, max), after the warm-up
//     (`delay` rows, which reconstruct no window, then 200 rows); beside it the batch score's cost per row
//     (det.score over the same rows) for reference.
// Usage: node bench/stream.mjs [--rows=N] [--threads=1,2] [--features=1,4] [--members=3,1] [--builds=default,relaxed-mt] [--no-chromium] [--no-write]
// --members: the detector's models (3: its default; 1: one model, whose live push reconstructs one window, not three).
// Node runs each configuration with each of --builds ('default': what init() chooses, the native backend where it is
// built; a build already measured under another name is not repeated).
// Chromium (headless, cross-origin-isolated page, each job in a fresh module Worker: bench/browser/stream-worker.mjs)
// runs the same jobs after Node; it is skipped with the reason when it cannot start.
// Writes bench/results/stream-latest.json and stream-latest.md, and prints the table.
// Needs dist/ (`npx tsup`). Node 20 needs --experimental-wasm-relaxed-simd for relaxed-mt: the children get it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { measureStream, WINDOW } from './lib/stream-job.mjs';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const argv = process.argv.slice(2);
const opt = (name, dflt) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;

if (argv[0] === '--child') {
  const job = JSON.parse(argv[1]);
  const pkg = await import(`${root}/dist/index.node.js`);
  const info = await pkg.init(job.build ? { threads: job.threads, build: job.build } : { threads: job.threads });
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  console.log(`@@stream ${JSON.stringify(await measureStream(pkg, { ...job, info, cpuNow }))}`);
  process.exit(0);
}

/** The jobs in headless Chromium: a cross-origin-isolated page, each job in a fresh module Worker. */
async function inChromium(jobs) {
  const { serve, url, close, CHROMIUM, CHROMIUM_ARGS } = await import('../test/browser/serve.mjs');
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`);
  const { chromium } = await import('playwright-core');
  const server = await serve(root, { isolated: true });
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    const page = await browser.newPage();
    await page.goto(`${url(server)}/bench/browser/index.html`);
    const out = [];
    for (const job of jobs) {
      console.error(`bench:stream: Chromium ${browser.version()}: ${job.features} feature(s), ${job.threads} thread(s) …`);
      const r = await page.evaluate(
        (j) =>
          new Promise((ok) => {
            const w = new Worker('/bench/browser/stream-worker.mjs', { type: 'module' });
            w.onmessage = (e) => {
              w.terminate();
              ok(e.data);
            };
            w.onerror = (e) => ok({ error: e.message });
            w.postMessage(j);
          }),
        job,
      );
      if (r.error) console.error(`bench:stream: Chromium: ${r.error}`);
      else out.push({ ...r.result, runtime: `Chromium ${browser.version()}` });
    }
    return out;
  } finally {
    await browser?.close().catch(() => undefined);
    close(server);
  }
}

const rows = Number(opt('rows', '5000'));
const threadList = opt('threads', '1,2').split(',').map(Number);
const featureList = opt('features', '1,4').split(',').map(Number);
const memberList = opt('members', '3,1').split(',').map(Number);
const nodeFlags = process.versions.node.startsWith('20.') ? ['--experimental-wasm-relaxed-simd'] : [];
const results = [];
const buildList = opt('builds', 'default,relaxed-mt').split(',');
for (const members of memberList) {
  for (const features of featureList) {
    for (const threads of threadList) {
      for (const build of buildList) {
        if (results.some((r) => r.members === members && r.features === features && r.threads === threads && r.build === build)) continue;
        console.error(
          `bench:stream: ${members} model${members > 1 ? 's' : ''}, ${features} feature${features > 1 ? 's' : ''}, ${threads} thread${threads > 1 ? 's' : ''}, build ${build} …`,
        );
        const job = { members, features, threads, rows, ...(build === 'default' ? {} : { build }) };
        const r = spawnSync(process.execPath, [...nodeFlags, fileURLToPath(import.meta.url), '--child', JSON.stringify(job)], {
          encoding: 'utf8',
          timeout: 10 * 60_000,
        });
        const line = r.stdout?.split('\n').find((l) => l.startsWith('@@stream '));
        if (!line) {
          console.error(`bench:stream: failed (${r.status}): ${r.stderr}`);
          continue;
        }
        results.push({ ...JSON.parse(line.slice('@@stream '.length)), runtime: `Node ${process.versions.node}` });
      }
    }
  }
}
if (!argv.includes('--no-chromium')) {
  try {
    results.push(
      ...(await inChromium(
        memberList.flatMap((members) =>
          featureList.flatMap((features) => threadList.map((threads) => ({ members, features, threads, rows }))),
        ),
      )),
    );
  } catch (e) {
    console.error(`bench:stream: Chromium skipped: ${String(e.message).split('\n')[0]}`);
  }
}
const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average ${loadavg()
  .map((v) => v.toFixed(2))
  .join(' ')} at the end`;
const md = [
  `Streaming (det.stream().push), window ${WINDOW}, hidden 32, latent 8, ${rows} rows measured per line; ${machine}.`,
  '',
  '| runtime | models | features | threads | build | rows/s | median ms/push | p99 ms/push | max ms | CPU ms/push (mean, median, p99) | batch rows/s | state bytes |',
  '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.runtime} | ${r.members} | ${r.features} | ${r.threads} | ${r.build} | ${f(r.rowsPerSecond, 0)} | ${f(r.medianMs, 3)} | ${f(r.p99Ms, 3)} | ${f(r.maxMs, 2)} | ${f(r.cpuMeanMs, 3)}, ${f(r.cpuMedianMs, 3)}, ${f(r.cpuP99Ms, 3)} | ${f(r.batchRowsPerSecond, 0)} | ${r.stateBytes} |`,
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
