// The wasm-bindgen glue of the three builds (generated into build/wasm by scripts/build-wasm).
import * as simd from '../../build/wasm/simd/lstm_vae_kernels.js';
import * as simdMt from '../../build/wasm/simd-mt/lstm_vae_kernels.js';
import * as relaxedMt from '../../build/wasm/relaxed-mt/lstm_vae_kernels.js';

export type BuildName = 'simd' | 'simd-mt' | 'relaxed-mt';
export const BUILDS: readonly BuildName[] = ['simd', 'simd-mt', 'relaxed-mt'];

/** The functions every build exports (the bindings in crate/src/bindings.rs). */
export type Glue = typeof simd;

export const GLUES: Record<BuildName, Glue> = {
  simd,
  'simd-mt': simdMt as unknown as Glue,
  'relaxed-mt': relaxedMt as unknown as Glue,
};

export function isThreaded(build: BuildName): boolean {
  return build !== 'simd';
}

/** Stack size of each pool thread (bytes, a multiple of 64 KiB). */
export const THREAD_STACK_SIZE = 1 << 20;
