// One TF.js benchmark job in a module Worker. Bundled by bench/lib/browser.mjs (esbuild) into
// /.cache/bench/tfjs-worker.js, since TF.js is published for bundlers (bare imports).
// Message in: { backend, variant, threads, configs, modes, budget }.
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { runTfjs } from '../tfjs.mjs';
import { CONFIGS } from '../lib/configs.mjs';

self.onmessage = async (e) => {
  const job = e.data;
  const post = (m) => self.postMessage(m);
  const wasmPath = new URL('/node_modules/@tensorflow/tfjs-backend-wasm/dist/', self.location.href).href;
  for (const name of job.configs) {
    for (const mode of job.modes) {
      try {
        const r = await runTfjs({ tf, tfWasm, wasmPath, threads: job.threads, backend: job.backend, variant: job.variant, config: CONFIGS[name], mode, ...(job.budget?.[name] ?? {}) });
        post({ type: 'result', kind: 'run', result: { ...r, config: name } });
      } catch (err) {
        post({ type: 'error', what: `${name} ${mode}`, config: name, mode, error: String(err?.stack ?? err) });
      }
    }
  }
  try {
    post({ type: 'log', text: `TF.js ${tf.version.tfjs} ${job.backend}: simd ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, threads supported ${await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')}, threads used ${tfWasm.getThreadsCount?.()}` });
  } catch (err) {
    post({ type: 'log', text: String(err) });
  }
  post({ type: 'done' });
};
