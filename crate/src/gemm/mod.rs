//! Single-precision (and, for tests, double-precision) GEMM, row-major:
//!
//! ```text
//! C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C[m, n]
//! ```
//!
//! `op(A)` is `A` (`a[i*lda + p]`) or, with `ta`, `Aᵀ` (`a[p*lda + i]`); likewise `op(B)`.
//! Blocked and packed (KC × NC panels of B, MC × KC blocks of A) around an MR×NR register
//! micro-kernel (simd128, or relaxed fused multiply-add, in wasm; AVX2+FMA or AVX-512F on x86-64,
//! chosen at run time: `kernel::isa`). Threads split the larger of
//! the M and N dimensions into disjoint strips; every element's sum over k runs in the same order
//! for any thread count, so results do not depend on the number of threads.
//!
//! Files: `args` (the call's shapes), `driver` (entry points, threads), `blocked`
//! (one thread's blocked loops), `pack` (packing), `packed_b` (a B packed once for many calls),
//! `kernel` (the element types and micro-kernels, one module per instruction set). Outside `gemm`
//! these files use only `par`, `util` and `reduce`; the files inside use each other, never this one.

mod args;
mod blocked;
mod driver;
pub mod kernel;
mod pack;
mod packed_b;
#[cfg(feature = "bench")]
pub mod prof;
#[cfg(test)]
mod tests;

pub use args::Gemm;
pub use driver::{gemm, gemm_reference, gemm_st, gemm_with_isa, matmul};
pub use kernel::{isa, isa_reason, set_isa, GemmFloat, Isa};
pub use packed_b::{gemm_packed_st, PackedB};
