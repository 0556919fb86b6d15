import { checkInt } from '../core/checks.js';
import { BackendError, ConfigError } from '../core/errors.js';
import { BUILDS, GLUES, isThreaded, type KernelGlue, THREAD_STACK_SIZE, type BuildName, type WasmBuildName } from './glue.js';
import type { NativeGlue, NativeLoad } from './native.js';
import { type Platform, platform, type PoolWorker } from './platform.js';

export type { BuildName } from './glue.js';

export interface InitOptions {
  /** Force a build instead of the best one this runtime supports. */
  build?: BuildName;
  /** Threads for the kernels (default: the cores available, at most 8). Ignored by the `simd` build. */
  threads?: number;
}

export interface BackendInfo {
  /** The build that is loaded. */
  build: BuildName;
  /** Threads the kernels use. */
  threads: number;
  /** Target features the module was compiled with (e.g. "simd128,atomics"); for `native`, the
   *  architecture and the instruction sets the kernels may use on this CPU (e.g. "native,x86_64,avx2,fma"). */
  features: string;
  /** 'node' or 'browser'. */
  runtime: 'node' | 'browser';
  /** Why this build and thread count were chosen (e.g. "threads off: page is not cross-origin isolated"). */
  reasons: string[];
}

interface State {
  glue: KernelGlue;
  /** The native module when the build is `native` (its memory is an arena, not a WebAssembly.Memory). */
  native?: NativeGlue;
  memory: WebAssembly.Memory;
  workers: PoolWorker[];
  info: BackendInfo;
  options: InitOptions;
}

let state: State | undefined;
let pending: Promise<BackendInfo> | undefined;
/** Builds instantiated before in this realm: the glue keeps its instance, so a new load resets it first. */
const used = new Set<WasmBuildName>();
/** Whether the notice "native backend not used" was given (once per realm). */
let nativeNoticed = false;

function checkOptions(options: InitOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('init options must be an object', { argument: 'options', expected: '{ build?, threads? }', actual: options });
  }
  if (options.build !== undefined && !BUILDS.includes(options.build)) {
    throw new ConfigError('unknown build', { argument: 'options.build', expected: BUILDS.join(' | '), actual: options.build });
  }
  if (options.threads !== undefined) checkInt(options.threads, 'options.threads', 1, 64);
}

/**
 * Loads the best build for this runtime (or the one `options.build` names) and starts its thread
 * pool. In Node, the native build (the kernels compiled for this CPU, shipped for linux-x64) comes
 * first when its binary loads, the WebAssembly builds otherwise; the environment variable
 * `LSTM_VAE_BUILD` names a build when `options.build` does not, `LSTM_VAE_NATIVE=off` skips native. Idempotent: later calls return the same backend; concurrent calls share one
 * load. Calling it with different options after a load throws a ConfigError: call `dispose()` first.
 */
export function init(options: InitOptions = {}): Promise<BackendInfo> {
  try {
    checkOptions(options);
  } catch (e) {
    return Promise.reject(e);
  }
  if (state) {
    const same =
      (options.build === undefined || options.build === state.options.build || options.build === state.info.build) &&
      (options.threads === undefined || options.threads === state.options.threads || options.threads === state.info.threads);
    if (!same) {
      return Promise.reject(
        new ConfigError('lstm-vae is already initialised with other options; call dispose() first', {
          argument: 'options',
          expected: { build: state.info.build, threads: state.info.threads },
          actual: options,
        }),
      );
    }
    return Promise.resolve(state.info);
  }
  if (!pending) {
    pending = load(options).finally(() => {
      pending = undefined;
    });
  }
  return pending;
}

async function load(options: InitOptions): Promise<BackendInfo> {
  const p = platform();
  const reasons: string[] = [];
  let chosen = options.build;
  if (chosen) reasons.push(`build ${chosen}: chosen by options.build`);
  else {
    const env = p.envBuild?.();
    if (env !== undefined) {
      if (!BUILDS.includes(env as BuildName)) {
        throw new ConfigError('unknown build in LSTM_VAE_BUILD', { argument: 'LSTM_VAE_BUILD', expected: BUILDS.join(' | '), actual: env });
      }
      chosen = env as BuildName;
      reasons.push(`build ${chosen}: chosen by LSTM_VAE_BUILD`);
    }
  }
  if (chosen === 'native') {
    const n: NativeLoad = p.native?.() ?? { ok: false, reason: 'this runtime has no native backend (it is for Node)' };
    if (!n.ok)
      throw new BackendError(`the native build is not available here: ${n.reason}`, {
        argument: 'build',
        expected: 'simd | simd-mt | relaxed-mt',
        actual: 'native',
      });
    return startNative(p, n, options, reasons);
  }
  if (!chosen && p.native) {
    const n = p.native();
    if (n.ok) {
      reasons.push(`native: ${n.file} loaded (set LSTM_VAE_NATIVE=off or options.build to use WebAssembly)`);
      return startNative(p, n, options, reasons);
    }
    reasons.push(`native not used: ${n.reason}`);
    if (!nativeNoticed) {
      nativeNoticed = true;
      p.notice(`lstm-vae: native backend not used: ${n.reason}; using WebAssembly`);
    }
  }
  return loadWasm(p, options, chosen, reasons);
}

function startNative(p: Platform, n: Extract<NativeLoad, { ok: true }>, options: InitOptions, reasons: string[]): BackendInfo {
  const glue = n.glue;
  const threads = options.threads ?? Math.min(Math.max(1, p.cores()), 8);
  reasons.push(options.threads ? `threads: ${threads} (options.threads)` : `threads: ${threads} (cores available)`);
  let pool: number;
  try {
    pool = glue.pool_prepare(threads);
    glue.arena_acquire();
  } catch (e) {
    throw new BackendError(`could not start the native backend: ${(e as Error).message}`);
  }
  reasons.push(`kernels: ${glue.gemm_isa()}`);
  if (pool < threads) reasons.push(`threads: ${threads} tasks share the process's pool of ${pool} threads (made by the first init)`);
  const info: BackendInfo = { build: 'native', threads, features: glue.build_features(), runtime: p.name, reasons };
  // the arena stands where the WebAssembly memory does: views are made over memory().buffer alike
  const memory = { buffer: n.buffer } as unknown as WebAssembly.Memory;
  state = { glue, native: glue, memory, workers: [], info, options };
  return info;
}

async function loadWasm(p: Platform, options: InitOptions, chosen: WasmBuildName | undefined, reasons: string[]): Promise<BackendInfo> {
  const threadSupport = p.threadSupport();
  let build: WasmBuildName;
  if (chosen) {
    build = chosen;
    if (isThreaded(build) && !threadSupport.ok) {
      throw new BackendError(`build ${build} needs threads, which are not available here: ${threadSupport.reason}`, {
        argument: 'options.build',
        expected: 'simd',
        actual: build,
      });
    }
  } else if (!threadSupport.ok) {
    build = 'simd';
    reasons.push(`threads off: ${threadSupport.reason}`);
  } else if (await p.relaxedSimd()) {
    build = 'relaxed-mt';
    reasons.push('relaxed-mt: this engine supports relaxed SIMD and shared memory');
  } else {
    build = 'simd-mt';
    reasons.push('simd-mt: shared memory available; relaxed SIMD is not (Node 20 needs --experimental-wasm-relaxed-simd)');
  }
  let threads = 1;
  if (isThreaded(build)) {
    threads = options.threads ?? Math.min(Math.max(1, p.cores()), 8);
    reasons.push(options.threads ? `threads: ${threads} (options.threads)` : `threads: ${threads} (cores available)`);
  } else if (options.threads && options.threads > 1) {
    reasons.push(`threads: 1 (the simd build is single-threaded; options.threads = ${options.threads} ignored)`);
  }
  if (!threadSupport.ok && (options.threads ?? 1) > 1) p.notice(`lstm-vae: threads off: ${threadSupport.reason}`);

  const glue = GLUES[build];
  let module: WebAssembly.Module;
  try {
    module = await p.compile(build);
  } catch (e) {
    throw new BackendError(`could not load the ${build} WebAssembly build: ${(e as Error).message}`);
  }
  let exports: { memory: WebAssembly.Memory };
  try {
    // A fresh instance (new memory, new thread pool) each time: the glue caches its first one.
    if (used.has(build)) (glue as unknown as { __wbg_reset_state(): void }).__wbg_reset_state();
    used.add(build);
    exports = (isThreaded(build)
      ? glue.initSync({ module, thread_stack_size: THREAD_STACK_SIZE } as never)
      : glue.initSync({ module })) as unknown as { memory: WebAssembly.Memory };
  } catch (e) {
    throw new BackendError(`could not instantiate the ${build} WebAssembly build: ${(e as Error).message}`);
  }
  const memory = exports.memory;
  const workers: PoolWorker[] = [];
  if (isThreaded(build)) {
    // Workers first: building the pool waits until each of its threads runs.
    try {
      const started = await Promise.all(Array.from({ length: threads - 1 }, () => p.startWorker(build, module, memory, THREAD_STACK_SIZE)));
      workers.push(...started);
    } catch (e) {
      for (const w of workers) w.terminate();
      throw new BackendError(`could not start the kernel threads: ${(e as Error).message}`);
    }
    glue.pool_prepare(threads);
  }
  const info: BackendInfo = { build, threads, features: glue.build_features(), runtime: p.name, reasons };
  state = { glue, memory, workers, info, options };
  return info;
}

/** Which build is loaded, with how many threads, and why. Throws BackendError before `init()`. */
export function backendInfo(): BackendInfo {
  if (!state) throw new BackendError('lstm-vae is not initialised: call `await init()` first');
  return { ...state.info, reasons: [...state.info.reasons] };
}

/** Ends the kernel threads and forgets the loaded build (a later `init()` loads again). */
export async function dispose(): Promise<void> {
  if (pending) await pending.catch(() => undefined);
  if (!state) return;
  for (const w of state.workers) w.terminate();
  state.native?.arena_release();
  state = undefined;
}

/** The loaded build's bindings (internal): the WebAssembly glue or the native module. */
export function wasm(): KernelGlue {
  if (!state) throw new BackendError('lstm-vae is not initialised: call `await init()` first');
  return state.glue;
}

/** The WebAssembly memory (internal; for `native`, an object whose `buffer` is the arena). Views must be
 *  made afresh after any allocation (it may grow). */
export function memory(): WebAssembly.Memory {
  if (!state) throw new BackendError('lstm-vae is not initialised: call `await init()` first');
  return state.memory;
}

/** Whether a backend is loaded. */
export function isInitialised(): boolean {
  return state !== undefined;
}

/** Threads the kernels use from now on (1 to the pool size). */
export function setThreads(n: number): void {
  const s = state;
  if (!s) throw new BackendError('lstm-vae is not initialised: call `await init()` first');
  const max = s.info.threads;
  if (!(Number.isInteger(n) && n >= 1 && n <= max)) {
    throw new ConfigError('threads out of range for this backend', { argument: 'threads', expected: `1..${max}`, actual: n });
  }
  s.glue.set_threads(n);
}

/** Current size of the WebAssembly memory in bytes (it grows, never shrinks); for the native build,
 *  the part of its arena in use so far. */
export function memoryBytes(): number {
  const n = state?.native;
  return n ? n.arena_used() : memory().buffer.byteLength;
}
