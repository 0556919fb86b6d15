//! The recurrence of a batch of one: `g += h · W_hhᵀ` for a single row, with the arithmetic of
//! the GEMM micro-kernel in use and without its padding.
//!
//! A live stream reconstructs one window at a time, and its scores must equal the batch's to the
//! last bit. Inside a batch, the GEMM computes each element of `h · W_hhᵀ` as its micro-kernel
//! does (`crate::gemm::kernel`): an accumulator from 0, `acc ← h[p]·Wᵀ[p, j] + acc` for
//! `p = 0, 1, …, H−1` (one block of k when `H ≤ KC`), then `g[j] = g[j] + acc`. The multiply-add
//! is the kernel's: simd128 multiply then add, or relaxed-SIMD's, in wasm; fused (FMA) in the
//! x86-64 AVX2 and AVX-512 kernels; multiply then add in the portable one. Through the GEMM, one
//! row costs as much as a tile of MR rows (4 in wasm, 6 with AVX2, 8 with AVX-512: the rest is
//! zero padding) and is packed at every step; here the same operations run on one row, many
//! vectors of columns at a time (enough independent accumulators to hide the multiply-add's
//! latency), from `W_hhᵀ` laid out once per call.
//!
//! Tests: `lstm::tests` compares `apply` with the GEMM for every kernel this CPU has, bit for bit;
//! `test/stream*.test.ts` checks the stream against the batch on every build.

use crate::gemm::Isa;

/// Hidden sizes up to this run here: one block of k in the blocked GEMM (its `KC`), so the GEMM
/// adds one partial sum per element, as this does.
pub(super) const MAX_H: usize = 256;

/// How the multiply-adds are done: the GEMM kernel's arithmetic.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// wasm simd128 / relaxed-SIMD: `crate::gemm::kernel::madd`.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    Wasm,
    /// x86-64 fused multiply-add on 8 lanes (the AVX2 and AVX-512 kernels: per element the same).
    #[cfg(target_arch = "x86_64")]
    Fma,
    /// A multiply then an add, one element at a time (the portable kernel).
    #[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
    Plain,
}

/// `W_hhᵀ` `[H, 4H]` of one call, and the arithmetic of the kernel it must match.
pub(super) struct RowRecurrence {
    wt: Vec<f32>,
    h: usize,
    mode: Mode,
}

impl RowRecurrence {
    /// From `w_hh` `[4H, H]` (PyTorch layout), for the GEMM kernel in use.
    pub(super) fn new(w_hh: &[f32], h: usize) -> Self {
        Self::with_isa(w_hh, h, crate::gemm::isa())
    }

    /// As `new`, matching the kernel of `isa` (which the CPU must have).
    pub(super) fn with_isa(w_hh: &[f32], h: usize, isa: Isa) -> Self {
        let g4 = 4 * h;
        assert!(h <= MAX_H && w_hh.len() >= g4 * h);
        // rows of W_hh scattered into columns of Wᵀ, each row a contiguous read
        let mut wt = Vec::with_capacity(h * g4);
        let dst = wt.spare_capacity_mut();
        for (j, row) in w_hh[..g4 * h].chunks_exact(h).enumerate() {
            for (p, &v) in row.iter().enumerate() {
                dst[p * g4 + j].write(v);
            }
        }
        // SAFETY: every element of the h × 4H block was written above.
        unsafe { wt.set_len(h * g4) };
        let _ = isa;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let mode = Mode::Wasm;
        #[cfg(target_arch = "x86_64")]
        let mode = if matches!(isa, Isa::Avx2 | Isa::Avx512) { Mode::Fma } else { Mode::Plain };
        #[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
        let mode = Mode::Plain;
        RowRecurrence { wt, h, mode }
    }

    /// `g[j] = g[j] + Σ_p h[p] · W_hhᵀ[p, j]` for `j < 4H`, in the micro-kernel's order.
    pub(super) fn apply(&self, hprev: &[f32], g: &mut [f32]) {
        let (h, g4) = (self.h, 4 * self.h);
        assert!(hprev.len() >= h && g.len() >= g4);
        let (hprev, g) = (&hprev[..h], &mut g[..g4]);
        match self.mode {
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Mode::Wasm => unsafe { wasm::apply(&self.wt, hprev, g) },
            // SAFETY: Fma is chosen only for the AVX2 / AVX-512 kernels, which need AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            Mode::Fma => unsafe { x86::apply(&self.wt, hprev, g) },
            Mode::Plain => plain(&self.wt, hprev, g),
        }
    }
}

/// The portable kernel's arithmetic, one column at a time.
fn plain(wt: &[f32], hprev: &[f32], g: &mut [f32]) {
    let g4 = g.len();
    for (j, gj) in g.iter_mut().enumerate() {
        let mut acc = 0.0f32;
        for (p, &hp) in hprev.iter().enumerate() {
            acc += hp * wt[p * g4 + j];
        }
        *gj += acc;
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    /// 32 columns (8 vectors) at a time, then 4.
    pub(super) unsafe fn apply(wt: &[f32], hprev: &[f32], g: &mut [f32]) {
        let (h, g4) = (hprev.len(), g.len());
        let madd = crate::gemm::kernel::madd;
        let w = wt.as_ptr();
        let mut j0 = 0;
        while j0 + 32 <= g4 {
            let mut acc = [f32x4_splat(0.0); 8];
            for p in 0..h {
                let av = f32x4_splat(*hprev.get_unchecked(p));
                let row = w.add(p * g4 + j0);
                for v in 0..8 {
                    acc[v] = madd(av, v128_load(row.add(4 * v) as *const v128), acc[v]);
                }
            }
            for v in 0..8 {
                let o = g.as_mut_ptr().add(j0 + 4 * v) as *mut v128;
                v128_store(o, f32x4_add(v128_load(o), acc[v]));
            }
            j0 += 32;
        }
        while j0 < g4 {
            let mut acc = f32x4_splat(0.0);
            for p in 0..h {
                acc = madd(f32x4_splat(*hprev.get_unchecked(p)), v128_load(w.add(p * g4 + j0) as *const v128), acc);
            }
            let o = g.as_mut_ptr().add(j0) as *mut v128;
            v128_store(o, f32x4_add(v128_load(o), acc));
            j0 += 4;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::*;

    /// 64 columns (8 vectors of 8) at a time, then 8, then one by one with the scalar FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn apply(wt: &[f32], hprev: &[f32], g: &mut [f32]) {
        let (h, g4) = (hprev.len(), g.len());
        let w = wt.as_ptr();
        let mut j0 = 0;
        while j0 + 64 <= g4 {
            let mut acc = [_mm256_setzero_ps(); 8];
            for p in 0..h {
                let av = _mm256_set1_ps(*hprev.get_unchecked(p));
                let row = w.add(p * g4 + j0);
                for v in 0..8 {
                    acc[v] = _mm256_fmadd_ps(av, _mm256_loadu_ps(row.add(8 * v)), acc[v]);
                }
            }
            for v in 0..8 {
                let o = g.as_mut_ptr().add(j0 + 8 * v);
                _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), acc[v]));
            }
            j0 += 64;
        }
        while j0 + 8 <= g4 {
            let mut acc = _mm256_setzero_ps();
            for p in 0..h {
                acc = _mm256_fmadd_ps(_mm256_set1_ps(*hprev.get_unchecked(p)), _mm256_loadu_ps(w.add(p * g4 + j0)), acc);
            }
            let o = g.as_mut_ptr().add(j0);
            _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), acc));
            j0 += 8;
        }
        while j0 < g4 {
            let mut acc = 0.0f32;
            for p in 0..h {
                acc = hprev.get_unchecked(p).mul_add(*w.add(p * g4 + j0), acc);
            }
            *g.get_unchecked_mut(j0) += acc;
            j0 += 1;
        }
    }
}
