//! Embedding table lookup and its scatter-add backward.

use crate::check::dims_eq;
use crate::util::{contig, mut_slice, sl};
use crate::Real;
use ndarray::{ArrayView2, ArrayViewMut2};

/// `out[n] = w[ids[n]]`. `ids`: `[N]`, `w`: `[V, E]`, `out`: `[N, E]` (overwritten).
/// Panics on an id outside `0..V` (the JavaScript side checks first).
pub fn embedding_forward<T: Real>(ids: &[i32], w: ArrayView2<T>, mut out: ArrayViewMut2<T>) {
    const N: &str = "embedding_forward";
    let (v, e) = w.dim();
    dims_eq(N, "out", out.dim(), (ids.len(), e));
    let w = contig(w);
    let ws = sl(&w);
    let os = mut_slice(N, "out", &mut out);
    for (n, &id) in ids.iter().enumerate() {
        assert!(id >= 0 && (id as usize) < v, "{N}: ids[{n}] = {id} is not in 0..{v}");
        let id = id as usize;
        os[n * e..(n + 1) * e].copy_from_slice(&ws[id * e..(id + 1) * e]);
    }
}

/// Backward of `embedding_forward`: `dw[ids[n]] += dout[n]` for n in increasing order
/// (scatter-ADD: `dw` is NOT cleared, so the encoder's and the decoder's uses of a shared table
/// accumulate into one gradient; zero it first for a fresh one). `dout`: `[N, E]`, `dw`: `[V, E]`.
pub fn embedding_backward<T: Real>(ids: &[i32], dout: ArrayView2<T>, mut dw: ArrayViewMut2<T>) {
    const N: &str = "embedding_backward";
    let (v, e) = dw.dim();
    dims_eq(N, "dout", dout.dim(), (ids.len(), e));
    let dout = contig(dout);
    let ds = sl(&dout);
    let ws = mut_slice(N, "dw", &mut dw);
    for (n, &id) in ids.iter().enumerate() {
        assert!(id >= 0 && (id as usize) < v, "{N}: ids[{n}] = {id} is not in 0..{v}");
        let id = id as usize;
        for (d, &g) in ws[id * e..(id + 1) * e].iter_mut().zip(&ds[n * e..(n + 1) * e]) {
            *d = *d + g;
        }
    }
}
