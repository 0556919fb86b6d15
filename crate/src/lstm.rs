//! One LSTM layer, forward and backward through time (PyTorch `nn.LSTM` convention, gate order
//! i, f, g, o; batch-major tensors). Stacked LSTMs chain layers: layer k's `h_seq` is layer
//! k+1's `x`, and layer k+1's `dx` is layer k's `dh_seq`.
//!
//! Shapes: `B` batch, `T` steps, `I` input size, `H` hidden size.
//!
//! Variable lengths (`lengths[b]` in `1..=T`): steps `t >= lengths[b]` freeze the state
//! (`h_t = h_{t-1}`, `c_t = c_{t-1}`), so `h_seq[b, t]` for those steps repeats the state of the
//! last real step, and the final state is the state at step `lengths[b] - 1` (what PyTorch's
//! `pack_padded_sequence` gives for `h_n`). In backward, gradients pass through frozen steps
//! unchanged and those steps contribute nothing to the weight gradients or to `dx`.
//!
//! Work per call: one GEMM for the input projections of all steps, one small GEMM per step for
//! the recurrence (on strided rows of `h_seq` and `gates`, no copies), and a fused elementwise
//! pass per step split over batch rows between threads. Backward does one small GEMM per step
//! and the weight and input gradients as three large GEMMs after the time loop. Results are
//! bit-identical for any number of threads. Nothing is allocated inside the time loop.

use crate::act::{sigmoid_inplace, tanh, tanh_inplace, Act};
use crate::gemm::{gemm, gemm_packed_st, Gemm, PackedB};
use crate::par::SendPtr;
use crate::util::{contig, mut_slice, par_rows, ptr, sl, work};
use ndarray::{Array2, Array3, ArrayView1, ArrayView2, ArrayView3, ArrayViewMut1, ArrayViewMut2, ArrayViewMut3};

/// The time loop is split over batch rows from this many multiply-adds per call on.
const PAR_MIN_LOOP: u64 = 1 << 16;

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
    dg: Vec<T>,
    /// `[B, T, H]` `h_{t-1}` of every step (for `dW_hh`).
    hprev: Vec<T>,
    /// `[B, H]` gradient carried to `h_{t-1}`.
    dh: Vec<T>,
    /// `[B, H]` gradient carried to `c_{t-1}`.
    dc: Vec<T>,
    /// `[B, H]` `tanh(c_t)` of the current step.
    tc: Vec<T>,
}

impl<T: Act> LstmWorkspace<T> {
    pub fn new() -> Self {
        LstmWorkspace { dg: Vec::new(), hprev: Vec::new(), dh: Vec::new(), dc: Vec::new(), tc: Vec::new() }
    }
    fn ensure(&mut self, b: usize, t: usize, h: usize) {
        grow(&mut self.dg, b * t * 4 * h);
        grow(&mut self.hprev, b * t * h);
        grow(&mut self.dh, b * h);
        grow(&mut self.dc, b * h);
        grow(&mut self.tc, b * h);
    }
}

fn grow<T: Act>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::zero());
    }
}

fn check_lengths(name: &str, lengths: Option<&[u32]>, b: usize, t: usize) {
    if let Some(l) = lengths {
        assert_eq!(l.len(), b, "{name}: lengths has {} entries, the batch is {b}", l.len());
        for (i, &v) in l.iter().enumerate() {
            assert!(v >= 1 && v as usize <= t, "{name}: lengths[{i}] = {v} is not in 1..={t}");
        }
    }
}

fn check2<T>(name: &str, arg: &str, v: &ArrayView2<T>, d: (usize, usize)) {
    assert_eq!(v.dim(), d, "{name}: {arg} is {:?}, expected {:?}", v.dim(), d);
}

/// LSTM layer forward.
///
/// - `x`: `[B, T, I]` input sequence;
/// - `lengths`: `[B]` real lengths in `1..=T` (None: all `T`);
/// - `w_ih`: `[4H, I]`, `w_hh`: `[4H, H]`, `b_ih`: `[4H]`, `b_hh`: `[4H]` (PyTorch layout, gates i, f, g, o);
/// - `h0`, `c0`: `[B, H]` initial state (None: zeros);
/// - `out`: `h_seq`, `c_seq` `[B, T, H]`, `gates` `[B, T, 4H]`, optional `h_last`, `c_last` `[B, H]`,
///   all overwritten. Output views must be contiguous.
///
/// Panics (naming the argument) on inconsistent shapes or lengths.
#[allow(clippy::too_many_arguments)]
pub fn lstm_forward<T: Act>(
    x: ArrayView3<T>,
    lengths: Option<&[u32]>,
    w_ih: ArrayView2<T>,
    w_hh: ArrayView2<T>,
    b_ih: ArrayView1<T>,
    b_hh: ArrayView1<T>,
    h0: Option<ArrayView2<T>>,
    c0: Option<ArrayView2<T>>,
    out: LstmOut<T>,
) {
    const N: &str = "lstm_forward";
    let (bsz, steps, isz) = x.dim();
    let (g4, hsz) = w_hh.dim();
    assert_eq!(g4, 4 * hsz, "{N}: w_hh is {:?}, expected [4H, H]", w_hh.dim());
    check2(N, "w_ih", &w_ih, (4 * hsz, isz));
    assert_eq!(b_ih.len(), 4 * hsz, "{N}: b_ih has {} elements, expected 4H = {}", b_ih.len(), 4 * hsz);
    assert_eq!(b_hh.len(), 4 * hsz, "{N}: b_hh has {} elements, expected 4H = {}", b_hh.len(), 4 * hsz);
    if let Some(h0) = &h0 {
        check2(N, "h0", h0, (bsz, hsz));
    }
    if let Some(c0) = &c0 {
        check2(N, "c0", c0, (bsz, hsz));
    }
    check_lengths(N, lengths, bsz, steps);
    let LstmOut { mut h_seq, mut c_seq, mut gates, h_last, c_last } = out;
    assert_eq!(h_seq.dim(), (bsz, steps, hsz), "{N}: out.h_seq is {:?}, expected [B, T, H]", h_seq.dim());
    assert_eq!(c_seq.dim(), (bsz, steps, hsz), "{N}: out.c_seq is {:?}, expected [B, T, H]", c_seq.dim());
    assert_eq!(gates.dim(), (bsz, steps, 4 * hsz), "{N}: out.gates is {:?}, expected [B, T, 4H]", gates.dim());
    if let Some(v) = &h_last {
        assert_eq!(v.dim(), (bsz, hsz), "{N}: out.h_last is {:?}, expected [B, H]", v.dim());
    }
    if let Some(v) = &c_last {
        assert_eq!(v.dim(), (bsz, hsz), "{N}: out.c_last is {:?}, expected [B, H]", v.dim());
    }

    let (x, w_ih, w_hh) = (contig(x), contig(w_ih), contig(w_hh));
    let (h0, c0) = (h0.map(contig), c0.map(contig));
    let (xs, wih, whh) = (sl(&x), sl(&w_ih), sl(&w_hh));
    let h0s = h0.as_ref().map(sl);
    let c0s = c0.as_ref().map(sl);
    let hs = mut_slice(N, "out.h_seq", &mut h_seq);
    let cs = mut_slice(N, "out.c_seq", &mut c_seq);
    let gs = mut_slice(N, "out.gates", &mut gates);

    if bsz == 0 || steps == 0 || hsz == 0 {
        copy_last([h_last, c_last], [hs, cs], [h0s, c0s], bsz, steps, hsz);
        return;
    }

    // Input projections of all steps: gates = X · W_ihᵀ + (b_ih + b_hh).
    let g4 = 4 * hsz;
    {
        let (b_ih, b_hh) = (contig(b_ih), contig(b_hh));
        let (bi, bh) = (sl(&b_ih), sl(&b_hh));
        for row in gs.chunks_exact_mut(g4) {
            for ((o, &a), &b) in row.iter_mut().zip(bi).zip(bh) {
                *o = a + b;
            }
        }
    }
    gemm(Gemm::nt(bsz * steps, g4, isz), T::one(), xs, wih, T::one(), gs);

    // W_hhᵀ packed once for every step's recurrent GEMM.
    let mut whh_packed = PackedB::new();
    whh_packed.pack(true, hsz, g4, whh, hsz);
    let whh_packed = &whh_packed;

    let gp = SendPtr(gs.as_mut_ptr());
    let hp = SendPtr(hs.as_mut_ptr());
    let cp = SendPtr(cs.as_mut_ptr());
    // Batch rows are independent through time: each task runs the whole time loop for its rows
    // (one split per call, not two per step). Every row is computed the same way whatever the
    // split, so results do not depend on the number of threads.
    par_rows(bsz, work(&[bsz, steps, g4, hsz]), PAR_MIN_LOOP, |lo, hi| {
        let m = hi - lo;
        for t in 0..steps {
            // Recurrence: gates[lo..hi, t] += h_{t-1} · W_hhᵀ
            unsafe {
                let gt = std::slice::from_raw_parts_mut(ptr(gp).add((lo * steps + t) * g4), (m - 1) * steps * g4 + g4);
                if t > 0 {
                    // h_seq rows of step t-1 are read while gates of step t are written: disjoint buffers.
                    let hprev = std::slice::from_raw_parts(ptr(hp).add((lo * steps + t - 1) * hsz), (m - 1) * steps * hsz + hsz);
                    gemm_packed_st(false, m, hprev, steps * hsz, whh_packed, T::one(), gt, steps * g4);
                } else if let Some(h0s) = h0s {
                    gemm_packed_st(false, m, &h0s[lo * hsz..hi * hsz], hsz, whh_packed, T::one(), gt, steps * g4);
                }
            }
            // Activations and cell update, row by row.
            for b in lo..hi {
                let cur = b * steps + t;
                unsafe {
                    let h_out = std::slice::from_raw_parts_mut(ptr(hp).add(cur * hsz), hsz);
                    let c_out = std::slice::from_raw_parts_mut(ptr(cp).add(cur * hsz), hsz);
                    let masked = lengths.is_some_and(|l| t >= l[b] as usize);
                    if masked {
                        // t >= 1 here (lengths >= 1): freeze the state.
                        h_out.copy_from_slice(std::slice::from_raw_parts(ptr(hp).add((cur - 1) * hsz), hsz));
                        c_out.copy_from_slice(std::slice::from_raw_parts(ptr(cp).add((cur - 1) * hsz), hsz));
                        continue;
                    }
                    let g = std::slice::from_raw_parts_mut(ptr(gp).add(cur * g4), g4);
                    let c_prev: Option<&[T]> = if t > 0 {
                        Some(std::slice::from_raw_parts(ptr(cp).add((cur - 1) * hsz), hsz))
                    } else {
                        c0s.map(|c| &c[b * hsz..(b + 1) * hsz])
                    };
                    forward_cell(g, c_prev, c_out, h_out);
                }
            }
        }
    });
    copy_last([h_last, c_last], [hs, cs], [h0s, c0s], bsz, steps, hsz);
}

/// `h_last`/`c_last` = the state after the last step (the initial state when `T = 0`).
fn copy_last<T: Act>(dst: [Option<ArrayViewMut2<T>>; 2], src: [&[T]; 2], init: [Option<&[T]>; 2], bsz: usize, steps: usize, hsz: usize) {
    for ((dst, src), init) in dst.into_iter().zip(src).zip(init) {
        if let Some(mut d) = dst {
            for b in 0..bsz {
                let mut row = d.row_mut(b);
                if steps > 0 {
                    let off = (b * steps + steps - 1) * hsz;
                    row.iter_mut().zip(&src[off..off + hsz]).for_each(|(o, &v)| *o = v);
                } else if let Some(init) = init {
                    row.iter_mut().zip(&init[b * hsz..(b + 1) * hsz]).for_each(|(o, &v)| *o = v);
                } else {
                    row.fill(T::zero());
                }
            }
        }
    }
}

/// One row of one step: `g` holds the pre-activations `[4H]` on entry and `i, f, g, o` on exit.
#[inline]
fn forward_cell<T: Act>(g: &mut [T], c_prev: Option<&[T]>, c_out: &mut [T], h_out: &mut [T]) {
    let h = c_out.len();
    let (ifg, o) = g.split_at_mut(3 * h);
    sigmoid_inplace(&mut ifg[..2 * h]);
    tanh_inplace(&mut ifg[2 * h..]);
    sigmoid_inplace(o);
    let (i, rest) = ifg.split_at(h);
    let (f, gg) = rest.split_at(h);
    match c_prev {
        Some(cp) => {
            for j in 0..h {
                c_out[j] = f[j] * cp[j] + i[j] * gg[j];
            }
        }
        None => {
            for j in 0..h {
                c_out[j] = i[j] * gg[j];
            }
        }
    }
    tanh(c_out, h_out);
    for j in 0..h {
        h_out[j] = o[j] * h_out[j];
    }
}

/// LSTM layer backward through time.
///
/// - `x`: `[B, T, I]`, `lengths`, `w_ih` `[4H, I]`, `w_hh` `[4H, H]`, `h0`, `c0` `[B, H]`: as given to `lstm_forward`;
/// - `fwd`: `h_seq`, `c_seq` `[B, T, H]` and `gates` `[B, T, 4H]` written by `lstm_forward`;
/// - `dh_seq`: `[B, T, H]` gradient of the loss wrt every `h_t` (None: zero);
/// - `dh_last`, `dc_last`: `[B, H]` gradient wrt the final state (None: zero);
/// - `grads`: `dx` `[B, T, I]`, `dh0`, `dc0` `[B, H]` (each optional), `dw_ih` `[4H, I]`,
///   `dw_hh` `[4H, H]`, `db_ih`, `db_hh` `[4H]`: all OVERWRITTEN, not accumulated;
/// - `ws`: scratch kept between calls.
///
/// Panics (naming the argument) on inconsistent shapes or lengths.
#[allow(clippy::too_many_arguments)]
pub fn lstm_backward<T: Act>(
    x: ArrayView3<T>,
    lengths: Option<&[u32]>,
    w_ih: ArrayView2<T>,
    w_hh: ArrayView2<T>,
    h0: Option<ArrayView2<T>>,
    c0: Option<ArrayView2<T>>,
    fwd: LstmFwd<T>,
    dh_seq: Option<ArrayView3<T>>,
    dh_last: Option<ArrayView2<T>>,
    dc_last: Option<ArrayView2<T>>,
    grads: LstmGrads<T>,
    ws: &mut LstmWorkspace<T>,
) {
    const N: &str = "lstm_backward";
    let (bsz, steps, isz) = x.dim();
    let (g4, hsz) = w_hh.dim();
    assert_eq!(g4, 4 * hsz, "{N}: w_hh is {:?}, expected [4H, H]", w_hh.dim());
    check2(N, "w_ih", &w_ih, (4 * hsz, isz));
    let dims = |v: &Option<ArrayView2<T>>| v.as_ref().map(|v| v.dim());
    for (arg, v) in [("h0", dims(&h0)), ("c0", dims(&c0)), ("dh_last", dims(&dh_last)), ("dc_last", dims(&dc_last))] {
        if let Some(v) = v {
            assert_eq!(v, (bsz, hsz), "{N}: {arg} is {v:?}, expected [B, H]");
        }
    }
    check_lengths(N, lengths, bsz, steps);
    assert_eq!(fwd.h_seq.dim(), (bsz, steps, hsz), "{N}: fwd.h_seq is {:?}, expected [B, T, H]", fwd.h_seq.dim());
    assert_eq!(fwd.c_seq.dim(), (bsz, steps, hsz), "{N}: fwd.c_seq is {:?}, expected [B, T, H]", fwd.c_seq.dim());
    assert_eq!(fwd.gates.dim(), (bsz, steps, 4 * hsz), "{N}: fwd.gates is {:?}, expected [B, T, 4H]", fwd.gates.dim());
    if let Some(v) = &dh_seq {
        assert_eq!(v.dim(), (bsz, steps, hsz), "{N}: dh_seq is {:?}, expected [B, T, H]", v.dim());
    }
    let LstmGrads { dx, dh0, dc0, mut dw_ih, mut dw_hh, mut db_ih, mut db_hh } = grads;
    if let Some(v) = &dx {
        assert_eq!(v.dim(), (bsz, steps, isz), "{N}: grads.dx is {:?}, expected [B, T, I]", v.dim());
    }
    for (arg, v) in [("grads.dh0", dh0.as_ref().map(|v| v.dim())), ("grads.dc0", dc0.as_ref().map(|v| v.dim()))] {
        if let Some(v) = v {
            assert_eq!(v, (bsz, hsz), "{N}: {arg} is {v:?}, expected [B, H]");
        }
    }
    assert_eq!(dw_ih.dim(), (4 * hsz, isz), "{N}: grads.dw_ih is {:?}, expected [4H, I]", dw_ih.dim());
    assert_eq!(dw_hh.dim(), (4 * hsz, hsz), "{N}: grads.dw_hh is {:?}, expected [4H, H]", dw_hh.dim());
    assert_eq!(db_ih.len(), 4 * hsz, "{N}: grads.db_ih has {} elements, expected 4H", db_ih.len());
    assert_eq!(db_hh.len(), 4 * hsz, "{N}: grads.db_hh has {} elements, expected 4H", db_hh.len());

    let (x, w_ih, w_hh) = (contig(x), contig(w_ih), contig(w_hh));
    let (h0, c0) = (h0.map(contig), c0.map(contig));
    let (h_seq, c_seq, gates) = (contig(fwd.h_seq), contig(fwd.c_seq), contig(fwd.gates));
    let (dh_seq, dh_last, dc_last) = (dh_seq.map(contig), dh_last.map(contig), dc_last.map(contig));
    let (xs, wih, whh) = (sl(&x), sl(&w_ih), sl(&w_hh));
    let h0s = h0.as_ref().map(sl);
    let c0s = c0.as_ref().map(sl);
    let (hs, cs, gs) = (sl(&h_seq), sl(&c_seq), sl(&gates));
    let dhs = dh_seq.as_ref().map(sl);
    let g4 = 4 * hsz;

    ws.ensure(bsz, steps, hsz);
    let n_bh = bsz * hsz;
    let n_all = bsz * steps;
    let LstmWorkspace { dg, hprev, dh, dc, tc } = ws;
    let (dg, hprev) = (&mut dg[..n_all * g4], &mut hprev[..n_all * hsz]);
    let (dh, dc, tc) = (&mut dh[..n_bh], &mut dc[..n_bh], &mut tc[..n_bh]);
    match &dh_last {
        Some(v) => dh.copy_from_slice(sl(v)),
        None => dh.fill(T::zero()),
    }
    match &dc_last {
        Some(v) => dc.copy_from_slice(sl(v)),
        None => dc.fill(T::zero()),
    }

    let want_dh0 = dh0.is_some();
    let dgp = SendPtr(dg.as_mut_ptr());
    let dhp = SendPtr(dh.as_mut_ptr());
    let dcp = SendPtr(dc.as_mut_ptr());
    let tcp = SendPtr(tc.as_mut_ptr());
    // W_hh (as [4H, H]) packed once for every step's dh_{t-1} += dG_t · W_hh.
    let mut whh_packed = PackedB::new();
    whh_packed.pack(false, g4, hsz, whh, hsz);
    let whh_packed = &whh_packed;
    // As in forward: each task runs the whole (reversed) time loop for its batch rows.
    par_rows(bsz, work(&[bsz, steps, g4, hsz]), PAR_MIN_LOOP, |lo, hi| {
        let m = hi - lo;
        for t in (0..steps).rev() {
            for b in lo..hi {
                let cur = b * steps + t;
                let hrow = cur * hsz;
                unsafe {
                    let dg_row = std::slice::from_raw_parts_mut(ptr(dgp).add(cur * g4), g4);
                    let dh_row = std::slice::from_raw_parts_mut(ptr(dhp).add(b * hsz), hsz);
                    let dc_row = std::slice::from_raw_parts_mut(ptr(dcp).add(b * hsz), hsz);
                    let tc_row = std::slice::from_raw_parts_mut(ptr(tcp).add(b * hsz), hsz);
                    let dhs_row = dhs.map(|d| &d[hrow..hrow + hsz]);
                    let masked = lengths.is_some_and(|l| t >= l[b] as usize);
                    if masked {
                        dg_row.fill(T::zero());
                        if let Some(d) = dhs_row {
                            for j in 0..hsz {
                                dh_row[j] = dh_row[j] + d[j];
                            }
                        }
                        continue;
                    }
                    let c_prev: Option<&[T]> =
                        if t > 0 { Some(&cs[hrow - hsz..hrow]) } else { c0s.map(|c| &c[b * hsz..(b + 1) * hsz]) };
                    tanh(&cs[hrow..hrow + hsz], tc_row);
                    backward_cell(&gs[cur * g4..(cur + 1) * g4], tc_row, c_prev, dhs_row, dh_row, dc_row, dg_row);
                }
            }
            // dh_{t-1} += dG_t · W_hh (rows of frozen steps have dG = 0 and keep their pass-through value).
            if t > 0 || want_dh0 {
                unsafe {
                    let dgt = std::slice::from_raw_parts(ptr(dgp).add((lo * steps + t) * g4), (m - 1) * steps * g4 + g4);
                    let dhr = std::slice::from_raw_parts_mut(ptr(dhp).add(lo * hsz), m * hsz);
                    gemm_packed_st(false, m, dgt, steps * g4, whh_packed, T::one(), dhr, hsz);
                }
            }
        }
    });
    if let Some(mut v) = dh0 {
        mut_slice(N, "grads.dh0", &mut v).copy_from_slice(dh);
    }
    if let Some(mut v) = dc0 {
        mut_slice(N, "grads.dc0", &mut v).copy_from_slice(dc);
    }

    // Weight, bias and input gradients from all steps at once.
    let dwih = mut_slice(N, "grads.dw_ih", &mut dw_ih);
    gemm(Gemm::tn(g4, isz, n_all), T::one(), dg, xs, T::zero(), dwih);
    for b in 0..bsz {
        let row0 = &mut hprev[b * steps * hsz..(b * steps + 1) * hsz];
        match h0s {
            Some(h0s) => row0.copy_from_slice(&h0s[b * hsz..(b + 1) * hsz]),
            None => row0.fill(T::zero()),
        }
        if steps > 1 {
            let src = &hs[b * steps * hsz..(b * steps + steps - 1) * hsz];
            hprev[(b * steps + 1) * hsz..(b + 1) * steps * hsz].copy_from_slice(src);
        }
    }
    let dwhh = mut_slice(N, "grads.dw_hh", &mut dw_hh);
    gemm(Gemm::tn(g4, hsz, n_all), T::one(), dg, hprev, T::zero(), dwhh);
    if let Some(mut dx) = dx {
        let dxs = mut_slice(N, "grads.dx", &mut dx);
        gemm(Gemm::nn(n_all, isz, g4), T::one(), dg, wih, T::zero(), dxs);
    }
    let dbih = mut_slice(N, "grads.db_ih", &mut db_ih);
    column_sums(dg, g4, dbih);
    mut_slice(N, "grads.db_hh", &mut db_hh).copy_from_slice(dbih);
}

/// `out[j] = Σ_r m[r*width + j]`, rows summed in increasing order.
pub(crate) fn column_sums<T: crate::Real>(m: &[T], width: usize, out: &mut [T]) {
    out.fill(T::zero());
    if width == 0 {
        return;
    }
    for row in m.chunks_exact(width) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = *o + v;
        }
    }
}

/// One row of one step of backward. `dh`, `dc` hold the gradients carried from step t+1 on
/// entry; on exit `dc` holds the gradient wrt `c_{t-1}` and `dh` is zeroed (the caller adds
/// `dG · W_hh`).
#[inline]
fn backward_cell<T: Act>(
    g: &[T],
    tc: &[T],
    c_prev: Option<&[T]>,
    dh_seq: Option<&[T]>,
    dh: &mut [T],
    dc: &mut [T],
    dg: &mut [T],
) {
    let h = dh.len();
    let one = T::one();
    let (gi, rest) = g.split_at(h);
    let (gf, rest) = rest.split_at(h);
    let (gg, go) = rest.split_at(h);
    let (di, rest) = dg.split_at_mut(h);
    let (df, rest) = rest.split_at_mut(h);
    let (dgg, dgo) = rest.split_at_mut(h);
    if let Some(d) = dh_seq {
        for j in 0..h {
            dh[j] = dh[j] + d[j];
        }
    }
    for j in 0..h {
        let (i, f, gv, o, t) = (gi[j], gf[j], gg[j], go[j], tc[j]);
        let cp = match c_prev {
            Some(cp) => cp[j],
            None => T::zero(),
        };
        let dhj = dh[j];
        let dcj = dc[j] + dhj * o * (one - t * t);
        di[j] = dcj * gv * i * (one - i);
        df[j] = dcj * cp * f * (one - f);
        dgg[j] = dcj * i * (one - gv * gv);
        dgo[j] = dhj * t * o * (one - o);
        dc[j] = dcj * f;
        dh[j] = T::zero();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use ndarray::{Array1, ArrayView};

    struct Setup {
        b: usize,
        t: usize,
        i: usize,
        h: usize,
        lengths: Option<Vec<u32>>,
        init: bool,
        dh_seq: bool,
    }

    /// params: x, w_ih, w_hh, b_ih, b_hh, h0, c0 (the last two unused without `init`).
    fn params(s: &Setup, seed: u64) -> Vec<Vec<f64>> {
        let mut r = rng(seed);
        let (b, t, i, h) = (s.b, s.t, s.i, s.h);
        vec![
            rand_vec(&mut r, b * t * i, 1.0),
            rand_vec(&mut r, 4 * h * i, 0.6),
            rand_vec(&mut r, 4 * h * h, 0.6),
            rand_vec(&mut r, 4 * h, 0.5),
            rand_vec(&mut r, 4 * h, 0.5),
            rand_vec(&mut r, b * h, 1.0),
            rand_vec(&mut r, b * h, 1.0),
        ]
    }

    fn v2<T>(v: &[T], d: (usize, usize)) -> ArrayView2<'_, T> {
        ArrayView::from_shape(d, v).unwrap()
    }
    fn v3<T>(v: &[T], d: (usize, usize, usize)) -> ArrayView3<'_, T> {
        ArrayView::from_shape(d, v).unwrap()
    }

    fn forward<T: Act>(s: &Setup, p: &[Vec<T>]) -> LstmCache<T> {
        let (b, t, i, h) = (s.b, s.t, s.i, s.h);
        let mut cache = LstmCache::new(b, t, h);
        lstm_forward(
            v3(&p[0], (b, t, i)),
            s.lengths.as_deref(),
            v2(&p[1], (4 * h, i)),
            v2(&p[2], (4 * h, h)),
            ArrayView::from(&p[3][..]),
            ArrayView::from(&p[4][..]),
            s.init.then(|| v2(&p[5], (b, h))),
            s.init.then(|| v2(&p[6], (b, h))),
            cache.out(),
        );
        cache
    }

    /// Gradients in the order of `params` (dh0, dc0 zero-length without `init`).
    fn backward<T: Act>(s: &Setup, p: &[Vec<T>], cache: &LstmCache<T>, r: &[Vec<T>], ws: &mut LstmWorkspace<T>) -> Vec<Vec<T>> {
        let (b, t, i, h) = (s.b, s.t, s.i, s.h);
        let mut dx = Array3::zeros((b, t, i));
        let mut dwih = Array2::zeros((4 * h, i));
        let mut dwhh = Array2::zeros((4 * h, h));
        let mut dbih = Array1::zeros(4 * h);
        let mut dbhh = Array1::zeros(4 * h);
        let mut dh0 = Array2::zeros((b, h));
        let mut dc0 = Array2::zeros((b, h));
        // garbage in the outputs must not leak (they are overwritten)
        dwih.fill(T::from_f64(7.0));
        dbhh.fill(T::from_f64(-3.0));
        lstm_backward(
            v3(&p[0], (b, t, i)),
            s.lengths.as_deref(),
            v2(&p[1], (4 * h, i)),
            v2(&p[2], (4 * h, h)),
            s.init.then(|| v2(&p[5], (b, h))),
            s.init.then(|| v2(&p[6], (b, h))),
            cache.fwd(),
            s.dh_seq.then(|| v3(&r[0], (b, t, h))),
            Some(v2(&r[1], (b, h))),
            Some(v2(&r[2], (b, h))),
            LstmGrads {
                dx: Some(dx.view_mut()),
                dh0: Some(dh0.view_mut()),
                dc0: Some(dc0.view_mut()),
                dw_ih: dwih.view_mut(),
                dw_hh: dwhh.view_mut(),
                db_ih: dbih.view_mut(),
                db_hh: dbhh.view_mut(),
            },
            ws,
        );
        assert_eq!(dbih, dbhh);
        let v = |a: &[T]| a.to_vec();
        vec![
            v(dx.as_slice().unwrap()),
            v(dwih.as_slice().unwrap()),
            v(dwhh.as_slice().unwrap()),
            v(dbih.as_slice().unwrap()),
            v(dbhh.as_slice().unwrap()),
            v(dh0.as_slice().unwrap()),
            v(dc0.as_slice().unwrap()),
        ]
    }

    fn loss(s: &Setup, p: &[Vec<f64>], r: &[Vec<f64>]) -> f64 {
        let c = forward(s, p);
        let mut l = dot(&r[1], c.h_last.as_slice().unwrap()) + dot(&r[2], c.c_last.as_slice().unwrap());
        if s.dh_seq {
            l += dot(&r[0], c.h_seq.as_slice().unwrap());
        }
        l
    }

    /// Straightforward per-step reference (std exp/tanh, explicit loops).
    fn naive(s: &Setup, p: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
        let (b, t, i, h) = (s.b, s.t, s.i, s.h);
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let mut hs = vec![0.0; b * t * h];
        let mut cs = vec![0.0; b * t * h];
        for bb in 0..b {
            let mut hp = if s.init { p[5][bb * h..(bb + 1) * h].to_vec() } else { vec![0.0; h] };
            let mut cp = if s.init { p[6][bb * h..(bb + 1) * h].to_vec() } else { vec![0.0; h] };
            let len = s.lengths.as_ref().map_or(t, |l| l[bb] as usize);
            for tt in 0..t {
                if tt < len {
                    let xt = &p[0][(bb * t + tt) * i..(bb * t + tt + 1) * i];
                    let mut a = vec![0.0; 4 * h];
                    for r in 0..4 * h {
                        a[r] = p[3][r] + p[4][r];
                        for k in 0..i {
                            a[r] += p[1][r * i + k] * xt[k];
                        }
                        for k in 0..h {
                            a[r] += p[2][r * h + k] * hp[k];
                        }
                    }
                    for j in 0..h {
                        let (ig, fg, gg, og) = (sig(a[j]), sig(a[h + j]), a[2 * h + j].tanh(), sig(a[3 * h + j]));
                        cp[j] = fg * cp[j] + ig * gg;
                        hp[j] = og * cp[j].tanh();
                    }
                }
                hs[(bb * t + tt) * h..(bb * t + tt + 1) * h].copy_from_slice(&hp);
                cs[(bb * t + tt) * h..(bb * t + tt + 1) * h].copy_from_slice(&cp);
            }
        }
        (hs, cs)
    }

    fn cases() -> Vec<Setup> {
        let mk = |lengths: Option<Vec<u32>>, init, dh_seq| Setup { b: 2, t: 4, i: 3, h: 5, lengths, init, dh_seq };
        vec![
            mk(None, false, true),
            mk(None, true, true),
            mk(Some(vec![4, 2]), false, true),
            mk(Some(vec![1, 3]), true, true),
            mk(Some(vec![2, 4]), true, false),
            mk(None, false, false),
        ]
    }

    #[test]
    fn forward_matches_naive_reference() {
        for (n, s) in cases().iter().enumerate() {
            let p = params(s, 10 + n as u64);
            let c = forward(s, &p);
            let (hs, cs) = naive(s, &p);
            for (a, b) in c.h_seq.iter().zip(&hs).chain(c.c_seq.iter().zip(&cs)) {
                assert!((a - b).abs() < 1e-13, "case {n}: {a} vs {b}");
            }
            for bb in 0..s.b {
                for j in 0..s.h {
                    assert_eq!(c.h_last[[bb, j]], c.h_seq[[bb, s.t - 1, j]]);
                    assert_eq!(c.c_last[[bb, j]], c.c_seq[[bb, s.t - 1, j]]);
                }
            }
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        let names = ["x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0"];
        let mut ws = LstmWorkspace::new();
        for (n, s) in cases().iter().enumerate() {
            let mut p = params(s, 20 + n as u64);
            let mut rr = rng(30 + n as u64);
            let r = vec![rand_vec(&mut rr, s.b * s.t * s.h, 1.0), rand_vec(&mut rr, s.b * s.h, 1.0), rand_vec(&mut rr, s.b * s.h, 1.0)];
            let cache = forward(s, &p);
            let mut g = backward(s, &p, &cache, &r, &mut ws);
            if !s.init {
                // the gradients wrt the zero initial state are still checked (as h0 = c0 = 0)
                let s2 = Setup { init: true, lengths: s.lengths.clone(), ..*s };
                p[5].fill(0.0);
                p[6].fill(0.0);
                let g2 = backward(&s2, &p, &forward(&s2, &p), &r, &mut ws);
                for k in 0..7 {
                    assert_eq!(g[k], g2[k], "case {n}: zero initial state given or not");
                }
                g = g2;
                let worst = check_grads(&format!("lstm case {n}"), &names, &p, &g, |q| loss(&s2, q, &r), 1e-6);
                eprintln!("lstm case {n}: worst relative error {worst:.2e}");
            } else {
                let worst = check_grads(&format!("lstm case {n}"), &names, &p, &g, |q| loss(s, q, &r), 1e-6);
                eprintln!("lstm case {n}: worst relative error {worst:.2e}");
            }
        }
    }

    #[test]
    fn f32_matches_f64() {
        let s = Setup { b: 3, t: 7, i: 5, h: 16, lengths: Some(vec![7, 3, 5]), init: true, dh_seq: true };
        let p = params(&s, 5);
        let mut rr = rng(6);
        let r = vec![rand_vec(&mut rr, s.b * s.t * s.h, 1.0), rand_vec(&mut rr, s.b * s.h, 1.0), rand_vec(&mut rr, s.b * s.h, 1.0)];
        let p32: Vec<Vec<f32>> = p.iter().map(|v| to_f32(v)).collect();
        let r32: Vec<Vec<f32>> = r.iter().map(|v| to_f32(v)).collect();
        let c64 = forward(&s, &p);
        let c32 = forward(&s, &p32);
        let g64 = backward(&s, &p, &c64, &r, &mut LstmWorkspace::new());
        let g32 = backward(&s, &p32, &c32, &r32, &mut LstmWorkspace::new());
        let mut worst = 0.0f64;
        let mut cmp = |what: &str, a: &[f32], b: &[f64]| {
            let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (k, (x, y)) in a.iter().zip(b).enumerate() {
                let e = (*x as f64 - y).abs() / y.abs().max(0.05 * scale);
                assert!(e < 1e-5, "{what}[{k}]: f32 {x} vs f64 {y}");
                worst = worst.max(e);
            }
        };
        cmp("h_seq", c32.h_seq.as_slice().unwrap(), c64.h_seq.as_slice().unwrap());
        cmp("c_seq", c32.c_seq.as_slice().unwrap(), c64.c_seq.as_slice().unwrap());
        for (k, name) in ["dx", "dw_ih", "dw_hh", "db_ih", "db_hh", "dh0", "dc0"].iter().enumerate() {
            cmp(name, &g32[k], &g64[k]);
        }
        eprintln!("lstm f32 vs f64: worst relative difference {worst:.2e}");
    }

    #[test]
    fn bit_identical_for_1_2_and_3_threads() {
        let _g = crate::testutil::THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let s = Setup { b: 64, t: 5, i: 16, h: 64, lengths: Some((0..64).map(|k| 1 + k % 5).collect()), init: true, dh_seq: true };
        let p: Vec<Vec<f32>> = params(&s, 8).iter().map(|v| to_f32(v)).collect();
        let mut rr = rng(9);
        let r: Vec<Vec<f32>> =
            [s.b * s.t * s.h, s.b * s.h, s.b * s.h].iter().map(|&n| to_f32(&rand_vec(&mut rr, n, 1.0))).collect();
        let run = |threads: usize| {
            crate::par::set_threads(threads);
            let c = forward(&s, &p);
            let g = backward(&s, &p, &c, &r, &mut LstmWorkspace::new());
            crate::par::set_threads(0);
            let mut all: Vec<u32> = c.h_seq.iter().chain(c.c_seq.iter()).chain(c.h_last.iter()).map(|v| v.to_bits()).collect();
            for v in &g {
                all.extend(v.iter().map(|v| v.to_bits()));
            }
            all
        };
        let one = run(1);
        assert!(one == run(2), "LSTM results differ between 1 and 2 threads");
        assert!(one == run(3), "LSTM results differ between 1 and 3 threads");
    }

    #[test]
    #[should_panic(expected = "lstm_forward: lengths[1] = 0 is not in 1..=4")]
    fn rejects_zero_length() {
        let s = Setup { b: 2, t: 4, i: 3, h: 5, lengths: Some(vec![4, 0]), init: false, dh_seq: true };
        forward(&s, &params(&s, 1));
    }

    #[test]
    #[should_panic(expected = "lstm_forward: w_ih is (20, 4), expected (20, 3)")]
    fn rejects_bad_weight_shape() {
        let s = Setup { b: 2, t: 4, i: 3, h: 5, lengths: None, init: false, dh_seq: true };
        let mut p = params(&s, 1);
        p[1] = vec![0.0; 20 * 4];
        let (b, t, i, h) = (2, 4, 3, 5);
        let mut cache = LstmCache::new(b, t, h);
        lstm_forward(
            v3(&p[0], (b, t, i)),
            None,
            v2(&p[1], (4 * h, 4)),
            v2(&p[2], (4 * h, h)),
            ArrayView::from(&p[3][..]),
            ArrayView::from(&p[4][..]),
            None,
            None,
            cache.out(),
        );
    }
}
