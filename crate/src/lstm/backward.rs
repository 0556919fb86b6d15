//! LSTM layer backward through time: the reversed time loop, then the weight, bias and input
//! gradients of all steps as large GEMMs.

use super::forward::constant_in_time;
use super::types::{LstmFwd, LstmGrads, LstmWorkspace, MIN_LEN, PAR_MIN_LOOP};
use crate::act::{tanh, Act};
use crate::check::{check_lengths, dims_eq};
use crate::gemm::{gemm, gemm_packed_st, Gemm, PackedB};
use crate::par::SendPtr;
use crate::reduce::column_sums;
use crate::util::{contig, mut_slice, par_rows, ptr, sl, work};
use ndarray::{ArrayView2, ArrayView3};

/// LSTM layer backward through time.
///
/// - `x`: `[B, T, I]`, `lengths`, `w_ih` `[4H, I]`, `w_hh` `[4H, H]`, `h0`, `c0` `[B, H]`: as given to `lstm_forward`;
/// - `fwd`: `h_seq`, `c_seq` `[B, T, H]` and `gates` `[B, T, 4H]` written by `lstm_forward`;
/// - `dh_seq`: `[B, T, H]` gradient of the loss wrt every `h_t` (None: zero);
/// - `dh_last`, `dc_last`: `[B, H]` gradient wrt the final state (None: zero);
/// - `grads`: `dx` `[B, T, I]`, `dh0`, `dc0` `[B, H]` (each optional), `dw_ih` `[4H, I]`,
///   `dw_hh` `[4H, H]`, `db_ih`, `db_hh` `[4H]`, `dx_sum` `[B, I]` (optional, `Σ_t dx_t`): all OVERWRITTEN,
///   not accumulated;
/// - `ws`: scratch kept between calls.
///
/// Panics (naming the argument) on inconsistent shapes or lengths.
#[allow(clippy::too_many_arguments)]
pub fn lstm_backward<T: Act>(
    x: ArrayView3<T>, lengths: Option<&[u32]>, w_ih: ArrayView2<T>, w_hh: ArrayView2<T>, h0: Option<ArrayView2<T>>,
    c0: Option<ArrayView2<T>>, fwd: LstmFwd<T>, dh_seq: Option<ArrayView3<T>>, dh_last: Option<ArrayView2<T>>,
    dc_last: Option<ArrayView2<T>>, grads: LstmGrads<T>, ws: &mut LstmWorkspace<T>,
) {
    const N: &str = "lstm_backward";
    let (bsz, steps, isz) = x.dim();
    let (g4, hsz) = w_hh.dim();
    assert_eq!(g4, 4 * hsz, "{N}: w_hh is {:?}, expected [4H, H]", w_hh.dim());
    dims_eq(N, "w_ih", w_ih.dim(), (4 * hsz, isz));
    let dims = |v: &Option<ArrayView2<T>>| v.as_ref().map(|v| v.dim());
    for (arg, v) in [("h0", dims(&h0)), ("c0", dims(&c0)), ("dh_last", dims(&dh_last)), ("dc_last", dims(&dc_last))] {
        if let Some(v) = v {
            assert_eq!(v, (bsz, hsz), "{N}: {arg} is {v:?}, expected [B, H]");
        }
    }
    check_lengths(N, lengths, bsz, steps, MIN_LEN);
    assert_eq!(fwd.h_seq.dim(), (bsz, steps, hsz), "{N}: fwd.h_seq is {:?}, expected [B, T, H]", fwd.h_seq.dim());
    assert_eq!(fwd.c_seq.dim(), (bsz, steps, hsz), "{N}: fwd.c_seq is {:?}, expected [B, T, H]", fwd.c_seq.dim());
    assert_eq!(fwd.gates.dim(), (bsz, steps, 4 * hsz), "{N}: fwd.gates is {:?}, expected [B, T, 4H]", fwd.gates.dim());
    if let Some(v) = &dh_seq {
        assert_eq!(v.dim(), (bsz, steps, hsz), "{N}: dh_seq is {:?}, expected [B, T, H]", v.dim());
    }
    let LstmGrads { dx, dx_sum, dh0, dc0, mut dw_ih, mut dw_hh, mut db_ih, mut db_hh } = grads;
    if let Some(v) = &dx {
        assert_eq!(v.dim(), (bsz, steps, isz), "{N}: grads.dx is {:?}, expected [B, T, I]", v.dim());
    }
    if let Some(v) = &dx_sum {
        assert_eq!(v.dim(), (bsz, isz), "{N}: grads.dx_sum is {:?}, expected [B, I]", v.dim());
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
    let LstmWorkspace { dg, hprev, dh, dc, tc, sdg } = ws;
    let (dg, hprev, sdg) = (&mut dg[..n_all * g4], &mut hprev[..n_all * hsz], &mut sdg[..bsz * g4]);
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
    // Σ_t dG_t per sequence, added up as the loop writes each dG row (still in cache): for an input constant in
    // time (the repeat decoder's z) and for dx_sum
    let constant = steps > 1 && constant_in_time(xs, bsz, steps, isz);
    let want_sum = constant || dx_sum.is_some();
    let sdgp = SendPtr(sdg.as_mut_ptr());
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
        if want_sum {
            unsafe { std::slice::from_raw_parts_mut(ptr(sdgp).add(lo * g4), m * g4) }.fill(T::zero());
        }
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
                    let c_prev: Option<&[T]> = if t > 0 { Some(&cs[hrow - hsz..hrow]) } else { c0s.map(|c| &c[b * hsz..(b + 1) * hsz]) };
                    tanh(&cs[hrow..hrow + hsz], tc_row);
                    backward_cell(&gs[cur * g4..(cur + 1) * g4], tc_row, c_prev, dhs_row, dh_row, dc_row, dg_row);
                    if want_sum {
                        let s_row = std::slice::from_raw_parts_mut(ptr(sdgp).add(b * g4), g4);
                        for (o, &v) in s_row.iter_mut().zip(dg_row.iter()) {
                            *o = *o + v;
                        }
                    }
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

    // Weight, bias and input gradients from all steps at once. For an input that is the same at every step
    // (the repeat decoder's z), dW_ih = Σ_b (Σ_t dG_{b,t})ᵀ · x_b: a product over B rows instead of B·T; and
    // Σ_t dx_t = (Σ_t dG_t) · W_ih for any input (the sums were made in the time loop, steps in reverse order).
    let dwih = mut_slice(N, "grads.dw_ih", &mut dw_ih);
    if constant {
        let g = Gemm { ta: true, tb: false, m: g4, n: isz, k: bsz, lda: g4, ldb: steps * isz, ldc: isz };
        gemm(g, T::one(), sdg, xs, T::zero(), dwih);
    } else {
        gemm(Gemm::tn(g4, isz, n_all), T::one(), dg, xs, T::zero(), dwih);
    }
    if let Some(mut v) = dx_sum {
        gemm(Gemm::nn(bsz, isz, g4), T::one(), sdg, wih, T::zero(), mut_slice(N, "grads.dx_sum", &mut v));
    }
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

/// One row of one step of backward. `dh`, `dc` hold the gradients carried from step t+1 on
/// entry; on exit `dc` holds the gradient wrt `c_{t-1}` and `dh` is zeroed (the caller adds
/// `dG · W_hh`).
#[inline]
fn backward_cell<T: Act>(g: &[T], tc: &[T], c_prev: Option<&[T]>, dh_seq: Option<&[T]>, dh: &mut [T], dc: &mut [T], dg: &mut [T]) {
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
