//! The recurrence of a batch of one in the wasm SIMD builds: `g += h · W_hhᵀ` for a single row,
//! with the GEMM micro-kernel's arithmetic and no padding.
//!
//! A live stream reconstructs one window at a time, and its scores must equal the batch's to the
//! last bit. Inside a batch, the GEMM computes each element of `h · W_hhᵀ` as the micro-kernel
//! does (`crate::gemm::kernel`): an accumulator from 0, `acc = madd(h[p], Wᵀ[p, j], acc)` for
//! `p = 0, 1, …, H−1` (one block of k when `H ≤ KC`), then `g[j] = g[j] + acc`. Through the GEMM,
//! one row costs as much as a tile of MR rows (the rest zero padding) and is packed every step;
//! here the same operations run on one row, eight vectors of columns at a time (enough
//! independent accumulators to hide the multiply-add latency), from `W_hhᵀ` laid out once per call.
//! `tests` in `test/stream*.test.ts` check the equality on every build; on other targets the
//! batch of one goes through the GEMM.

use core::arch::wasm32::*;

/// Hidden sizes up to this run here: one block of k in the blocked GEMM (its `KC`), so the GEMM
/// adds one partial sum per element, as this does.
pub(super) const MAX_H: usize = 256;

/// `W_hhᵀ` `[H, 4H]` of one call.
pub(super) struct RowRecurrence {
    wt: Vec<f32>,
    h: usize,
}

impl RowRecurrence {
    /// From `w_hh` `[4H, H]` (PyTorch layout).
    pub(super) fn new(w_hh: &[f32], h: usize) -> Self {
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
        RowRecurrence { wt, h }
    }

    /// `g[j] = g[j] + Σ_p h[p] · W_hhᵀ[p, j]` for `j < 4H`, in the micro-kernel's order.
    pub(super) fn apply(&self, hprev: &[f32], g: &mut [f32]) {
        let (h, g4) = (self.h, 4 * self.h);
        assert!(hprev.len() >= h && g.len() >= g4);
        let madd = crate::gemm::kernel::madd;
        let w = self.wt.as_ptr();
        let mut j0 = 0;
        unsafe {
            // 32 columns (8 vectors) at a time, then 4
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
}
