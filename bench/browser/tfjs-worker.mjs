// One TF.js benchmark job in a module Worker. Bundled by bench/lib/browser.mjs (esbuild) into
// /.cache/bench/tfjs-worker.js, since TF.js is published for bundlers (bare imports).
// Message in: { backend, variant, threads, coresShim, configs, modes, budget }.
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { runTfjs } from '../tfjs.mjs';
import { CONFIGS } from '../lib/configs.mjs';

// TF.js 4.22's wasm backend caps its XNNPACK thread pool at navigator.hardwareConcurrency / 2 (taken
// as physical cores; read once when the wasm module starts): init_with_threads_count uses
// min(setThreadsCount, 8, hardwareConcurrency / 2), so on 2 logical cores setThreadsCount(2) gives
// 1 thread. With job.coresShim (bench/run.mjs --tfjs-cores-shim) this Worker reports 2 × threads
// logical cores to it before the backend starts, and the count asked for takes effect (its 8
// pre-created pthread Workers are enough). Off by default: on this 2-core machine TF.js then ran
// 4–7× slower in Chromium 156 (quick S train 69–118 seq/s with 2 threads, 453–527 with 1) and its
// first job did not finish in 5 minutes in Firefox ESR 153.
function reportCoresFor(threads) {
  const cores = navigator.hardwareConcurrency;
  if (!threads || threads <= Math.floor(cores / 2)) return null;
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  return `hardwareConcurrency ${cores} reported to TF.js as ${navigator.hardwareConcurrency}`;
}

self.onmessage = async (e) => {
  const job = e.data;
  const post = (m) => self.postMessage(m);
  const shim = job.coresShim && job.backend === 'wasm' ? reportCoresFor(job.threads) : null;
  const wasmPath = new URL('/node_modules/@tensorflow/tfjs-backend-wasm/dist/', self.location.href).href;
  for (const name of job.configs) {
    for (const mode of job.modes) {
      try {
        const r = await runTfjs({
          tf,
          tfWasm,
          wasmPath,
          threads: job.threads,
          backend: job.backend,
          variant: job.variant,
          config: CONFIGS[name],
          mode,
          ...(job.budget?.[name] ?? {}),
        });
        post({ type: 'result', kind: 'run', result: { ...r, config: name } });
      } catch (err) {
        post({ type: 'error', what: `${name} ${mode}`, config: name, mode, error: String(err?.stack ?? err) });
      }
    }
  }
  try {
    post({
      type: 'log',
      text: `TF.js ${tf.version.tfjs} ${job.backend}: simd ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, threads supported ${await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')}, threads used ${tfWasm.getThreadsCount?.()}${shim ? ` (${shim})` : ''}`,
    });
  } catch (err) {
    post({ type: 'log', text: String(err) });
  }
  post({ type: 'done' });
};
