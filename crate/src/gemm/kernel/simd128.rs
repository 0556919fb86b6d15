//! simd128 micro-kernel for f32 (multiply, then add). The tile (`tile_f32`) is also the relaxed-SIMD
//! build's: it runs with the build's multiply-add, fused there.

use super::element::add_tile;
use super::scalar::{MR, NR};
use core::arch::wasm32::*;

// The multiply-add of this build (`build_madd`): this file's, or relaxed-SIMD's fused one.
#[cfg(not(target_feature = "relaxed-simd"))]
use self::madd as build_madd;
#[cfg(target_feature = "relaxed-simd")]
use super::relaxed::madd as build_madd;

/// `a·b + c` on f32x4: a multiply then an add (two roundings).
#[cfg_attr(target_feature = "relaxed-simd", allow(dead_code))]
#[inline(always)]
pub fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_add(f32x4_mul(a, b), c)
}

/// See `Kernel::tile` (the 4×8 tile; the sums in a buffer, then added to C), with the build's
/// multiply-add (`build_madd`: this file's, or relaxed-SIMD's fused one).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn tile_f32(
    kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize,
    nr: usize,
) {
    let mut tile = [0.0f32; MR * NR];
    tile_loop(build_madd, kc, a, a_rs, a_cs, b, b_cs, &mut tile);
    add_tile(&tile, NR, c, ldc, alpha, mr, nr)
}

/// The MR×8 tile with the multiply-add `madd`: 2·MR accumulators (MR rows × 2 vectors of 4
/// columns) kept in registers; one splat load of A per row and two vector loads of B per step of `p`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn tile_loop(
    madd: impl Fn(v128, v128, v128) -> v128, kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize,
    tile: &mut [f32; MR * NR],
) {
    const _: () = assert!(NR == 8);
    let mut c0 = [f32x4_splat(0.0); MR];
    let mut c1 = [f32x4_splat(0.0); MR];
    let mut ar: [*const f32; MR] = [a; MR];
    for (r, p) in ar.iter_mut().enumerate() {
        *p = a.add(r * a_rs);
    }
    let mut b = b;
    for _ in 0..kc {
        let b0 = v128_load(b as *const v128);
        let b1 = v128_load(b.add(4) as *const v128);
        for r in 0..MR {
            let av = v128_load32_splat(ar[r] as *const u32);
            c0[r] = madd(av, b0, c0[r]);
            c1[r] = madd(av, b1, c1[r]);
            ar[r] = ar[r].add(a_cs);
        }
        b = b.add(b_cs);
    }
    let t = tile.as_mut_ptr() as *mut v128;
    for r in 0..MR {
        v128_store(t.add(2 * r), c0[r]);
        v128_store(t.add(2 * r + 1), c1[r]);
    }
}
