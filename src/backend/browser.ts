import { relaxedSimd } from 'wasm-feature-detect';
import type { WasmBuildName } from './glue.js';
import type { Platform, PoolWorker } from './platform.js';

const modules = new Map<WasmBuildName, Promise<WebAssembly.Module>>();

function wasmUrl(build: WasmBuildName): URL {
  // Literal URLs so that bundlers (Vite, webpack) see and copy every build.
  switch (build) {
    case 'simd':
      return new URL('./wasm/simd/lstm_vae_kernels_bg.wasm', import.meta.url);
    case 'simd-mt':
      return new URL('./wasm/simd-mt/lstm_vae_kernels_bg.wasm', import.meta.url);
    case 'relaxed-mt':
      return new URL('./wasm/relaxed-mt/lstm_vae_kernels_bg.wasm', import.meta.url);
  }
}

const noticed = new Set<string>();

export const browserPlatform: Platform = {
  name: 'browser',
  compile(build) {
    let m = modules.get(build);
    if (!m) {
      m = (async () => {
        const url = wasmUrl(build);
        const res = await fetch(url);
        if (!res.ok) throw new Error(`fetching ${res.url || url.href} failed: HTTP ${res.status}`);
        const bytes = await res.arrayBuffer();
        const head = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
        if (head.length < 4 || head[0] !== 0 || head[1] !== 0x61 || head[2] !== 0x73 || head[3] !== 0x6d) {
          // Typically a dev server's index.html fallback: the .wasm files are not where the code expects them,
          // because a bundler moved the code (e.g. Vite's dependency pre-bundling).
          throw new Error(
            `${res.url || url.href} is not a WebAssembly module (Content-Type: ${res.headers.get('content-type')}); ` +
              `the .wasm files must stay next to lstm-vae's code: with Vite, set optimizeDeps: { exclude: ['lstm-vae'] }`,
          );
        }
        return WebAssembly.compile(bytes);
      })();
      modules.set(build, m);
      m.catch(() => modules.delete(build));
    }
    return m;
  },
  cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1,
  threadSupport() {
    const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown };
    if (typeof SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false) {
      return { ok: false, reason: 'page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)' };
    }
    if (typeof g.document !== 'undefined') {
      return { ok: false, reason: "running on the page's main thread, which may not block; call init() in a Worker for threads" };
    }
    return { ok: true };
  },
  relaxedSimd: () => relaxedSimd(),
  startWorker(build, module, memory, stackSize) {
    return new Promise<PoolWorker>((resolve, reject) => {
      const w = new Worker(new URL('./worker.browser.js', import.meta.url), { type: 'module', name: 'lstm-vae-kernel-thread' });
      w.onerror = (e) => reject(new Error(e.message || 'kernel thread failed to start'));
      w.onmessage = (e: MessageEvent) => {
        if (e.data === 'ready') resolve({ terminate: () => w.terminate() });
        else reject(new Error(`unexpected message from a kernel thread: ${String(e.data)}`));
      };
      w.postMessage({ build, module, memory, stackSize });
    });
  },
  notice(message) {
    if (noticed.has(message)) return;
    noticed.add(message);
    console.info(message);
  },
};
