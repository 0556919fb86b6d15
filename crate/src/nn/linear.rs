//! Dense layer (`nn.Linear`) and the tanh layer.

use crate::act::{tanh, Act};
use crate::check::dims_eq;
use crate::gemm::{gemm, Gemm};
use crate::reduce::column_sums;
use crate::util::{contig, mut_slice, sl};
use crate::Real;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

/// `y = x · wᵀ + b` (PyTorch `nn.Linear`). `x`: `[N, In]`, `w`: `[Out, In]`, `b`: `[Out]`,
/// `y`: `[N, Out]` (overwritten, contiguous). For sequences pass `[B·T, ·]` views.
pub fn linear_forward<T: Real>(x: ArrayView2<T>, w: ArrayView2<T>, b: ArrayView1<T>, mut y: ArrayViewMut2<T>) {
    const N: &str = "linear_forward";
    let (n, k) = x.dim();
    let (o, k2) = w.dim();
    assert_eq!(k, k2, "{N}: x is {:?} but w is {:?} (expected [Out, {k}])", x.dim(), w.dim());
    dims_eq(N, "b", b.len(), o);
    dims_eq(N, "y", y.dim(), (n, o));
    let (x, w) = (contig(x), contig(w));
    let ys = mut_slice(N, "y", &mut y);
    if o == 0 {
        return;
    }
    for row in ys.chunks_exact_mut(o) {
        row.iter_mut().zip(b.iter()).for_each(|(d, &v)| *d = v);
    }
    gemm(Gemm::nt(n, o, k), T::one(), sl(&x), sl(&w), T::one(), ys);
}

/// Backward of `linear_forward`: `dw = dyᵀ · x` `[Out, In]`, `db = Σ_n dy` `[Out]`,
/// `dx = dy · w` `[N, In]` (if wanted); all OVERWRITTEN. `x`: `[N, In]`, `w`: `[Out, In]`, `dy`: `[N, Out]`.
pub fn linear_backward<T: Real>(
    x: ArrayView2<T>, w: ArrayView2<T>, dy: ArrayView2<T>, dx: Option<ArrayViewMut2<T>>, mut dw: ArrayViewMut2<T>, mut db: ArrayViewMut1<T>,
) {
    const N: &str = "linear_backward";
    let (n, k) = x.dim();
    let (o, k2) = w.dim();
    assert_eq!(k, k2, "{N}: x is {:?} but w is {:?} (expected [Out, {k}])", x.dim(), w.dim());
    dims_eq(N, "dy", dy.dim(), (n, o));
    dims_eq(N, "dw", dw.dim(), (o, k));
    dims_eq(N, "db", db.len(), o);
    if let Some(dx) = &dx {
        dims_eq(N, "dx", dx.dim(), (n, k));
    }
    let (x, w, dy) = (contig(x), contig(w), contig(dy));
    gemm(Gemm::tn(o, k, n), T::one(), sl(&dy), sl(&x), T::zero(), mut_slice(N, "dw", &mut dw));
    column_sums(sl(&dy), o, mut_slice(N, "db", &mut db));
    if let Some(mut dx) = dx {
        gemm(Gemm::nn(n, k, o), T::one(), sl(&dy), sl(&w), T::zero(), mut_slice(N, "dx", &mut dx));
    }
}

/// `y = tanh(x)` elementwise (same length).
pub fn tanh_forward<T: Act>(x: &[T], y: &mut [T]) {
    tanh(x, y)
}

/// Backward of `tanh_forward` from its output: `dx = dy · (1 − y²)` (overwritten; same lengths).
pub fn tanh_backward<T: Real>(y: &[T], dy: &[T], dx: &mut [T]) {
    assert!(y.len() == dy.len() && dy.len() == dx.len(), "tanh_backward: y, dy, dx have {}, {}, {} elements", y.len(), dy.len(), dx.len());
    for ((d, &yv), &g) in dx.iter_mut().zip(y).zip(dy) {
        *d = g * (T::one() - yv * yv);
    }
}
