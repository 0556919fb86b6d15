//! The CPU's multiply-add ceiling in this build: a loop over registers only (no memory
//! traffic), the yardstick the benchmarks report GEMM and LSTM speed against.

#[cfg(all(test, target_arch = "x86_64"))]
mod bench;

/// Runs `iters` iterations of 12 independent 4-lane multiply-adds (when simd128 is on; on x86-64
/// the fused multiply-add of the current GEMM kernel, `gemm::isa()`: 8 lanes with AVX2+FMA, 16
/// with AVX-512F; scalar otherwise) and returns a value that depends on all of them (so nothing is
/// elided) and the floating-point operations done: `iters * 12 * lanes * 2` (12 chains hide the
/// latency).
pub fn peak_loop(iters: u32, seed: f32) -> (f32, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        peak_loop_isa(crate::gemm::isa(), iters, seed)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        peak_loop_build(iters, seed)
    }
}

/// `peak_loop` with the multiply-add of the kernel of `isa` (x86-64; which the CPU must have).
#[cfg(target_arch = "x86_64")]
pub fn peak_loop_isa(isa: crate::gemm::Isa, iters: u32, seed: f32) -> (f32, u64) {
    use crate::gemm::{kernel, Isa};
    assert!(isa.available(), "peak_loop: the {} kernel is not supported by this CPU", isa.name());
    match isa {
        Isa::Avx512 => (unsafe { kernel::avx512::peak(iters, seed) }, iters as u64 * 12 * 16 * 2),
        Isa::Avx2 => (unsafe { kernel::avx2::peak(iters, seed) }, iters as u64 * 12 * 8 * 2),
        Isa::Portable => peak_loop_build(iters, seed),
    }
}

/// The loop of the build's own target features (simd128 multiply-add in wasm, scalar elsewhere).
fn peak_loop_build(iters: u32, seed: f32) -> (f32, u64) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use crate::gemm::kernel::madd;
        use core::arch::wasm32::*;
        let m = f32x4_splat(0.999_999);
        let a = f32x4_splat(1e-7);
        let mut acc = [f32x4_splat(seed); 12];
        for _ in 0..iters {
            for v in acc.iter_mut() {
                *v = madd(*v, m, a);
            }
        }
        let mut s = f32x4_splat(0.0);
        for v in acc {
            s = f32x4_add(s, v);
        }
        let r = f32x4_extract_lane::<0>(s) + f32x4_extract_lane::<3>(s);
        (r, iters as u64 * 12 * 4 * 2)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let mut acc = [seed; 8];
        for _ in 0..iters {
            for v in acc.iter_mut() {
                *v = *v * 0.999_999 + 1e-7;
            }
        }
        (acc.iter().sum(), iters as u64 * 8 * 2)
    }
}
