//! Relaxed-SIMD micro-kernel for f32: the simd128 loop with a fused multiply-add.

use super::element::add_tile;
use super::scalar::{MR, NR};
use super::simd128::tile_loop;
use core::arch::wasm32::*;

/// `a·b + c` on f32x4 with relaxed-SIMD (fused where the hardware has it).
#[inline(always)]
pub fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_relaxed_madd(a, b, c)
}

/// See `Kernel::tile` (the 4×8 tile; the sums in a buffer, then added to C).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn tile_f32(
    kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize,
    nr: usize,
) {
    let mut tile = [0.0f32; MR * NR];
    tile_loop(madd, kc, a, a_rs, a_cs, b, b_cs, &mut tile);
    add_tile(&tile, NR, c, ldc, alpha, mr, nr)
}
