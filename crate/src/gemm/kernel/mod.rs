//! The MR×NR register micro-kernel, one module per instruction set, and the element types GEMM
//! runs on (`f32`, what ships, and `f64`, what the finite-difference tests on the host use).
//!
//! - `scalar`: portable loops (f64 always; f32 when simd128 is off: the host, the scalar bench build);
//! - `simd128`: f32 with simd128 multiply then add;
//! - `relaxed`: f32 with relaxed-SIMD fused multiply-add (the same loop as `simd128`).
//!
//! Which one f32 uses is fixed at compile time by the target features.

pub use element::{GemmFloat, MR, NR};
use std::cell::RefCell;

mod element;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", target_feature = "relaxed-simd"))]
mod relaxed;
mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

/// The f32x4 multiply-add of this build (`a·b + c`): fused with relaxed-SIMD, else a multiply then
/// an add. Shared with the benchmarks' peak loop.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", target_feature = "relaxed-simd"))]
pub use relaxed::madd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
pub use simd128::madd;

thread_local! {
    static PACK_F32: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    static PACK_F64: RefCell<(Vec<f64>, Vec<f64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

impl GemmFloat for f64 {
    #[inline(always)]
    unsafe fn micro_kernel(kc: usize, a: *const f64, a_rs: usize, a_cs: usize, b: *const f64, b_cs: usize, tile: &mut [f64; MR * NR]) {
        scalar::micro_kernel(kc, a, a_rs, a_cs, b, b_cs, tile)
    }
    fn with_pack_buffers<R>(f: impl FnOnce(&mut Vec<f64>, &mut Vec<f64>) -> R) -> R {
        PACK_F64.with(|c| {
            let mut g = c.borrow_mut();
            let (a, b) = &mut *g;
            f(a, b)
        })
    }
}

impl GemmFloat for f32 {
    #[inline(always)]
    unsafe fn micro_kernel(kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, tile: &mut [f32; MR * NR]) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128", target_feature = "relaxed-simd"))]
        {
            relaxed::micro_kernel_f32(kc, a, a_rs, a_cs, b, b_cs, tile)
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
        {
            simd128::micro_kernel_f32(kc, a, a_rs, a_cs, b, b_cs, tile)
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        {
            scalar::micro_kernel(kc, a, a_rs, a_cs, b, b_cs, tile)
        }
    }
    fn with_pack_buffers<R>(f: impl FnOnce(&mut Vec<f32>, &mut Vec<f32>) -> R) -> R {
        PACK_F32.with(|c| {
            let mut g = c.borrow_mut();
            let (a, b) = &mut *g;
            f(a, b)
        })
    }
}
