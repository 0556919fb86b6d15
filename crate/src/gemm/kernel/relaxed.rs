//! Relaxed-SIMD micro-kernel for f32: the simd128 tile (`simd128::tile_f32`) with this fused multiply-add.

use core::arch::wasm32::*;

/// `a·b + c` on f32x4 with relaxed-SIMD (fused where the hardware has it).
#[inline(always)]
pub fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_relaxed_madd(a, b, c)
}
