// The benchmark page (served with COOP/COEP by bench/lib/browser.mjs). Each job runs in a fresh
// module Worker: our package in ours-worker.mjs, TF.js in the bundled tfjs-worker (built by the
// driver into /.cache/bench/). The driver calls startBench(jobs) and polls window.__bench.
// the package's own feature probe (served from node_modules by the bench server)
import { relaxedSimd } from '/node_modules/wasm-feature-detect/dist/esm/index.js';

const state = {
  results: [],
  errors: [],
  skips: [],
  log: [],
  done: false,
  running: null,
  info: {
    crossOriginIsolated: globalThis.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    relaxedSimd: await relaxedSimd(),
  },
};
window.__bench = state;

const WORKERS = { ours: '/bench/browser/ours-worker.mjs', tfjs: '/.cache/bench/tfjs-worker.js' };

// A job that sends nothing for this long is stopped and reported (TF.js's threaded wasm build has
// hung with idle CPUs in Firefox); the jobs after it still run.
const IDLE_MS = 6 * 60_000;

function runJob(job) {
  return new Promise((resolve) => {
    const w = new Worker(WORKERS[job.kind], { type: 'module', name: `bench-${job.kind}` });
    let idle;
    const finish = () => {
      clearTimeout(idle);
      w.terminate();
      resolve();
    };
    const watch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        state.errors.push({ job, what: 'timeout', error: `no progress for ${IDLE_MS / 60_000} minutes: stopped` });
        finish();
      }, job.idleMs ?? IDLE_MS);
    };
    watch();
    w.onerror = (e) => {
      state.errors.push({ job, what: 'worker', error: e.message || 'worker failed' });
      finish();
    };
    w.onmessage = (e) => {
      watch();
      const m = e.data;
      if (m.type === 'result') state.results.push({ job, ...m });
      else if (m.type === 'error') state.errors.push({ job, ...m });
      else if (m.type === 'skip') state.skips.push({ job, reason: m.reason });
      else if (m.type === 'log') state.log.push(m.text);
      else if (m.type === 'done') finish();
    };
    w.postMessage(job);
  });
}

window.startBench = (jobs) => {
  (async () => {
    for (const job of jobs) {
      state.running = job;
      await runJob(job);
    }
    state.running = null;
    state.done = true;
  })();
  return true;
};
