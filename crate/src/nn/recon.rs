//! Reconstruction losses: squared error (continuous model) and masked softmax cross-entropy
//! (token model), per batch and per sequence.

use crate::act::Act;
use crate::check::{check_lengths, dims_eq};
use crate::par::SendPtr;
use crate::reduce::{max8, sum8, sum8_by};
use crate::util::{contig, mut_slice, par_rows, ptr, sl, work};
use crate::Real;
use ndarray::{ArrayView2, ArrayView3, ArrayViewMut3};

/// Rule of the losses' `lengths`: `0..=T` (an empty sequence adds nothing).
const MIN_LEN: u32 = 0;

/// Sum of squared errors per sequence: `out[b] = Σ_{t < len_b} Σ_d (x − y)²` (f64).
/// `x`, `y`: `[B, T, D]`, `lengths`: `[B]` (None: all `T`), `out`: `[B]` (overwritten).
pub fn mse_per_sequence<T: Real>(x: ArrayView3<T>, y: ArrayView3<T>, lengths: Option<&[u32]>, out: &mut [f64]) {
    const N: &str = "mse_per_sequence";
    let (b, t, d) = x.dim();
    dims_eq(N, "y", y.dim(), (b, t, d));
    dims_eq(N, "out", out.len(), b);
    check_lengths(N, lengths, b, t, MIN_LEN);
    let (x, y) = (contig(x), contig(y));
    let (xs, ys) = (sl(&x), sl(&y));
    for (bb, o) in out.iter_mut().enumerate() {
        let len = lengths.map_or(t, |l| l[bb] as usize);
        let lo = bb * t * d;
        let mut s = 0.0f64;
        for (&a, &c) in xs[lo..lo + len * d].iter().zip(&ys[lo..lo + len * d]) {
            let e = a.to_f64() - c.to_f64();
            s += e * e;
        }
        *o = s;
    }
}

/// Reconstruction loss of the continuous model: `recon = (1/B) Σ_b Σ_{t < len_b} Σ_d (x − y)²`
/// (accumulated in f64, b, t, d increasing). `x` (data), `y` (prediction): `[B, T, D]`;
/// `lengths`: `[B]` (None: all `T`). If given, `dy` `[B, T, D]` is OVERWRITTEN with
/// `scale · ∂recon/∂y = scale · 2 (y − x) / B`, zero at steps `t >= len_b`.
pub fn mse_recon<T: Real>(x: ArrayView3<T>, y: ArrayView3<T>, lengths: Option<&[u32]>, scale: T, dy: Option<ArrayViewMut3<T>>) -> f64 {
    const N: &str = "mse_recon";
    let (b, t, d) = x.dim();
    dims_eq(N, "y", y.dim(), (b, t, d));
    check_lengths(N, lengths, b, t, MIN_LEN);
    if b == 0 {
        return 0.0;
    }
    let (xc, yc) = (contig(x), contig(y));
    let (xs, ys) = (sl(&xc), sl(&yc));
    let mut total = 0.0f64;
    for bb in 0..b {
        let len = lengths.map_or(t, |l| l[bb] as usize);
        let lo = bb * t * d;
        for (&a, &c) in xs[lo..lo + len * d].iter().zip(&ys[lo..lo + len * d]) {
            let e = a.to_f64() - c.to_f64();
            total += e * e;
        }
    }
    if let Some(mut dy) = dy {
        dims_eq(N, "dy", dy.dim(), (b, t, d));
        let k = T::from_f64(2.0 * scale.to_f64() / b as f64);
        let ds = mut_slice(N, "dy", &mut dy);
        for bb in 0..b {
            let len = lengths.map_or(t, |l| l[bb] as usize);
            let lo = bb * t * d;
            for ((o, &a), &c) in ds[lo..lo + len * d].iter_mut().zip(&xs[lo..lo + len * d]).zip(&ys[lo..lo + len * d]) {
                *o = k * (c - a);
            }
            ds[lo + len * d..lo + t * d].fill(T::zero());
        }
    }
    total / b as f64
}

/// Row-parallel softmax from this many logits on.
const XENT_PAR_MIN: u64 = 1 << 15;

/// Token reconstruction loss: `recon = (1/B) Σ_b Σ_{t < len_b} −log softmax(logits[b, t])[targets[b, t]]`
/// (log-sum-exp with max subtraction; per-step losses in f64, summed b, t increasing).
/// `logits`: `[B, T, V]`, `targets`: `[B, T]` ids in `0..V` (unchecked at steps `t >= len_b`),
/// `lengths`: `[B]` (None: all `T`). If given, `dlogits` `[B, T, V]` is OVERWRITTEN with
/// `scale · ∂recon/∂logits = scale · (softmax − onehot) / B`, zero at steps `t >= len_b`.
/// Panics on a target outside `0..V` at a real step.
pub fn softmax_xent<T: Act>(
    logits: ArrayView3<T>, targets: ArrayView2<i32>, lengths: Option<&[u32]>, scale: T, dlogits: Option<ArrayViewMut3<T>>,
) -> f64 {
    let b = logits.dim().0;
    let row_loss = xent_rows("softmax_xent", logits, targets, lengths, scale, dlogits);
    if b == 0 {
        return 0.0;
    }
    row_loss.iter().sum::<f64>() / b as f64
}

/// Token reconstruction loss per sequence: `out[b] = Σ_{t < len_b} −log softmax(logits[b, t])[targets[b, t]]`
/// (f64, t increasing; the rows' losses as in `softmax_xent`). `logits`: `[B, T, V]`, `targets`: `[B, T]`,
/// `lengths`: `[B]` (None: all `T`), `out`: `[B]` (overwritten). Panics on a target outside `0..V` at a real step.
pub fn xent_per_sequence<T: Act>(logits: ArrayView3<T>, targets: ArrayView2<i32>, lengths: Option<&[u32]>, out: &mut [f64]) {
    const N: &str = "xent_per_sequence";
    let (b, t, _) = logits.dim();
    dims_eq(N, "out", out.len(), b);
    let row_loss = xent_rows(N, logits, targets, lengths, T::from_f64(1.0), None);
    for (bb, o) in out.iter_mut().enumerate() {
        *o = row_loss[bb * t..(bb + 1) * t].iter().sum();
    }
}

/// The loss of every row `[B·T]` (0 at steps `t >= len_b`), and `dlogits` as `softmax_xent` documents.
#[allow(non_snake_case)]
fn xent_rows<T: Act>(
    N: &str, logits: ArrayView3<T>, targets: ArrayView2<i32>, lengths: Option<&[u32]>, scale: T, dlogits: Option<ArrayViewMut3<T>>,
) -> Vec<f64> {
    let (b, t, v) = logits.dim();
    dims_eq(N, "targets", targets.dim(), (b, t));
    check_lengths(N, lengths, b, t, MIN_LEN);
    let (lc, tc) = (contig(logits), contig(targets));
    let (ls, ts) = (sl(&lc), sl(&tc));
    for bb in 0..b {
        let len = lengths.map_or(t, |l| l[bb] as usize);
        for tt in 0..len {
            let id = ts[bb * t + tt];
            assert!(id >= 0 && (id as usize) < v, "{N}: targets[{bb}, {tt}] = {id} is not in 0..{v}");
        }
    }
    let mut dl = dlogits.map(|mut d| {
        dims_eq(N, "dlogits", d.dim(), (b, t, v));
        let _ = mut_slice(N, "dlogits", &mut d);
        d
    });
    if b == 0 {
        return Vec::new();
    }
    let dp = dl.as_mut().map(|d| SendPtr(d.as_mut_ptr()));
    let mut row_loss = vec![0.0f64; b * t];
    let rp = SendPtr(row_loss.as_mut_ptr());
    let k = scale.to_f64() / b as f64;
    par_rows(b * t, work(&[b, t, v]), XENT_PAR_MIN, |lo, hi| {
        for r in lo..hi {
            let (bb, tt) = (r / t, r % t);
            let real = lengths.is_none_or(|l| tt < l[bb] as usize);
            let d = dp.map(|p| unsafe { std::slice::from_raw_parts_mut(ptr(p).add(r * v), v) });
            if !real {
                if let Some(d) = d {
                    d.fill(T::zero());
                }
                continue;
            }
            let row = &ls[r * v..(r + 1) * v];
            let tgt = ts[r] as usize;
            let m = max8(row);
            let s = match d {
                Some(d) => {
                    for (o, &l) in d.iter_mut().zip(row) {
                        *o = T::act_exp(l - m);
                    }
                    let s = sum8(d);
                    let inv = T::from_f64(k / s.to_f64());
                    for o in d.iter_mut() {
                        *o = *o * inv;
                    }
                    d[tgt] = d[tgt] - T::from_f64(k);
                    s
                }
                None => sum8_by(row, T::zero(), |l| T::act_exp(l - m)),
            };
            let loss = m.to_f64() + s.to_f64().ln() - row[tgt].to_f64();
            unsafe { *ptr(rp).add(r) = loss };
        }
    });
    row_loss
}
