import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { relaxedSimd } from 'wasm-feature-detect';
import type { WasmBuildName } from './glue.js';
import { loadNative } from './native.js';
import type { Platform, PoolWorker } from './platform.js';

const modules = new Map<WasmBuildName, WebAssembly.Module>();

export const nodePlatform: Platform = {
  name: 'node',
  async compile(build) {
    let m = modules.get(build);
    if (!m) {
      const bytes = readFileSync(new URL(`./wasm/${build}/lstm_vae_kernels_bg.wasm`, import.meta.url));
      m = await WebAssembly.compile(bytes);
      modules.set(build, m);
    }
    return m;
  },
  cores: () => availableParallelism(),
  threadSupport: () =>
    typeof SharedArrayBuffer === 'function' ? { ok: true } : { ok: false, reason: 'SharedArrayBuffer is not available in this runtime' },
  relaxedSimd: () => relaxedSimd(),
  startWorker(build, module, memory, stackSize) {
    return new Promise<PoolWorker>((resolve, reject) => {
      const w = new Worker(new URL('./worker.node.js', import.meta.url), {
        workerData: { build, module, memory, stackSize },
        // the parent's options (e.g. --input-type) may be invalid for a worker started from a file,
        // and V8 flags apply to the whole process anyway
        execArgv: [],
      });
      const fail = (e: unknown) => reject(e instanceof Error ? e : new Error(String(e)));
      w.once('error', fail);
      w.once('message', (m: unknown) => {
        if (m === 'ready') {
          // a pool thread never keeps a finished process alive (unref only once it runs: while it
          // starts, it is what keeps an un-awaited init() going in runtimes such as Deno)
          w.unref();
          w.off('error', fail);
          w.on('error', () => undefined);
          resolve({ terminate: () => void w.terminate() });
        } else fail(new Error(`unexpected message from a kernel thread: ${String(m)}`));
      });
    });
  },
  native: loadNative,
  envBuild: () => process.env.LSTM_VAE_BUILD || undefined,
  notice(message) {
    if (process.env.LSTM_VAE_DEBUG) console.error(message);
  },
};
