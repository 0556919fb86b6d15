//! Kernels of lstm-vae: plain Rust functions over slices (and ndarray views at the boundary).
//!
//! Everything here is ordinary Rust that builds and tests on the host (`cargo test`). The only
//! file that knows about JavaScript is `bindings.rs`, compiled for `wasm32` only.
//!
//! Build variants are chosen with target features in this one source:
//! - `simd128`: explicit simd128 micro-kernels (`gemm`), auto-vectorised elementwise loops;
//! - `atomics`: a rayon pool whose threads are Web Workers / worker_threads (see `par`);
//! - `relaxed-simd`: fused multiply-add in the GEMM micro-kernel.

pub mod real;
pub mod par;
pub mod gemm;
pub mod peak;
pub mod act;
pub mod lstm;
pub mod nn;
pub mod optim;
mod util;
#[cfg(test)]
mod testutil;

pub use real::Real;

#[cfg(target_arch = "wasm32")]
mod bindings;
