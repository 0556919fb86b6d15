//! x86-64 AVX-512F micro-kernel for f32: an 8×32 tile (16 accumulators of 16 lanes, two loads of B
//! and eight broadcasts of A per step of `p`), fused multiply-add.

use super::element::{x86_tile, Kernel};
use core::arch::x86_64::*;

/// The AVX-512F kernel (`Isa::Avx512`).
pub struct Avx512;

const MR: usize = 8;
const NR: usize = 32;

impl Kernel<f32> for Avx512 {
    const MR: usize = MR;
    const NR: usize = NR;
    const MC: usize = 64;

    #[inline(always)]
    unsafe fn tile(
        kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize,
        nr: usize,
    ) {
        if a_rs == 1 && a_cs == MR {
            tile_packed(kc, a, b, b_cs, c, ldc, alpha, mr, nr)
        } else {
            tile_any(kc, a, a_rs, a_cs, b, b_cs, c, ldc, alpha, mr, nr)
        }
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn load(p: *const f32) -> __m512 {
    _mm512_loadu_ps(p)
}
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn store(p: *mut f32, v: __m512) {
    _mm512_storeu_ps(p, v)
}

/// A packed strip of A (`a_rs = 1`, `a_cs = MR`: constant offsets).
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_packed(kc: usize, a: *const f32, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize, nr: usize) {
    let (a_rs, a_cs) = (1usize, MR);
    x86_tile!(
        __m512,
        16,
        _mm512_setzero_ps,
        load,
        store,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        _mm512_mul_ps,
        MR,
        2,
        kc,
        a,
        a_rs,
        a_cs,
        b,
        b_cs,
        c,
        ldc,
        alpha,
        mr,
        nr
    )
}

/// Rows of A read in place (or any other strides).
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_any(
    kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize,
    nr: usize,
) {
    x86_tile!(
        __m512,
        16,
        _mm512_setzero_ps,
        load,
        store,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        _mm512_mul_ps,
        MR,
        2,
        kc,
        a,
        a_rs,
        a_cs,
        b,
        b_cs,
        c,
        ldc,
        alpha,
        mr,
        nr
    )
}

/// `a·b + c` fused on 16 lanes (the peak loop's operation): `iters` rounds of 12
/// independent chains; returns a sum of them all (so nothing is elided).
///
/// # Safety
/// The CPU must have the kernel's features (`Isa::available`).
#[target_feature(enable = "avx512f")]
pub unsafe fn peak(iters: u32, seed: f32) -> f32 {
    let m = _mm512_set1_ps(0.999_999);
    let k = _mm512_set1_ps(1e-7);
    let mut acc = [_mm512_set1_ps(seed); 12];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm512_fmadd_ps(*v, m, k);
        }
    }
    let mut s = _mm512_setzero_ps();
    for v in acc {
        s = _mm512_add_ps(s, v);
    }
    let mut out = [0.0f32; 16];
    _mm512_storeu_ps(out.as_mut_ptr(), s);
    out.iter().sum()
}
