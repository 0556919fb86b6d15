//! Kernels of lstm-vae: plain Rust functions over slices (and ndarray views at the boundary).
//!
//! Everything here is ordinary Rust that builds and tests on the host (`cargo test`). The only
//! file that knows about JavaScript is `bindings.rs`, compiled for `wasm32` (and on the host with
//! the `native-abi` feature, for the Node-API backend in `native/`).
//!
//! Build variants are chosen with target features in this one source:
//! - `simd128`: explicit simd128 micro-kernels (`gemm::kernel`), auto-vectorised elementwise loops;
//! - `atomics`: a rayon pool whose threads are Web Workers / worker_threads (see `par`);
//! - `relaxed-simd`: fused multiply-add in the GEMM micro-kernel.
//!
//! The cargo feature `bench` adds what only the benchmarks call (`peak`, and in the bindings
//! `peak_loop`, `peak_loop_parallel`, `sgemm_matrixmultiply`); the shipped builds leave it out.
//!
//! Modules, from the bottom up (each uses only modules listed before it; `scripts/check-cycles`
//! checks that no module imports one that imports it back):
//! `par`, `util`, `check`, `reduce` → `gemm` → `real` → `act` → `lstm`, `nn`, `optim` → `bindings`.

// Indexed loops over lanes and tiles (`for j in 0..NR { acc[j] = … }`) are the kernels' deliberate
// style: the order of every sum is explicit and they vectorise as written.
#![allow(clippy::needless_range_loop)]

pub mod act;
mod check;
pub mod gemm;
pub mod lstm;
pub mod nn;
pub mod optim;
pub mod par;
#[cfg(feature = "bench")]
pub mod peak;
pub mod real;
mod reduce;
#[cfg(test)]
mod testutil;
mod util;

pub use real::Real;

#[cfg(any(target_arch = "wasm32", feature = "native-abi"))]
pub mod bindings;
