// PyTorch (CPU, float32) in the benchmark: bench/torch_step.py run by python3 ($LSTM_VAE_PYTHON), the
// same model and step as ours (the SPEC's continuous model, Adam), torch.set_num_threads(n) per cell.
// Skipped, with the reason, when torch cannot be imported.
import { spawn } from 'node:child_process';
import { CONFIGS } from './configs.mjs';
import { onBenchMessages } from './messages.mjs';

export const PYTHON = process.env.LSTM_VAE_PYTHON || 'python3';

/**
 * Runs one PyTorch job ({ configs, modes, threads, budget }) in a fresh Python process.
 * Resolves to { info, results, errors, skipped } (skipped: the reason, when torch is missing).
 */
export function runTorch(root, job, { timeoutMs = 30 * 60_000, log = () => {} } = {}) {
  const sizes = Object.fromEntries(job.configs.map((c) => [c, CONFIGS[c]]));
  const arg = JSON.stringify({ ...job, sizes });
  return new Promise((resolve) => {
    const out = { info: null, results: [], errors: [], skipped: null };
    let child;
    try {
      child = spawn(PYTHON, [`${root}/bench/torch_step.py`, arg], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      out.skipped = `${PYTHON} could not be started: ${e.message}`;
      return resolve(out);
    }
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      out.errors.push({ what: 'job', error: 'timed out' });
    }, timeoutMs);
    let err = '';
    onBenchMessages(child.stdout, (m) => {
      if (m.type === 'info') out.info = m.runtime;
      else if (m.type === 'skip') out.skipped = m.reason;
      else if (m.type === 'error') out.errors.push({ what: m.what, error: m.error });
      else if (m.type === 'result') {
        out.results.push(m.result);
        const r = m.result;
        log(`  PyTorch ${r.config} ${r.mode} threads ${r.threads}: ${r.seqPerSec.toFixed(1)} seq/s (${r.stepMs.n} steps)`);
      }
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', (e) => {
      out.skipped = `${PYTHON} could not be started: ${e.message}`;
    });
    child.on('close', (code) => {
      clearTimeout(limit);
      if (code !== 0 && !out.skipped && out.results.length === 0)
        out.errors.push({ what: 'job', error: `exit ${code}: ${err.trim().split('\n').slice(-3).join(' / ')}` });
      resolve(out);
    });
  });
}
