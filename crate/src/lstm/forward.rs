//! LSTM layer forward: input projections of all steps as one GEMM, then the time loop.

use super::types::{LstmOut, MIN_LEN, PAR_MIN_LOOP};
use crate::act::{sigmoid_inplace, tanh, tanh_inplace, Act};
use crate::check::{check_lengths, dims_eq};
use crate::gemm::{gemm, gemm_packed_st, Gemm, PackedB};
use crate::par::SendPtr;
use crate::real::Real;
use crate::util::{contig, mut_slice, par_rows, ptr, sl, work};
use ndarray::{ArrayView1, ArrayView2, ArrayView3, ArrayViewMut2};

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
    x: ArrayView3<T>, lengths: Option<&[u32]>, w_ih: ArrayView2<T>, w_hh: ArrayView2<T>, b_ih: ArrayView1<T>, b_hh: ArrayView1<T>,
    h0: Option<ArrayView2<T>>, c0: Option<ArrayView2<T>>, out: LstmOut<T>,
) {
    const N: &str = "lstm_forward";
    let (bsz, steps, isz) = x.dim();
    let (g4, hsz) = w_hh.dim();
    assert_eq!(g4, 4 * hsz, "{N}: w_hh is {:?}, expected [4H, H]", w_hh.dim());
    dims_eq(N, "w_ih", w_ih.dim(), (4 * hsz, isz));
    assert_eq!(b_ih.len(), 4 * hsz, "{N}: b_ih has {} elements, expected 4H = {}", b_ih.len(), 4 * hsz);
    assert_eq!(b_hh.len(), 4 * hsz, "{N}: b_hh has {} elements, expected 4H = {}", b_hh.len(), 4 * hsz);
    if let Some(h0) = &h0 {
        dims_eq(N, "h0", h0.dim(), (bsz, hsz));
    }
    if let Some(c0) = &c0 {
        dims_eq(N, "c0", c0.dim(), (bsz, hsz));
    }
    check_lengths(N, lengths, bsz, steps, MIN_LEN);
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
    if steps > 1 && constant_in_time(xs, bsz, steps, isz) {
        // every sequence's input is the same at every step (the repeat decoder's z): one row of
        // projections per sequence, copied to its other steps (the GEMM computes each row alike,
        // so the copies hold the bits the full product would)
        gemm(
            Gemm { ta: false, tb: true, m: bsz, n: g4, k: isz, lda: steps * isz, ldb: isz, ldc: steps * g4 },
            T::one(),
            xs,
            wih,
            T::one(),
            gs,
        );
        for seq in gs.chunks_exact_mut(steps * g4) {
            let (first, rest) = seq.split_at_mut(g4);
            for row in rest.chunks_exact_mut(g4) {
                row.copy_from_slice(first);
            }
        }
    } else {
        gemm(Gemm::nt(bsz * steps, g4, isz), T::one(), xs, wih, T::one(), gs);
    }

    // W_hhᵀ packed once for every step's recurrent GEMM; a batch of one (f32) runs its recurrence
    // without the GEMM's padding (`row`: the same arithmetic)
    let row = (bsz == 1 && hsz <= super::row::MAX_H).then(|| as_f32(whh).map(|w| super::row::RowRecurrence::new(w, hsz))).flatten();
    let mut whh_packed = PackedB::new();
    if row.is_none() {
        whh_packed.pack(true, hsz, g4, whh, hsz);
    }
    let whh_packed = &whh_packed;
    // h_{t-1} · W_hhᵀ added to the gates of `m` rows (strided by `lda` / `ldc`)
    let recur = |m: usize, h: &[T], lda: usize, g: &mut [T], ldc: usize| match &row {
        // `row` exists only when T is f32
        Some(r) => r.apply(as_f32(h).unwrap(), as_f32_mut(g).unwrap()),
        None => gemm_packed_st(false, m, h, lda, whh_packed, T::one(), g, ldc),
    };

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
                    recur(m, hprev, steps * hsz, gt, steps * g4);
                } else if let Some(h0s) = h0s {
                    recur(m, &h0s[lo * hsz..hi * hsz], hsz, gt, steps * g4);
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

/// `v` as f32 when `T` is f32.
fn as_f32<T: 'static>(v: &[T]) -> Option<&[f32]> {
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>())
        .then(|| unsafe { std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len()) })
}
fn as_f32_mut<T: 'static>(v: &mut [T]) -> Option<&mut [f32]> {
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>())
        .then(|| unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut f32, v.len()) })
}

/// Whether every sequence of `x` `[B, T, I]` has the same input (bit for bit) at every step.
pub(super) fn constant_in_time<T: Act>(x: &[T], bsz: usize, steps: usize, isz: usize) -> bool {
    x.chunks_exact(steps * isz).take(bsz).all(|seq| {
        let (first, rest) = seq.split_at(isz);
        rest.chunks_exact(isz).all(|row| row.iter().zip(first).all(|(&a, &b)| Real::to_f64(a).to_bits() == Real::to_f64(b).to_bits()))
    })
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
