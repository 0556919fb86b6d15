//! The CPU's multiply-add ceiling in this build: a loop over registers only (no memory
//! traffic), the yardstick the benchmarks report GEMM and LSTM speed against.

/// Runs `iters` iterations of 12 independent 4-lane multiply-adds (when simd128 is on;
/// scalar otherwise) and returns a value that depends on all of them (so nothing is elided).
/// Floating-point operations done: `iters * 12 * lanes * 2` (12 chains hide the add latency).
pub fn peak_loop(iters: u32, seed: f32) -> (f32, u64) {
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
