//! The floating-point types the kernels run on: `f32` (what ships) and `f64` (what the
//! finite-difference tests on the host use). Each type brings its own GEMM micro-kernel and
//! its own packing scratch space.

use std::cell::RefCell;

/// Rows of the GEMM micro-tile (rows of C computed at once).
pub const MR: usize = 4;
/// Columns of the GEMM micro-tile (two simd128 vectors of f32).
pub const NR: usize = 8;

pub trait Real:
    num_traits::Float
    + ndarray::LinalgScalar
    + Default
    + Send
    + Sync
    + std::fmt::Debug
    + std::iter::Sum
    + 'static
{
    /// The MR×NR micro-kernel: `tile[r*NR + j] = Σ_p ap[p*MR + r] · bp[p*NR + j]` for `p < kc`,
    /// summed in increasing `p` (the order is fixed, whatever the threads).
    /// `ap`: `[kc, MR]` packed rows of op(A); `bp`: `[kc, NR]` packed columns of op(B).
    fn micro_kernel(kc: usize, ap: &[Self], bp: &[Self], tile: &mut [Self; MR * NR]);

    /// Runs `f` with this thread's two packing buffers (kept between calls: no allocation
    /// once they have grown to the largest block).
    fn with_pack_buffers<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R;

    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
}

thread_local! {
    static PACK_F32: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    static PACK_F64: RefCell<(Vec<f64>, Vec<f64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Portable micro-kernel (f64 always; f32 when simd128 is off, e.g. on the host or in the
/// scalar comparison build).
#[inline(always)]
fn micro_kernel_generic<T: Real>(kc: usize, ap: &[T], bp: &[T], tile: &mut [T; MR * NR]) {
    let mut acc = [[T::zero(); NR]; MR];
    let ap = &ap[..kc * MR];
    let bp = &bp[..kc * NR];
    for (a, b) in ap.chunks_exact(MR).zip(bp.chunks_exact(NR)) {
        for r in 0..MR {
            let ar = a[r];
            for j in 0..NR {
                acc[r][j] = acc[r][j] + ar * b[j];
            }
        }
    }
    for r in 0..MR {
        tile[r * NR..(r + 1) * NR].copy_from_slice(&acc[r]);
    }
}

impl Real for f64 {
    #[inline]
    fn micro_kernel(kc: usize, ap: &[f64], bp: &[f64], tile: &mut [f64; MR * NR]) {
        micro_kernel_generic(kc, ap, bp, tile)
    }
    fn with_pack_buffers<R>(f: impl FnOnce(&mut Vec<f64>, &mut Vec<f64>) -> R) -> R {
        PACK_F64.with(|c| {
            let mut g = c.borrow_mut();
            let (a, b) = &mut *g;
            f(a, b)
        })
    }
    #[inline(always)]
    fn from_f64(x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    #[inline]
    fn micro_kernel(kc: usize, ap: &[f32], bp: &[f32], tile: &mut [f32; MR * NR]) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            crate::gemm::simd::micro_kernel_f32(kc, ap, bp, tile)
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        {
            micro_kernel_generic(kc, ap, bp, tile)
        }
    }
    fn with_pack_buffers<R>(f: impl FnOnce(&mut Vec<f32>, &mut Vec<f32>) -> R) -> R {
        PACK_F32.with(|c| {
            let mut g = c.borrow_mut();
            let (a, b) = &mut *g;
            f(a, b)
        })
    }
    #[inline(always)]
    fn from_f64(x: f64) -> f32 {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
