//! x86-64 AVX2 + FMA micro-kernel for f32: a 6×16 tile (12 accumulators of 8 lanes, two loads of B
//! and six broadcasts of A per step of `p`), fused multiply-add.

use super::element::{x86_tile, Kernel};
use core::arch::x86_64::*;

/// The AVX2+FMA kernel (`Isa::Avx2`).
pub struct Avx2;

const MR: usize = 6;
const NR: usize = 16;

impl Kernel<f32> for Avx2 {
    const MR: usize = MR;
    const NR: usize = NR;
    const MC: usize = 72;

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
#[target_feature(enable = "avx2,fma")]
unsafe fn load(p: *const f32) -> __m256 {
    _mm256_loadu_ps(p)
}
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn store(p: *mut f32, v: __m256) {
    _mm256_storeu_ps(p, v)
}

/// A packed strip of A (`a_rs = 1`, `a_cs = MR`: constant offsets).
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_packed(kc: usize, a: *const f32, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize, nr: usize) {
    let (a_rs, a_cs) = (1usize, MR);
    x86_tile!(
        __m256,
        8,
        _mm256_setzero_ps,
        load,
        store,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        _mm256_mul_ps,
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
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_any(
    kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize,
    nr: usize,
) {
    x86_tile!(
        __m256,
        8,
        _mm256_setzero_ps,
        load,
        store,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        _mm256_mul_ps,
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

/// `a·b + c` fused on 8 lanes (the peak loop's operation): `iters` rounds of 12
/// independent chains; returns a sum of them all (so nothing is elided).
///
/// # Safety
/// The CPU must have the kernel's features (`Isa::available`).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn peak(iters: u32, seed: f32) -> f32 {
    let m = _mm256_set1_ps(0.999_999);
    let k = _mm256_set1_ps(1e-7);
    let mut acc = [_mm256_set1_ps(seed); 12];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm256_fmadd_ps(*v, m, k);
        }
    }
    let mut s = _mm256_setzero_ps();
    for v in acc {
        s = _mm256_add_ps(s, v);
    }
    let mut out = [0.0f32; 8];
    _mm256_storeu_ps(out.as_mut_ptr(), s);
    out.iter().sum()
}
