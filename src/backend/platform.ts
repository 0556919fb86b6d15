import type { WasmBuildName } from './glue.js';
import type { NativeLoad } from './native.js';

/** A pool thread started by the platform (a worker_threads Worker or a Web Worker). */
export interface PoolWorker {
  terminate(): void;
}

/** What differs between Node and browsers. */
export interface Platform {
  readonly name: 'node' | 'browser';
  /** The compiled module of a build. */
  compile(build: WasmBuildName): Promise<WebAssembly.Module>;
  /** Logical cores available. */
  cores(): number;
  /** Whether threads can be used here, and if not, why. */
  threadSupport(): { ok: true } | { ok: false; reason: string };
  /** Whether this engine validates relaxed-SIMD modules. */
  relaxedSimd(): Promise<boolean>;
  /** Starts a pool thread that instantiates `module` over `memory` and runs `pool_worker_run`;
   *  resolves once the module is instantiated there. */
  startWorker(build: WasmBuildName, module: WebAssembly.Module, memory: WebAssembly.Memory, stackSize: number): Promise<PoolWorker>;
  /** Node only: loads the native module (once; later calls return the same result). */
  native?(): NativeLoad;
  /** Node only: the build named by the LSTM_VAE_BUILD environment variable, if set. */
  envBuild?(): string | undefined;
  /** One-time notice (browsers: console.info; Node: silent unless LSTM_VAE_DEBUG). */
  notice(message: string): void;
}

let current: Platform | undefined;

export function setPlatform(p: Platform): void {
  current = p;
}

export function platform(): Platform {
  if (!current) throw new Error('lstm-vae: no platform set (import the package entry point, not an internal module)');
  return current;
}
