//! Small helpers of the kernels: contiguous slices out of ndarray views, row-parallel loops.

use crate::par::{for_each_task, threads, SendPtr};

use ndarray::{ArrayView, ArrayViewMut, CowArray, Dimension};

/// The view itself when it is in standard (row-major, contiguous) layout, else a standard copy.
pub(crate) fn contig<'a, T: Clone, D: Dimension>(v: ArrayView<'a, T, D>) -> CowArray<'a, T, D> {
    if v.is_standard_layout() {
        CowArray::from(v)
    } else {
        CowArray::from(v.as_standard_layout().into_owned())
    }
}

/// The contiguous slice of a standard-layout array (as made by `contig`).
pub(crate) fn sl<'b, T, D: Dimension>(v: &'b CowArray<'_, T, D>) -> &'b [T] {
    v.as_slice().expect("standard layout")
}

/// The slice of an output view; panics, naming the argument, if it is not contiguous.
pub(crate) fn mut_slice<'a, T, D: Dimension>(name: &str, arg: &str, v: &'a mut ArrayViewMut<'_, T, D>) -> &'a mut [T] {
    v.as_slice_mut().unwrap_or_else(|| panic!("{name}: {arg} must be contiguous (standard layout)"))
}

/// The raw pointer of a `SendPtr` (a function, so that closures capture the whole `SendPtr`).
#[inline(always)]
pub(crate) fn ptr<T>(p: SendPtr<T>) -> *mut T {
    p.0
}

/// Runs `f(lo, hi)` over disjoint ranges covering `0..rows`, split between threads when the
/// total `work` reaches `min_work`. Callers process each row the same way whatever the split,
/// so results do not depend on the number of threads.
pub(crate) fn par_rows(rows: usize, work: u64, min_work: u64, f: impl Fn(usize, usize) + Sync + Send) {
    let tasks = if work >= min_work { threads().min(rows) } else { 1 };
    if tasks <= 1 {
        f(0, rows);
    } else {
        for_each_task(tasks, |k| f(rows * k / tasks, rows * (k + 1) / tasks));
    }
}

/// The product of `dims` as u64 (work estimates: on wasm32 a product of four dimensions can
/// overflow usize, e.g. B·T·4H·H = 2³² at B = T = 128, H = 256, which once disabled threading).
pub(crate) fn work(dims: &[usize]) -> u64 {
    dims.iter().fold(1u64, |p, &d| p.saturating_mul(d as u64))
}
