// WebAssembly features of the engine, for the benchmark page and its Workers.

// A module whose one function returns i32x4.relaxed_trunc_f32x4_s(v128.const 0): valid only where
// relaxed SIMD is supported.
const RELAXED = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 25, 1, 23, 0, 253, 12, ...new Array(16).fill(0), 253, 129, 2, 11]);

export const relaxedSimd = () => WebAssembly.validate(RELAXED);
