// One benchmark job of our package in a module Worker (threads: the package starts its own pool
// Workers from here). Message in: { build, threads: [..], configs, modes, budget, overhead }.
import * as pkg from '/dist/index.js';
import { CONFIGS } from '/bench/lib/configs.mjs';
import { callOverhead, runOurs } from '/bench/lib/ours.mjs';
import { relaxedSimd } from '/node_modules/wasm-feature-detect/dist/esm/index.js';

self.onmessage = async (e) => {
  const job = e.data;
  const post = (m) => self.postMessage(m);
  // A build this engine cannot load is skipped (Firefox ESR has no relaxed SIMD), not an error.
  if (job.build === 'relaxed-mt' && !(await relaxedSimd())) {
    post({ type: 'skip', reason: 'this engine does not support relaxed SIMD' });
    post({ type: 'done' });
    return;
  }
  try {
    const t = Math.max(...job.threads);
    const info = await pkg.init({ build: job.build, ...(job.build === 'simd' ? {} : { threads: t }) });
    post({ type: 'log', text: `lstm-vae ${info.build} threads ${info.threads}` });
    if (job.overhead) post({ type: 'result', kind: 'overhead', result: await callOverhead({ pkg, threads: 1 }) });
    for (const name of job.configs) {
      for (const mode of job.modes) {
        for (const threads of job.threads) {
          try {
            const r = await runOurs({ pkg, config: CONFIGS[name], mode, threads, ...(job.budget?.[name] ?? {}) });
            post({ type: 'result', kind: 'run', result: { ...r, config: name } });
          } catch (err) {
            post({
              type: 'error',
              what: `${name} ${mode} threads ${threads}`,
              config: name,
              mode,
              threads,
              error: String(err?.stack ?? err),
            });
          }
        }
      }
    }
    await pkg.dispose();
  } catch (err) {
    post({ type: 'error', what: 'job', error: String(err?.stack ?? err) });
  }
  post({ type: 'done' });
};
