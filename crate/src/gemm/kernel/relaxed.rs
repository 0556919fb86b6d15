//! Relaxed-SIMD micro-kernel for f32: the simd128 loop with a fused multiply-add.

use super::element::{MR, NR};
use super::simd128::tile_loop;
use core::arch::wasm32::*;

/// `a·b + c` on f32x4 with relaxed-SIMD (fused where the hardware has it).
#[inline(always)]
pub fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_relaxed_madd(a, b, c)
}

/// See `GemmFloat::micro_kernel`.
#[inline(always)]
pub(super) unsafe fn micro_kernel_f32(
    kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, tile: &mut [f32; MR * NR],
) {
    tile_loop(madd, kc, a, a_rs, a_cs, b, b_cs, tile)
}
