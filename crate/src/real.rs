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
    /// The MR×NR micro-kernel: `tile[r*NR + j] = Σ_p A(r, p) · B(p, j)` for `p < kc`, summed in
    /// increasing `p` (the order is fixed, whatever the threads and wherever A and B are read from),
    /// with `A(r, p) = a[r*a_rs + p*a_cs]` and `B(p, j) = b[p*b_cs + j]`: packed strips
    /// (`a_rs = 1, a_cs = MR`, `b_cs = NR`) or rows of the operands in place (`a_rs = lda, a_cs = 1`,
    /// `b_cs = ldb`).
    ///
    /// # Safety
    /// Every `A(r, p)` and `B(p, j)` for `r < MR`, `j < NR`, `p < kc` must be readable.
    unsafe fn micro_kernel(kc: usize, a: *const Self, a_rs: usize, a_cs: usize, b: *const Self, b_cs: usize, tile: &mut [Self; MR * NR]);

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
unsafe fn micro_kernel_generic<T: Real>(kc: usize, a: *const T, a_rs: usize, a_cs: usize, b: *const T, b_cs: usize, tile: &mut [T; MR * NR]) {
    let mut acc = [[T::zero(); NR]; MR];
    for p in 0..kc {
        let bp = std::slice::from_raw_parts(b.add(p * b_cs), NR);
        for r in 0..MR {
            let ar = *a.add(r * a_rs + p * a_cs);
            for j in 0..NR {
                acc[r][j] = acc[r][j] + ar * bp[j];
            }
        }
    }
    for r in 0..MR {
        tile[r * NR..(r + 1) * NR].copy_from_slice(&acc[r]);
    }
}

impl Real for f64 {
    #[inline(always)]
    unsafe fn micro_kernel(kc: usize, a: *const f64, a_rs: usize, a_cs: usize, b: *const f64, b_cs: usize, tile: &mut [f64; MR * NR]) {
        micro_kernel_generic(kc, a, a_rs, a_cs, b, b_cs, tile)
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
    #[inline(always)]
    unsafe fn micro_kernel(kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, tile: &mut [f32; MR * NR]) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            crate::gemm::simd::micro_kernel_f32(kc, a, a_rs, a_cs, b, b_cs, tile)
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        {
            micro_kernel_generic(kc, a, a_rs, a_cs, b, b_cs, tile)
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
