// The wasm-bindgen glue of the three builds (generated into build/wasm by scripts/build-wasm).
import * as simd from '../../build/wasm/simd/lstm_vae_kernels.js';
import * as simdMt from '../../build/wasm/simd-mt/lstm_vae_kernels.js';
import * as relaxedMt from '../../build/wasm/relaxed-mt/lstm_vae_kernels.js';

/** The WebAssembly builds (every runtime). */
export type WasmBuildName = 'simd' | 'simd-mt' | 'relaxed-mt';
/** Every build: the WebAssembly ones and, in Node on a platform with a shipped binary, `native`. */
export type BuildName = WasmBuildName | 'native';
export const WASM_BUILDS: readonly WasmBuildName[] = ['simd', 'simd-mt', 'relaxed-mt'];
export const BUILDS: readonly BuildName[] = [...WASM_BUILDS, 'native'];

/** What the wasm-bindgen glue of a build exports (the bindings in crate/src/bindings.rs, and its loader). */
export type Glue = typeof simd;

/** Exports of the wasm-bindgen glue that only load or run a WebAssembly instance (not kernels). */
export const WASM_ONLY = ['default', 'initSync', '__wbg_reset_state', 'pool_worker_run'] as const;

/** The kernels and their memory and thread functions: what the WebAssembly builds and the native
 *  module both export, under the same names. */
export type KernelGlue = Omit<Glue, (typeof WASM_ONLY)[number]>;

export const GLUES: Record<WasmBuildName, Glue> = {
  simd,
  'simd-mt': simdMt as unknown as Glue,
  'relaxed-mt': relaxedMt as unknown as Glue,
};

export function isThreaded(build: BuildName): boolean {
  return build !== 'simd';
}

/** Stack size of each pool thread (bytes, a multiple of 64 KiB). */
export const THREAD_STACK_SIZE = 1 << 20;
