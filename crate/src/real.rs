//! The floating-point types the kernels run on: `f32` (what ships) and `f64` (what the
//! finite-difference tests on the host use). Their GEMM side (micro-kernel, packing scratch) is
//! `gemm::GemmFloat`; this adds what the other kernels need.

use crate::gemm::GemmFloat;

pub trait Real: GemmFloat + ndarray::LinalgScalar + std::iter::Sum {
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Real for f64 {
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
    fn from_f64(x: f64) -> f32 {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
