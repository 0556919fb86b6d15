#!/usr/bin/env node
// The benchmark, in one run on this machine:
//   - LSTM-VAE training and inference (encode + decode) throughput for configurations S, M, L (quick:
//     S, M) of our package on each build (simd, simd-mt, relaxed-mt) and thread count (1, 2), beside
//     TF.js 4.22 (bench/tfjs.mjs): wasm backend written with tf.layers as its docs teach, wasm
//     hand-tuned, and the cpu backend hand-tuned;
//   - in Node 20 (this machine's node), Node 22, Bun and Deno (npm packages fetched once into
//     ~/.cache/lstm-vae/runtimes; a runtime that cannot run is skipped with the reason), headless
//     Chromium and headless Firefox ESR (cross-origin isolated page, each job in a module Worker;
//     threads 2; Firefox driven by puppeteer-core over WebDriver BiDi, from /usr/bin/firefox-esr or
//     $FIREFOX: `apt-get install -y firefox-esr` on Debian; skipped with the reason when missing);
//   - peak memory (process RSS, WebAssembly memory), per-call cost of the package's entry points,
//     the training GFLOP/s estimate;
//   - kernels (in this process): matmul GFLOP/s per build at 256³/512³ with the peak multiply-add
//     loop, and sgemm at the LSTM's gate-product shapes beside TF.js wasm's matMul;
//   - PyTorch on the CPU (bench/torch_step.py, python3 or $LSTM_VAE_PYTHON; skipped with the reason
//     when torch cannot be imported): the same model and step in the reference runtime's table, and
//     'lstm-vae vs PyTorch': interleaved rounds (native when the package's native backend loads,
//     relaxed-mt, PyTorch) at M and L, training, 1 and 2 threads, medians over the rounds.
//
// Usage: node bench/run.mjs [--quick] [--runtimes=node20,node22,bun,deno,chromium,firefox] [--configs=S,M,L]
//                           [--no-kernels] [--no-tfjs] [--no-torch] [--rounds=n] [--versus] [--no-write] [--tfjs-cores-shim]
// --versus: only the 'lstm-vae vs PyTorch' rounds (in the reference runtime).
// Needs dist/ (`npx tsup`) and build/wasm/ (`npm run build:wasm`). Writes bench/results/<date>.json,
// bench/results/latest.json, latest.md (tables, ratios to TF.js wasm hand-tuned of the same run)
// and latest.svg (bar chart), and prints the tables (with --versus: <date>-versus.json and versus-latest.md
// instead, so that latest.* keep the last full run). Progress goes to stderr.
// Each job runs in a fresh process of its runtime (bench/lib/child.mjs) or a fresh Worker.
// Node 20 needs --experimental-wasm-relaxed-simd for relaxed-mt: this script re-runs itself with it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CONFIGS, flops } from './lib/configs.mjs';
import { onBenchMessages } from './lib/messages.mjs';
import { markdown, svgChart } from './lib/report.mjs';
import { findRuntimes } from './lib/runtimes.mjs';
import { PYTHON, runTorch } from './lib/torch.mjs';

const relaxedFlag = '--experimental-wasm-relaxed-simd';
if (process.versions.node.startsWith('20.') && !process.execArgv.includes(relaxedFlag)) {
  const r = spawnSync(process.execPath, [relaxedFlag, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const argv = process.argv.slice(2);
const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = argv.includes('--quick');
const configs = (opt('configs') ?? (quick ? 'S,M' : 'S,M,L')).split(',');
const wantRuntimes = opt('runtimes')?.split(',');
const withTfjs = !argv.includes('--no-tfjs');
const withTorch = !argv.includes('--no-torch');
const versusOnly = argv.includes('--versus');
// Browsers: lift TF.js wasm's thread cap of hardwareConcurrency / 2 (see bench/browser/tfjs-worker.mjs).
const coresShim = argv.includes('--tfjs-cores-shim');
const tStart = Date.now();
const log = (...a) => console.error(`bench [${((Date.now() - tStart) / 1000).toFixed(0)} s]:`, ...a);

for (const f of ['dist/index.node.js', 'dist/index.js', 'dist/worker.node.js']) {
  if (!existsSync(`${root}/${f}`)) {
    console.error(`bench: ${f} is missing: build the package first (npm run build, or npx tsup)`);
    process.exit(1);
  }
}

const REFERENCE = `node${process.versions.node.split('.')[0]}`;

/** The package's native backend in this Node (a fresh process: init({ build: 'native' })), or why not. */
function probeNative() {
  const code = `const p = await import(${JSON.stringify(`${root}/dist/index.node.js`)});
try { await p.init({ build: 'native' }); console.log('@@native ' + JSON.stringify(p.backendInfo())); }
catch (e) { console.log('@@native ' + JSON.stringify({ error: String(e?.message ?? e).split('\\n')[0] })); }
await p.dispose?.(); process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('@@native '));
  if (!line) return { available: false, reason: `probe failed: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? r.status}` };
  const info = JSON.parse(line.slice(9));
  return info.error ? { available: false, reason: info.error } : { available: info.build === 'native', info };
}
const native = probeNative();

// Measurement budgets: warm-up steps, then steps until budgetMs and at least minSteps (a warm-up
// step slower than budgetMs lowers minSteps to 2).
const BUDGET = quick
  ? {
      S: { warmup: 1, budgetMs: 600, minSteps: 3 },
      M: { warmup: 1, budgetMs: 800, minSteps: 2 },
      L: { warmup: 1, budgetMs: 1000, minSteps: 2 },
    }
  : {
      S: { warmup: 2, budgetMs: 2500, minSteps: 5 },
      M: { warmup: 1, budgetMs: 3000, minSteps: 3 },
      L: { warmup: 1, budgetMs: 4000, minSteps: 2 },
    };
// TF.js cpu at L takes about a minute per step: one step, no warm-up.
const CPU_L = { warmup: 0, steps: 1 };

const has = (c) => configs.includes(c);
const pick = (list) => list.filter(has);
const BROWSER_IDS = ['chromium', 'firefox'];

/** The jobs of one runtime. The reference runtime (this node) runs the slow TF.js cells too. */
function plan(rt) {
  if (versusOnly) return [];
  const ref = rt === REFERENCE;
  const browser = BROWSER_IDS.includes(rt);
  const jobs = [];
  let ours = [
    ['simd', [1]],
    ['simd-mt', [1, 2]],
    ['relaxed-mt', [1, 2]],
  ];
  // the native backend (Node-API) in Node; browsers, Bun and Deno run the WASM builds
  if (native.available && rt.startsWith('node')) ours.unshift(['native', [1, 2]]);
  if (quick && !ref) ours = [['relaxed-mt', browser ? [2] : [1, 2]]];
  // Firefox ESR may lack relaxed SIMD (its relaxed-mt job is then skipped): quick runs simd-mt too.
  if (quick && rt === 'firefox')
    ours = [
      ['simd-mt', [2]],
      ['relaxed-mt', [2]],
    ];
  ours.forEach(([build, threads], i) =>
    jobs.push({
      kind: 'ours',
      build,
      threads,
      configs: pick(['S', 'M', 'L']),
      modes: ['train', 'infer'],
      budget: BUDGET,
      overhead: !quick || i === 0,
    }),
  );
  if (ref && withTorch)
    jobs.push({ kind: 'torch', configs: pick(['S', 'M', 'L']), modes: ['train', 'infer'], threads: [1, 2], budget: BUDGET });
  if (!withTfjs) return jobs;
  const threads = browser ? 2 : undefined;
  // In browsers each TF.js configuration gets its own Worker: its wasm heap only grows, and in
  // Firefox a Worker running S, M and L in turn once hung with idle CPUs (each alone ran).
  const tf = (job) => {
    if (!browser) return jobs.push(job);
    const j = job.backend === 'wasm' ? { ...job, threads, coresShim } : job;
    for (const c of j.configs) jobs.push({ ...j, configs: [c] });
  };
  if (quick) {
    tf({
      kind: 'tfjs',
      backend: 'wasm',
      variant: 'fused',
      configs: pick(ref ? ['S', 'M'] : ['S']),
      modes: ['train', 'infer'],
      budget: BUDGET,
    });
    if (ref) {
      tf({ kind: 'tfjs', backend: 'wasm', variant: 'layers', configs: pick(['S']), modes: ['train', 'infer'], budget: BUDGET });
      tf({ kind: 'tfjs', backend: 'cpu', variant: 'fused', configs: pick(['S']), modes: ['train'], budget: BUDGET });
    }
    return jobs;
  }
  tf({ kind: 'tfjs', backend: 'wasm', variant: 'fused', configs: pick(['S', 'M', 'L']), modes: ['train', 'infer'], budget: BUDGET });
  tf({
    kind: 'tfjs',
    backend: 'wasm',
    variant: 'layers',
    configs: pick(ref ? ['S', 'M', 'L'] : ['S', 'M']),
    modes: ['train', 'infer'],
    budget: BUDGET,
  });
  tf({ kind: 'tfjs', backend: 'cpu', variant: 'fused', configs: pick(['S']), modes: ['train', 'infer'], budget: BUDGET });
  tf({ kind: 'tfjs', backend: 'cpu', variant: 'fused', configs: pick(['M']), modes: ['train'], budget: BUDGET });
  if (ref && has('L')) tf({ kind: 'tfjs', backend: 'cpu', variant: 'fused', configs: ['L'], modes: ['train'], budget: { L: CPU_L } });
  return jobs.filter((j) => j.configs.length);
}

function describe(j) {
  if (j.kind === 'torch') return `PyTorch cpu threads ${j.threads.join('/')} ${j.configs.join(',')}`;
  return j.kind === 'ours'
    ? `lstm-vae ${j.build} threads ${j.threads.join('/')} ${j.configs.join(',')}`
    : `TF.js ${j.backend} ${j.variant === 'fused' ? 'hand-tuned' : 'tf.layers'} ${j.configs.join(',')}`;
}

const results = {
  date: new Date().toISOString(),
  quick,
  machine: {
    cpu: cpus()[0]?.model?.trim() ?? 'unknown CPU',
    cores: cpus().length,
    os: `${type()} ${release()}`,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    loadBefore: loadavg(),
  },
  reference: REFERENCE,
  configs: Object.fromEntries(configs.map((c) => [c, { ...CONFIGS[c], flops: flops(CONFIGS[c]) }])),
  runtimes: [],
  runs: [],
  overhead: [],
  kernels: null,
  native: native.available ? { features: native.info.features } : { skipped: native.reason },
  torch: null,
  versus: null,
  errors: [],
  notes: [],
};

/** A result of a job (from a child process or the browser) as a row of results.runs. */
function addRun(runtime, r) {
  const cfg = CONFIGS[r.config];
  const impl = r.library === 'lstm-vae' ? 'lstm-vae' : r.library === 'pytorch' ? 'pytorch' : `tfjs-${r.variant}`;
  results.runs.push({
    runtime,
    impl,
    backend: r.library === 'lstm-vae' ? r.build : r.backend,
    threads: r.threads,
    config: r.config,
    mode: r.mode,
    seqPerSec: r.seqPerSec,
    seqPerSecQ1: r.seqPerSecQ1,
    seqPerSecQ3: r.seqPerSecQ3,
    stepMs: r.stepMs,
    cpuMsPerStep: r.cpuMsPerStep,
    gflops: flops(cfg)[r.mode] / (r.stepMs.median / 1000) / 1e9,
    memory: {
      rssPeak: r.maxRss ?? r.rssPeak ?? null,
      rssSampledPeak: r.rssPeak ?? null,
      wasmBytes: r.wasmMemoryBytes ?? r.wasmHeapBytes ?? null,
      tfBytes: r.tfBytes ?? null,
    },
    features: r.features,
    tfjsVersion: r.tfjsVersion,
  });
}

/** Runs one job in a fresh process of `rt`; resolves when it ends. */
function runChild(rt, job) {
  return new Promise((resolve) => {
    const args = [...rt.args, `${root}/bench/lib/child.mjs`, JSON.stringify(job)];
    const child = spawn(rt.exe, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const limit = setTimeout(
      () => {
        child.kill('SIGKILL');
        results.errors.push({ runtime: rt.id, what: describe(job), error: 'timed out' });
      },
      (quick ? 5 : 30) * 60_000,
    );
    let err = '';
    let got = 0;
    onBenchMessages(child.stdout, (m) => {
      if (m.type === 'info') {
        const entry = results.runtimes.find((x) => x.id === rt.id);
        if (entry && m.runtime) {
          entry.engine = m.runtime.engine;
          entry.version = m.runtime.version;
        }
      } else if (m.type === 'result') {
        got++;
        addRun(rt.id, m.result);
        log(
          `  ${rt.id} ${describe(job).split(' ').slice(0, 3).join(' ')} ${m.result.config} ${m.result.mode} threads ${m.result.threads}: ${m.result.seqPerSec.toFixed(1)} seq/s (${m.result.stepMs.n} steps)`,
        );
      } else if (m.type === 'overhead') {
        results.overhead.push({ runtime: rt.id, ...m.result });
      } else if (m.type === 'error') {
        results.errors.push({ runtime: rt.id, what: `${describe(job)}: ${m.what}`, error: m.error });
        log(`  ${rt.id} error in ${describe(job)} (${m.what}): ${String(m.error).split('\n')[0]}`);
      }
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) => {
      clearTimeout(limit);
      if (code !== 0 && got === 0)
        results.errors.push({
          runtime: rt.id,
          what: describe(job),
          error: `exit ${code}: ${err.trim().split('\n').slice(-3).join(' / ')}`,
        });
      resolve();
    });
  });
}

const t0 = Date.now();

// 1. Kernels, in this process (Node 20 with relaxed SIMD)
if (!argv.includes('--no-kernels') && !versusOnly && (!wantRuntimes || wantRuntimes.includes(REFERENCE))) {
  log('kernels: matmul per build, peak loop, sgemm at the LSTM shapes');
  const { matmulSection, lstmGemmSection, scalingSection, matrixmultiplySection, lstmLayerSection, disposeRaw } = await import(
    './lib/kernels.mjs'
  );
  const pkg = await import(`${root}/dist/index.node.js`);
  const tfjs = withTfjs ? await import('./tfjs.mjs') : null;
  results.kernels = {
    runtime: `Node ${process.versions.node}`,
    matmul: await matmulSection(root, pkg, { quick, log }),
  };
  log('kernels: sgemm 512³ and peak loop thread scaling (interleaved pairs)');
  results.kernels.scaling = await scalingSection(root, { quick });
  log('kernels: LSTM layer forward + backward');
  results.kernels.lstmLayer = await lstmLayerSection(root, { quick });
  log('kernels: sgemm at the LSTM shapes, ours beside matrixmultiply and TF.js');
  results.kernels.lstmGemm = await lstmGemmSection(root, { quick, tfjs });
  results.kernels.matrixmultiply = await matrixmultiplySection(root, { quick });
  await disposeRaw();
  await pkg.dispose();
}

// The two TF.js variants compute the same loss and gradients (a small configuration, cpu backend).
if (withTfjs && !versusOnly) {
  try {
    const { checkTfjsVariants } = await import('./tfjs.mjs');
    const c = await checkTfjsVariants({ backend: 'cpu' });
    results.notes.push(
      `TF.js variants checked: tf.layers and hand-tuned give the same loss and gradients for the same weights and noise (largest relative difference ${c.worst.toExponential(1)}).`,
    );
  } catch (e) {
    results.errors.push({ runtime: REFERENCE, what: 'TF.js variant check', error: String(e?.stack ?? e) });
  }
}

// 2. Node 20, Node 22, Bun, Deno
const runtimes = findRuntimes({ only: wantRuntimes?.filter((r) => !BROWSER_IDS.includes(r)), log });
for (const rt of runtimes) {
  results.runtimes.push({
    id: rt.id,
    label: rt.label,
    version: rt.version,
    ...(rt.skipped ? { skipped: rt.skipped } : {}),
    ...(rt.id === 'node20' ? { note: 'relaxed-mt with --experimental-wasm-relaxed-simd' } : {}),
  });
  if (rt.skipped) {
    log(`${rt.label}: skipped (${rt.skipped})`);
    continue;
  }
  for (const job of plan(rt.id)) {
    if (job.kind === 'torch') {
      if (results.torch?.skipped) continue;
      log(`${describe(job)} (${PYTHON})`);
      await torchJob(rt.id, job);
      continue;
    }
    log(`${rt.label} ${rt.version}: ${describe(job)}`);
    await runChild(rt, job);
  }
}

/** Runs a PyTorch job; its results join the table of runtime `rt` (where the Python process was started). */
async function torchJob(rt, job) {
  const r = await runTorch(root, job, { timeoutMs: (quick ? 10 : 45) * 60_000, log });
  if (r.skipped) {
    results.torch = { skipped: r.skipped };
    results.notes.push(`PyTorch not run: ${r.skipped}.`);
    log(`PyTorch: skipped (${r.skipped})`);
    return [];
  }
  if (r.info) results.torch = { python: PYTHON, ...r.info };
  for (const e of r.errors) results.errors.push({ runtime: rt, what: `${describe(job)}: ${e.what}`, error: e.error });
  for (const x of r.results) addRun(rt, x);
  return r.results;
}

// 2b. lstm-vae vs PyTorch: interleaved rounds (native, relaxed-mt, PyTorch in turn, each round all three)
const vsConfigs = configs.filter((c) => c === 'M' || c === 'L');
if (withTorch && vsConfigs.length && !results.torch?.skipped && (!wantRuntimes || wantRuntimes.includes(REFERENCE))) {
  const rounds = Number(opt('rounds') ?? (quick ? 2 : 3));
  const budget = quick
    ? { M: { warmup: 1, budgetMs: 600, minSteps: 2 }, L: { warmup: 1, budgetMs: 800, minSteps: 2 } }
    : // two warm-up steps (the first steps touch fresh memory) and at least 5 timed ones at L
      { M: { warmup: 2, budgetMs: 3000, minSteps: 5 }, L: { warmup: 2, budgetMs: 6000, minSteps: 5 } };
  const rt = runtimes.find((x) => x.id === REFERENCE && !x.skipped);
  const builds = [...(native.available ? ['native'] : []), 'relaxed-mt'];
  results.versus = { rounds, configs: vsConfigs, threads: [1, 2], builds, runs: [] };
  log(
    `lstm-vae vs PyTorch: ${rounds} interleaved rounds of ${[...builds, 'PyTorch'].join(', ')} at ${vsConfigs.join(', ')}, training, 1 and 2 threads`,
  );
  for (let round = 0; round < rounds && rt; round++) {
    for (const build of builds) {
      const before = results.runs.length;
      await runChild(rt, { kind: 'ours', build, threads: [1, 2], configs: vsConfigs, modes: ['train'], budget });
      // these runs belong to the versus section, not to the main tables
      for (const r of results.runs.splice(before)) results.versus.runs.push({ round, ...r });
    }
    const before = results.runs.length;
    await torchJob(REFERENCE, { kind: 'torch', configs: vsConfigs, modes: ['train'], threads: [1, 2], budget });
    for (const r of results.runs.splice(before)) results.versus.runs.push({ round, ...r });
  }
}

// 3. Chromium, Firefox
for (const id of BROWSER_IDS) {
  if (versusOnly || (wantRuntimes && !wantRuntimes.includes(id))) continue;
  const { BROWSERS, runInBrowser } = await import('./lib/browser.mjs');
  const { label, engine } = BROWSERS[id];
  const entry = { id, label };
  results.runtimes.push(entry);
  try {
    const jobs = plan(id);
    log(`${label}: ${jobs.length} jobs`);
    const r = await runInBrowser(id, root, jobs, { timeoutMs: (quick ? 5 : 45) * 60_000, log: (m) => log(`  ${m}`) });
    const info = r.browser.info;
    entry.version = r.browser.version;
    entry.engine = engine;
    entry.note = `headless, cross-origin isolated page (crossOriginIsolated ${info.crossOriginIsolated}), each job in a module Worker, navigator.hardwareConcurrency ${info.hardwareConcurrency}, relaxed SIMD ${info.relaxedSimd ? 'supported' : 'not supported'}`;
    for (const x of r.results) {
      if (x.kind === 'overhead') results.overhead.push({ runtime: id, ...x.result });
      else addRun(id, x.result);
    }
    for (const e of r.errors) results.errors.push({ runtime: id, what: `${describe(e.job)}: ${e.what}`, error: e.error });
    for (const s of r.skips) {
      results.notes.push(`${label}: ${describe(s.job)} skipped: ${s.reason}.`);
      log(`  ${id}: ${describe(s.job)} skipped (${s.reason})`);
    }
    for (const l of r.log) log(`  ${id}: ${l}`);
    const tf = r.log.find((l) => l.startsWith('TF.js') && l.includes('wasm'));
    if (tf) {
      results.notes.push(
        `${label}: ${tf} (2 asked for with setThreadsCount before the backend starts). TF.js 4.22 caps its thread pool at navigator.hardwareConcurrency / 2${coresShim ? '; this run reported 2 × threads logical cores to it (--tfjs-cores-shim)' : ' (--tfjs-cores-shim lifts the cap; see bench/browser/tfjs-worker.mjs)'}.`,
      );
      (results.browser ??= {})[id] = { tfjsThreads: Number(/threads used (\d+)/.exec(tf)?.[1]) || null };
    }
  } catch (e) {
    entry.skipped = e.message.split('\n')[0];
    log(`${label}: skipped (${entry.skipped})`);
  }
}

results.machine.loadAfter = loadavg();
results.elapsedSeconds = Math.round((Date.now() - t0) / 1000);
if (results.runs.some((r) => r.runtime === 'bun' && r.impl === 'lstm-vae')) {
  results.notes.push('Bun runs the package through its node entry (worker_threads pool).');
}
if (results.runs.some((r) => r.runtime === 'deno'))
  results.notes.push(
    "Deno: the benchmark keeps a timer alive while it runs, because Deno ends a process whose only pending work is the package's unref()'d pool Workers starting up (silently, exit 0, in the middle of `await init()` when it is not awaited at the top level).",
  );

const md = markdown(results);
if (!argv.includes('--no-write')) {
  const dir = `${root}/bench/results`;
  mkdirSync(dir, { recursive: true });
  const stamp = results.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const json = JSON.stringify(results, null, 2);
  if (versusOnly) {
    // only the PyTorch section: its own files, so that latest.* keep the last full run
    writeFileSync(`${dir}/${stamp}-versus.json`, json);
    writeFileSync(`${dir}/versus-latest.md`, md);
    log(`wrote bench/results/${stamp}-versus.json, versus-latest.md (${results.elapsedSeconds} s)`);
  } else {
    writeFileSync(`${dir}/${stamp}${quick ? '-quick' : ''}.json`, json);
    writeFileSync(`${dir}/latest.json`, json);
    writeFileSync(`${dir}/latest.md`, md);
    writeFileSync(`${dir}/latest.svg`, svgChart(results));
    log(`wrote bench/results/${stamp}${quick ? '-quick' : ''}.json, latest.json, latest.md, latest.svg (${results.elapsedSeconds} s)`);
  }
}
console.log(md);
process.exit(0);
