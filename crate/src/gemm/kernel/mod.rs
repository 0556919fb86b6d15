//! The register micro-kernels, one module per instruction set, the element types GEMM runs on
//! (`f32`, what ships, and `f64`, what the finite-difference tests on the host use), and the choice
//! of kernel (`isa`).
//!
//! - `scalar`: portable loops, 4×8 (f64 always; f32 on the host with `Isa::Portable`);
//! - `simd128`: f32 with simd128 multiply then add, 4×8 (wasm);
//! - `relaxed`: f32 with relaxed-SIMD fused multiply-add (the same loop as `simd128`);
//! - `avx2`: f32 with AVX2 + FMA, 6×16 (x86-64, chosen at run time);
//! - `avx512`: f32 with AVX-512F, 8×32 (x86-64, chosen at run time).
//!
//! In wasm the f32 kernel is fixed at compile time by the target features (`Isa::Portable`); on
//! x86-64 `isa::isa()` picks one once (the best the CPU has, or `LSTM_VAE_ISA`).

pub use element::{GemmFloat, Kernel, KernelUser};
pub use isa::{isa, isa_reason, set_isa, Isa};
use std::cell::RefCell;

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
pub(crate) mod element;
mod isa;
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

/// The build's own kernel (`Isa::Portable`): 4×8 tiles, simd128 or relaxed-SIMD in wasm, plain
/// loops elsewhere (and for f64 everywhere).
pub struct Portable;

impl Kernel<f64> for Portable {
    const MR: usize = scalar::MR;
    const NR: usize = scalar::NR;
    const MC: usize = 64;
    #[inline(always)]
    unsafe fn tile(
        kc: usize, a: *const f64, a_rs: usize, a_cs: usize, b: *const f64, b_cs: usize, c: *mut f64, ldc: usize, alpha: f64, mr: usize,
        nr: usize,
    ) {
        scalar::tile(kc, a, a_rs, a_cs, b, b_cs, c, ldc, alpha, mr, nr)
    }
}

impl Kernel<f32> for Portable {
    const MR: usize = scalar::MR;
    const NR: usize = scalar::NR;
    const MC: usize = 64;
    #[inline(always)]
    unsafe fn tile(
        kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize,
        nr: usize,
    ) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            simd128::tile_f32(kc, a, a_rs, a_cs, b, b_cs, c, ldc, alpha, mr, nr)
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        {
            scalar::tile(kc, a, a_rs, a_cs, b, b_cs, c, ldc, alpha, mr, nr)
        }
    }
}

impl GemmFloat for f64 {
    #[inline(always)]
    fn with_kernel<U: KernelUser<f64>>(_isa: Isa, u: U) -> U::Out {
        u.run::<Portable>()
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
    fn with_kernel<U: KernelUser<f32>>(isa: Isa, u: U) -> U::Out {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => u.run::<avx512::Avx512>(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => u.run::<avx2::Avx2>(),
            _ => u.run::<Portable>(),
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
