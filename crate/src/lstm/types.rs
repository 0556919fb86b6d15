//! The views `lstm_forward` and `lstm_backward` take and fill, owned buffers for them, and the
//! scratch space of backward.

use crate::act::Act;
use ndarray::{Array2, Array3, ArrayView3, ArrayViewMut1, ArrayViewMut2, ArrayViewMut3};

/// The time loop is split over batch rows from this many multiply-adds per call on.
pub(super) const PAR_MIN_LOOP: u64 = 1 << 16;

/// Rule of the LSTM's `lengths`: at least one real step (a frozen step repeats the state of a
/// real step before it).
pub(super) const MIN_LEN: u32 = 1;

/// Where `lstm_forward` writes (views owned by the caller; overwritten).
pub struct LstmOut<'a, T> {
    /// `[B, T, H]`: `h_t` for every step.
    pub h_seq: ArrayViewMut3<'a, T>,
    /// `[B, T, H]`: `c_t` for every step.
    pub c_seq: ArrayViewMut3<'a, T>,
    /// `[B, T, 4H]`: post-activation gates `i, f, g, o` of every step (what backward needs).
    /// At frozen steps (`t >= lengths[b]`) the contents are unspecified and never read.
    pub gates: ArrayViewMut3<'a, T>,
    /// `[B, H]`: final `h` (equal to `h_seq[:, T-1]`), if wanted.
    pub h_last: Option<ArrayViewMut2<'a, T>>,
    /// `[B, H]`: final `c` (equal to `c_seq[:, T-1]`), if wanted.
    pub c_last: Option<ArrayViewMut2<'a, T>>,
}

/// The forward results `lstm_backward` reads (views of what `lstm_forward` wrote).
#[derive(Clone, Copy)]
pub struct LstmFwd<'a, T> {
    /// `[B, T, H]`
    pub h_seq: ArrayView3<'a, T>,
    /// `[B, T, H]`
    pub c_seq: ArrayView3<'a, T>,
    /// `[B, T, 4H]`
    pub gates: ArrayView3<'a, T>,
}

/// Where `lstm_backward` writes. Everything is OVERWRITTEN (not accumulated).
pub struct LstmGrads<'a, T> {
    /// `[B, T, I]`: gradient wrt the input sequence, if wanted.
    pub dx: Option<ArrayViewMut3<'a, T>>,
    /// `[B, I]`: `Σ_t dx_t`, the gradient wrt an input repeated at every step (the repeat decoder's z), if
    /// wanted; computed as `(Σ_t dG_t) · W_ih`, without the `[B·T, I]` product.
    pub dx_sum: Option<ArrayViewMut2<'a, T>>,
    /// `[B, H]`: gradient wrt the initial `h` (given or zero), if wanted.
    pub dh0: Option<ArrayViewMut2<'a, T>>,
    /// `[B, H]`: gradient wrt the initial `c` (given or zero), if wanted.
    pub dc0: Option<ArrayViewMut2<'a, T>>,
    /// `[4H, I]`
    pub dw_ih: ArrayViewMut2<'a, T>,
    /// `[4H, H]`
    pub dw_hh: ArrayViewMut2<'a, T>,
    /// `[4H]`
    pub db_ih: ArrayViewMut1<'a, T>,
    /// `[4H]` (always equal to `db_ih`)
    pub db_hh: ArrayViewMut1<'a, T>,
}

/// Owned forward results of one layer (a convenience for callers and tests).
pub struct LstmCache<T> {
    /// `[B, T, H]`
    pub h_seq: Array3<T>,
    /// `[B, T, H]`
    pub c_seq: Array3<T>,
    /// `[B, T, 4H]`
    pub gates: Array3<T>,
    /// `[B, H]`
    pub h_last: Array2<T>,
    /// `[B, H]`
    pub c_last: Array2<T>,
}

impl<T: Act> LstmCache<T> {
    /// Zero-filled buffers for batch `b`, `t` steps, hidden size `h`.
    pub fn new(b: usize, t: usize, h: usize) -> Self {
        LstmCache {
            h_seq: Array3::zeros((b, t, h)),
            c_seq: Array3::zeros((b, t, h)),
            gates: Array3::zeros((b, t, 4 * h)),
            h_last: Array2::zeros((b, h)),
            c_last: Array2::zeros((b, h)),
        }
    }
    /// Output views for `lstm_forward`.
    pub fn out(&mut self) -> LstmOut<'_, T> {
        LstmOut {
            h_seq: self.h_seq.view_mut(),
            c_seq: self.c_seq.view_mut(),
            gates: self.gates.view_mut(),
            h_last: Some(self.h_last.view_mut()),
            c_last: Some(self.c_last.view_mut()),
        }
    }
    /// Input views for `lstm_backward`.
    pub fn fwd(&self) -> LstmFwd<'_, T> {
        LstmFwd { h_seq: self.h_seq.view(), c_seq: self.c_seq.view(), gates: self.gates.view() }
    }
}

/// Scratch space of `lstm_backward`, kept between calls (it grows to the largest call once).
#[derive(Default)]
pub struct LstmWorkspace<T> {
    /// `[B, T, 4H]` gate pre-activation gradients.
    pub(super) dg: Vec<T>,
    /// `[B, T, H]` `h_{t-1}` of every step (for `dW_hh`).
    pub(super) hprev: Vec<T>,
    /// `[B, H]` gradient carried to `h_{t-1}`.
    pub(super) dh: Vec<T>,
    /// `[B, H]` gradient carried to `c_{t-1}`.
    pub(super) dc: Vec<T>,
    /// `[B, H]` `tanh(c_t)` of the current step.
    pub(super) tc: Vec<T>,
    /// `[B, 4H]` `Σ_t dG_t` of each sequence (an input constant in time, or `dx_sum` wanted).
    pub(super) sdg: Vec<T>,
}

impl<T: Act> LstmWorkspace<T> {
    pub fn new() -> Self {
        LstmWorkspace { dg: Vec::new(), hprev: Vec::new(), dh: Vec::new(), dc: Vec::new(), tc: Vec::new(), sdg: Vec::new() }
    }
    pub(super) fn ensure(&mut self, b: usize, t: usize, h: usize) {
        grow(&mut self.dg, b * t * 4 * h);
        grow(&mut self.hprev, b * t * h);
        grow(&mut self.dh, b * h);
        grow(&mut self.dc, b * h);
        grow(&mut self.tc, b * h);
        grow(&mut self.sdg, b * 4 * h);
    }
}

fn grow<T: Act>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::zero());
    }
}
