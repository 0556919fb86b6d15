//! Single-precision (and, for tests, double-precision) GEMM, row-major:
//!
//! ```text
//! C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C[m, n]
//! ```
//!
//! `op(A)` is `A` (`a[i*lda + p]`) or, with `ta`, `Aᵀ` (`a[p*lda + i]`); likewise `op(B)`.
//! Blocked and packed (KC × NC panels of B, MC × KC blocks of A) around an MR×NR register
//! micro-kernel (simd128, or relaxed fused multiply-add, in wasm; AVX2+FMA or AVX-512F on x86-64). Threads split the larger of
//! the M and N dimensions into disjoint strips; every element's sum over k runs in the same order
//! for any thread count, so results do not depend on the number of threads.

use super::args::Gemm;
use super::blocked::blocked;
use super::kernel::{isa, GemmFloat, Isa, Kernel, KernelUser};
use super::pack::pack_b;
use crate::par::{for_each_task, threads, SendPtr};
use crate::util::work;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Below this many multiply-adds a GEMM runs on one thread: waking a pool thread in wasm costs tens
/// of microseconds, as much as ~1M multiply-adds (measured: 32×256×68 took 1.7× longer on 2 threads
/// than on 1 with the old threshold of 32K).
const PAR_MIN_MACS: u64 = 1 << 21;

/// `C = alpha · op(A) · op(B) + beta · C`. With `beta == 0`, C is overwritten (its old contents,
/// NaN included, are ignored, as in BLAS). Panics if a slice is shorter than the shapes need
/// (callers at the JavaScript boundary check shapes first and return a typed error).
pub fn gemm<T: GemmFloat>(g: Gemm, alpha: T, a: &[T], b: &[T], beta: T, c: &mut [T]) {
    gemm_impl(g, alpha, a, b, beta, c, true)
}

/// `gemm` on the calling thread only (for callers that already split the work between threads).
pub fn gemm_st<T: GemmFloat>(g: Gemm, alpha: T, a: &[T], b: &[T], beta: T, c: &mut [T]) {
    gemm_impl(g, alpha, a, b, beta, c, false)
}

fn beta_pass<T: GemmFloat>(g: Gemm, beta: T, c: &mut [T]) {
    for i in 0..g.m {
        let row = &mut c[i * g.ldc..i * g.ldc + g.n];
        if beta == T::zero() {
            row.fill(T::zero());
        } else if beta != T::one() {
            row.iter_mut().for_each(|v| *v = *v * beta);
        }
    }
}

fn gemm_impl<T: GemmFloat>(g: Gemm, alpha: T, a: &[T], b: &[T], beta: T, c: &mut [T], allow_par: bool) {
    gemm_impl_isa(isa(), g, alpha, a, b, beta, c, allow_par)
}

/// `gemm` with the kernel of `isa` (tests and benchmarks compare kernels with it).
/// Panics if this CPU cannot run it.
#[allow(clippy::too_many_arguments)]
pub fn gemm_with_isa<T: GemmFloat>(isa: Isa, g: Gemm, alpha: T, a: &[T], b: &[T], beta: T, c: &mut [T], allow_par: bool) {
    assert!(isa.available(), "gemm: the {} kernel is not supported by this CPU or build", isa.name());
    gemm_impl_isa(isa, g, alpha, a, b, beta, c, allow_par)
}

#[allow(clippy::too_many_arguments)]
fn gemm_impl_isa<T: GemmFloat>(isa: Isa, g: Gemm, alpha: T, a: &[T], b: &[T], beta: T, c: &mut [T], allow_par: bool) {
    assert!(a.len() >= g.a_len(), "gemm: a has {} elements, needs {}", a.len(), g.a_len());
    assert!(b.len() >= g.b_len(), "gemm: b has {} elements, needs {}", b.len(), g.b_len());
    assert!(c.len() >= g.c_len(), "gemm: c has {} elements, needs {}", c.len(), g.c_len());
    assert!(g.ldc >= g.n || g.m <= 1);
    if g.m == 0 || g.n == 0 {
        return;
    }
    #[cfg(feature = "bench")]
    let _prof = super::prof::scope(&g, false);
    beta_pass(g, beta, c);
    if g.k == 0 || alpha == T::zero() {
        return;
    }
    // in u64: on wasm32 the product of three dimensions can exceed usize
    let macs = work(&[g.m, g.n, g.k]);
    let nthreads = if allow_par && macs >= PAR_MIN_MACS { threads() } else { 1 };
    T::with_kernel(
        isa,
        Split { g, alpha, a: SendPtr(a.as_ptr() as *mut T), b: SendPtr(b.as_ptr() as *mut T), c: SendPtr(c.as_mut_ptr()), nthreads },
    )
}

/// The blocked GEMM on `nthreads` tasks with the kernel `K` (beta already applied).
struct Split<T> {
    g: Gemm,
    alpha: T,
    a: SendPtr<T>,
    b: SendPtr<T>,
    c: SendPtr<T>,
    nthreads: usize,
}

impl<T: GemmFloat> KernelUser<T> for Split<T> {
    type Out = ();
    fn run<K: Kernel<T>>(self) {
        let Split { g, alpha, a: ap, b: bp, c: cp, nthreads } = self;
        if nthreads <= 1 {
            unsafe { gemm_serial::<T, K>(g, alpha, ap.0, bp.0, cp.0) };
            return;
        }
        // Split the dimension with more micro-tiles into `tasks` strips of whole tiles.
        let split_n = g.n.div_ceil(K::NR) >= g.m.div_ceil(K::MR);
        let (dim, unit) = if split_n { (g.n, K::NR) } else { (g.m, K::MR) };
        let tiles = dim.div_ceil(unit);
        let tasks = nthreads.min(tiles);
        for_each_task(tasks, move |t| {
            let lo = (tiles * t / tasks) * unit;
            let hi = ((tiles * (t + 1) / tasks) * unit).min(dim);
            if lo >= hi {
                return;
            }
            let (ap, bp, cp) = (ap, bp, cp);
            unsafe {
                if split_n {
                    let sub = Gemm { n: hi - lo, ..g };
                    let boff = if g.tb { lo * g.ldb } else { lo };
                    gemm_serial::<T, K>(sub, alpha, ap.0, bp.0.add(boff), cp.0.add(lo));
                } else {
                    let sub = Gemm { m: hi - lo, ..g };
                    let aoff = if g.ta { lo } else { lo * g.lda };
                    gemm_serial::<T, K>(sub, alpha, ap.0.add(aoff), bp.0, cp.0.add(lo * g.ldc));
                }
            }
        });
    }
}

/// One thread's blocked GEMM: `C += alpha · op(A) · op(B)` (beta already applied).
unsafe fn gemm_serial<T: GemmFloat, K: Kernel<T>>(g: Gemm, alpha: T, a: *const T, b: *const T, c: *mut T) {
    // B is read in place when its rows are short (e.g. `[k, 8]` weights): the strips then lie in
    // few cache lines and packing would cost as much as the product; likewise for a single row of A
    // (batch 1: no GEMV of its own, so that one row gives the bits it gives inside a batch), which
    // reads each element of B once. Otherwise it is packed.
    let direct_b = !g.tb && (g.ldb <= 4 * K::NR || g.m == 1);
    blocked::<T, K>(g, alpha, a, c, direct_b.then_some(b), |jc, pc, kc, nc, buf: &mut Vec<T>| -> *const T {
        pack_b(g, b, pc, kc, jc, nc, K::NR, buf);
        buf.as_ptr()
    })
}

/// `c = a · b` (overwrites c) on ndarray views: the shapes are checked here, once.
/// a: `[m, k]`, b: `[k, n]`, c: `[m, n]`, all in standard (row-major, contiguous rows) layout.
pub fn matmul<T: GemmFloat>(a: ArrayView2<T>, b: ArrayView2<T>, mut c: ArrayViewMut2<T>) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "matmul: a is [{m}, {k}] but b is [{k2}, {n}]");
    assert_eq!(c.dim(), (m, n), "matmul: c must be [{m}, {n}]");
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let cs = c.as_slice_mut().expect("matmul: c must be contiguous");
    gemm(Gemm::nn(m, n, k), T::one(), a.as_slice().unwrap(), b.as_slice().unwrap(), T::zero(), cs);
}

/// Straightforward triple loop in f64 (the reference the tests compare with).
pub fn gemm_reference(g: Gemm, alpha: f64, a: &[f64], b: &[f64], beta: f64, c: &mut [f64]) {
    for i in 0..g.m {
        for j in 0..g.n {
            let mut s = 0.0;
            for p in 0..g.k {
                let av = if g.ta { a[p * g.lda + i] } else { a[i * g.lda + p] };
                let bv = if g.tb { b[j * g.ldb + p] } else { b[p * g.ldb + j] };
                s += av * bv;
            }
            let old = if beta == 0.0 { 0.0 } else { beta * c[i * g.ldc + j] };
            c[i * g.ldc + j] = old + alpha * s;
        }
    }
}
