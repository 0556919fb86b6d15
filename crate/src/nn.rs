//! Dense layers, embedding, the VAE's latent plumbing and the losses.
//!
//! Conventions: tensors are row-major; `B` batch, `T` steps, `Z` latent size. Backward
//! functions OVERWRITE their outputs, except where stated: `embedding_backward` and the
//! gradients of `gaussian_kl` ADD into theirs. Losses are accumulated in `f64` in a fixed order
//! and returned as `f64`; their gradients are `scale · ∂loss/∂input` (pass the loss weight, e.g.
//! `β` for the KL, as `scale`).

use crate::act::{tanh, Act};
use crate::gemm::{gemm, Gemm};
use crate::lstm::column_sums;
use crate::par::SendPtr;
use crate::util::{contig, mut_slice, par_rows, ptr, sl, work};
use crate::Real;
use ndarray::{ArrayView1, ArrayView2, ArrayView3, ArrayViewMut1, ArrayViewMut2, ArrayViewMut3};

fn dims_eq<D: PartialEq + std::fmt::Debug>(name: &str, arg: &str, got: D, want: D) {
    assert!(got == want, "{name}: {arg} is {got:?}, expected {want:?}");
}

fn check_lengths(name: &str, lengths: Option<&[u32]>, b: usize, t: usize) {
    if let Some(l) = lengths {
        assert_eq!(l.len(), b, "{name}: lengths has {} entries, the batch is {b}", l.len());
        for (i, &v) in l.iter().enumerate() {
            assert!(v as usize <= t, "{name}: lengths[{i}] = {v} is more than T = {t}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Linear

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
    x: ArrayView2<T>,
    w: ArrayView2<T>,
    dy: ArrayView2<T>,
    dx: Option<ArrayViewMut2<T>>,
    mut dw: ArrayViewMut2<T>,
    mut db: ArrayViewMut1<T>,
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

// ---------------------------------------------------------------------------------------------
// tanh layer

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

// ---------------------------------------------------------------------------------------------
// Embedding

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

// ---------------------------------------------------------------------------------------------
// Latent plumbing

/// `z = mu + exp(½·logvar) · eps`; all `[B, Z]` (`z` overwritten).
pub fn reparameterize<T: Act>(mu: ArrayView2<T>, logvar: ArrayView2<T>, eps: ArrayView2<T>, mut z: ArrayViewMut2<T>) {
    const N: &str = "reparameterize";
    let d = mu.dim();
    dims_eq(N, "logvar", logvar.dim(), d);
    dims_eq(N, "eps", eps.dim(), d);
    dims_eq(N, "z", z.dim(), d);
    let (mu, lv, eps) = (contig(mu), contig(logvar), contig(eps));
    let half = T::from_f64(0.5);
    for (((o, &m), &l), &e) in mut_slice(N, "z", &mut z).iter_mut().zip(sl(&mu)).zip(sl(&lv)).zip(sl(&eps)) {
        *o = m + T::act_exp(half * l) * e;
    }
}

/// Backward of `reparameterize`: `dmu = dz`, `dlogvar = dz · eps · ½·exp(½·logvar)`;
/// all `[B, Z]`, both OVERWRITTEN (add the KL gradients afterwards with `gaussian_kl`).
pub fn reparameterize_backward<T: Act>(
    logvar: ArrayView2<T>,
    eps: ArrayView2<T>,
    dz: ArrayView2<T>,
    mut dmu: ArrayViewMut2<T>,
    mut dlogvar: ArrayViewMut2<T>,
) {
    const N: &str = "reparameterize_backward";
    let d = logvar.dim();
    dims_eq(N, "eps", eps.dim(), d);
    dims_eq(N, "dz", dz.dim(), d);
    dims_eq(N, "dmu", dmu.dim(), d);
    dims_eq(N, "dlogvar", dlogvar.dim(), d);
    let (lv, eps, dz) = (contig(logvar), contig(eps), contig(dz));
    mut_slice(N, "dmu", &mut dmu).copy_from_slice(sl(&dz));
    let half = T::from_f64(0.5);
    for (((o, &l), &e), &g) in mut_slice(N, "dlogvar", &mut dlogvar).iter_mut().zip(sl(&lv)).zip(sl(&eps)).zip(sl(&dz)) {
        *o = g * e * (half * T::act_exp(half * l));
    }
}

/// `out[b, t] = z[b]` for every step: `z` `[B, Z]`, `out` `[B, T, Z]` (T from `out`; overwritten).
pub fn repeat_time<T: Real>(z: ArrayView2<T>, mut out: ArrayViewMut3<T>) {
    const N: &str = "repeat_time";
    let (b, zs) = z.dim();
    let (b2, t, z2) = out.dim();
    dims_eq(N, "out", (b2, z2), (b, zs));
    let z = contig(z);
    let (zsl, os) = (sl(&z), mut_slice(N, "out", &mut out));
    for bb in 0..b {
        for tt in 0..t {
            os[(bb * t + tt) * zs..(bb * t + tt + 1) * zs].copy_from_slice(&zsl[bb * zs..(bb + 1) * zs]);
        }
    }
}

/// Backward of `repeat_time`: `dz[b] = Σ_t dout[b, t]` (t increasing). `dout` `[B, T, Z]`, `dz` `[B, Z]` (overwritten).
pub fn repeat_time_backward<T: Real>(dout: ArrayView3<T>, mut dz: ArrayViewMut2<T>) {
    const N: &str = "repeat_time_backward";
    let (b, t, zs) = dout.dim();
    dims_eq(N, "dz", dz.dim(), (b, zs));
    let dout = contig(dout);
    let (ds, os) = (sl(&dout), mut_slice(N, "dz", &mut dz));
    for bb in 0..b {
        let o = &mut os[bb * zs..(bb + 1) * zs];
        o.fill(T::zero());
        for tt in 0..t {
            for (d, &g) in o.iter_mut().zip(&ds[(bb * t + tt) * zs..(bb * t + tt + 1) * zs]) {
                *d = *d + g;
            }
        }
    }
}

/// `out[b, t] = concat(e[b, t], z[b])`: `e` `[B, T, E]`, `z` `[B, Z]`, `out` `[B, T, E+Z]` (overwritten).
pub fn concat_time_latent<T: Real>(e: ArrayView3<T>, z: ArrayView2<T>, mut out: ArrayViewMut3<T>) {
    const N: &str = "concat_time_latent";
    let (b, t, es) = e.dim();
    let (b2, zs) = z.dim();
    assert_eq!(b, b2, "{N}: e is {:?} but z is {:?} (batch differs)", e.dim(), z.dim());
    dims_eq(N, "out", out.dim(), (b, t, es + zs));
    let (e, z) = (contig(e), contig(z));
    let (esl, zsl, os) = (sl(&e), sl(&z), mut_slice(N, "out", &mut out));
    let w = es + zs;
    for bb in 0..b {
        for tt in 0..t {
            let r = bb * t + tt;
            os[r * w..r * w + es].copy_from_slice(&esl[r * es..(r + 1) * es]);
            os[r * w + es..(r + 1) * w].copy_from_slice(&zsl[bb * zs..(bb + 1) * zs]);
        }
    }
}

/// Backward of `concat_time_latent`: `de[b, t] = dout[b, t, ..E]` (if wanted) and
/// `dz[b] = Σ_t dout[b, t, E..]` (t increasing); both overwritten.
/// `dout` `[B, T, E+Z]`, `de` `[B, T, E]`, `dz` `[B, Z]`.
pub fn concat_time_latent_backward<T: Real>(dout: ArrayView3<T>, de: Option<ArrayViewMut3<T>>, mut dz: ArrayViewMut2<T>) {
    const N: &str = "concat_time_latent_backward";
    let (b, t, w) = dout.dim();
    let (b2, zs) = dz.dim();
    assert!(b == b2 && zs <= w, "{N}: dout is {:?} but dz is {:?}", dout.dim(), dz.dim());
    let es = w - zs;
    let dout = contig(dout);
    let ds = sl(&dout);
    if let Some(mut de) = de {
        dims_eq(N, "de", de.dim(), (b, t, es));
        let des = mut_slice(N, "de", &mut de);
        for r in 0..b * t {
            des[r * es..(r + 1) * es].copy_from_slice(&ds[r * w..r * w + es]);
        }
    }
    let os = mut_slice(N, "dz", &mut dz);
    for bb in 0..b {
        let o = &mut os[bb * zs..(bb + 1) * zs];
        o.fill(T::zero());
        for tt in 0..t {
            let r = bb * t + tt;
            for (d, &g) in o.iter_mut().zip(&ds[r * w + es..(r + 1) * w]) {
                *d = *d + g;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Losses

/// KL divergence of `N(mu, exp(logvar))` from `N(0, I)`, mean over the batch, summed over the
/// latent dimensions: `kl = (1/B) Σ_b Σ_j −½ (1 + lv − mu² − exp(lv))`. `mu`, `logvar`: `[B, Z]`.
///
/// Free bits (`free_bits = λ > 0`): each dimension's batch mean `kl_j = (1/B) Σ_b …` counts as
/// `max(λ, kl_j)`, and a dimension with `kl_j < λ` gets no gradient. `λ = 0`: the plain KL.
///
/// Gradients: `scale · ∂kl/∂mu` and `scale · ∂kl/∂logvar` are ADDED into `dmu`, `dlogvar`
/// (`[B, Z]`, when given), so they combine with `reparameterize_backward`'s output.
/// Returns the KL (not scaled), computed in f64.
pub fn gaussian_kl<T: Act>(
    mu: ArrayView2<T>,
    logvar: ArrayView2<T>,
    free_bits: T,
    scale: T,
    dmu: Option<ArrayViewMut2<T>>,
    dlogvar: Option<ArrayViewMut2<T>>,
) -> f64 {
    const N: &str = "gaussian_kl";
    let (b, z) = mu.dim();
    dims_eq(N, "logvar", logvar.dim(), (b, z));
    let (mu, lv) = (contig(mu), contig(logvar));
    let (ms, ls) = (sl(&mu), sl(&lv));
    if b == 0 {
        return 0.0;
    }
    let inv_b = 1.0 / b as f64;
    let lambda = free_bits.to_f64();
    // per-dimension batch means, b increasing
    let mut total = 0.0f64;
    let mut active = vec![true; z];
    for j in 0..z {
        let mut s = 0.0f64;
        for bb in 0..b {
            let (m, l) = (ms[bb * z + j].to_f64(), ls[bb * z + j].to_f64());
            s += -0.5 * (1.0 + l - m * m - l.exp());
        }
        let kl_j = s * inv_b;
        if lambda > 0.0 && kl_j < lambda {
            active[j] = false;
            total += lambda;
        } else {
            total += kl_j;
        }
    }
    let k = T::from_f64(scale.to_f64() * inv_b);
    let half = T::from_f64(0.5);
    if let Some(mut dmu) = dmu {
        dims_eq(N, "dmu", dmu.dim(), (b, z));
        let d = mut_slice(N, "dmu", &mut dmu);
        for (idx, (o, &m)) in d.iter_mut().zip(ms).enumerate() {
            if active[idx % z] {
                *o = *o + k * m;
            }
        }
    }
    if let Some(mut dlv) = dlogvar {
        dims_eq(N, "dlogvar", dlv.dim(), (b, z));
        let d = mut_slice(N, "dlogvar", &mut dlv);
        for (idx, (o, &l)) in d.iter_mut().zip(ls).enumerate() {
            if active[idx % z] {
                *o = *o + k * (half * (T::act_exp(l) - T::one()));
            }
        }
    }
    total
}

/// Per-sequence KL (no batch mean, no free bits): `out[b] = Σ_j −½ (1 + lv − mu² − exp(lv))`
/// (computed in f64). `mu`, `logvar`: `[B, Z]`, `out`: `[B]` (overwritten).
pub fn gaussian_kl_per_sequence<T: Real>(mu: ArrayView2<T>, logvar: ArrayView2<T>, out: &mut [f64]) {
    const N: &str = "gaussian_kl_per_sequence";
    let (b, z) = mu.dim();
    dims_eq(N, "logvar", logvar.dim(), (b, z));
    dims_eq(N, "out", out.len(), b);
    for (bb, o) in out.iter_mut().enumerate() {
        let mut s = 0.0f64;
        for j in 0..z {
            let (m, l) = (mu[[bb, j]].to_f64(), logvar[[bb, j]].to_f64());
            s += -0.5 * (1.0 + l - m * m - l.exp());
        }
        *o = s;
    }
}

/// Sum of squared errors per sequence: `out[b] = Σ_{t < len_b} Σ_d (x − y)²` (f64).
/// `x`, `y`: `[B, T, D]`, `lengths`: `[B]` (None: all `T`), `out`: `[B]` (overwritten).
pub fn mse_per_sequence<T: Real>(x: ArrayView3<T>, y: ArrayView3<T>, lengths: Option<&[u32]>, out: &mut [f64]) {
    const N: &str = "mse_per_sequence";
    let (b, t, d) = x.dim();
    dims_eq(N, "y", y.dim(), (b, t, d));
    dims_eq(N, "out", out.len(), b);
    check_lengths(N, lengths, b, t);
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
    check_lengths(N, lengths, b, t);
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

/// Sum with 8 interleaved partial sums combined pairwise (fixed order; vectorises).
#[inline]
fn sum8<T: Real>(v: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let mut it = v.chunks_exact(8);
    for c in &mut it {
        for k in 0..8 {
            acc[k] = acc[k] + c[k];
        }
    }
    for (k, &r) in it.remainder().iter().enumerate() {
        acc[k] = acc[k] + r;
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

#[inline]
fn max8<T: Real>(v: &[T]) -> T {
    let mut acc = [T::neg_infinity(); 8];
    let mut it = v.chunks_exact(8);
    for c in &mut it {
        for k in 0..8 {
            acc[k] = if c[k] > acc[k] { c[k] } else { acc[k] };
        }
    }
    for (k, &r) in it.remainder().iter().enumerate() {
        acc[k] = if r > acc[k] { r } else { acc[k] };
    }
    acc.iter().fold(T::neg_infinity(), |m, &a| if a > m { a } else { m })
}

/// Token reconstruction loss: `recon = (1/B) Σ_b Σ_{t < len_b} −log softmax(logits[b, t])[targets[b, t]]`
/// (log-sum-exp with max subtraction; per-step losses in f64, summed b, t increasing).
/// `logits`: `[B, T, V]`, `targets`: `[B, T]` ids in `0..V` (unchecked at steps `t >= len_b`),
/// `lengths`: `[B]` (None: all `T`). If given, `dlogits` `[B, T, V]` is OVERWRITTEN with
/// `scale · ∂recon/∂logits = scale · (softmax − onehot) / B`, zero at steps `t >= len_b`.
/// Panics on a target outside `0..V` at a real step.
pub fn softmax_xent<T: Act>(
    logits: ArrayView3<T>,
    targets: ArrayView2<i32>,
    lengths: Option<&[u32]>,
    scale: T,
    dlogits: Option<ArrayViewMut3<T>>,
) -> f64 {
    const N: &str = "softmax_xent";
    let (b, t, v) = logits.dim();
    dims_eq(N, "targets", targets.dim(), (b, t));
    check_lengths(N, lengths, b, t);
    if b == 0 {
        return 0.0;
    }
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
                None => {
                    let mut acc = [T::zero(); 8];
                    let mut it = row.chunks_exact(8);
                    for c in &mut it {
                        for q in 0..8 {
                            acc[q] = acc[q] + T::act_exp(c[q] - m);
                        }
                    }
                    for (q, &l) in it.remainder().iter().enumerate() {
                        acc[q] = acc[q] + T::act_exp(l - m);
                    }
                    sum8(&acc)
                }
            };
            let loss = m.to_f64() + s.to_f64().ln() - row[tgt].to_f64();
            unsafe { *ptr(rp).add(r) = loss };
        }
    });
    row_loss.iter().sum::<f64>() / b as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use ndarray::{Array1, Array2, Array3, ArrayView};

    fn v2<T>(v: &[T], d: (usize, usize)) -> ArrayView2<'_, T> {
        ArrayView::from_shape(d, v).unwrap()
    }
    fn v3<T>(v: &[T], d: (usize, usize, usize)) -> ArrayView3<'_, T> {
        ArrayView::from_shape(d, v).unwrap()
    }
    fn flat<T: Clone, D: ndarray::Dimension>(a: &ndarray::Array<T, D>) -> Vec<T> {
        a.as_slice().unwrap().to_vec()
    }
    const TOL: f64 = 1e-6;

    #[test]
    fn linear_gradients() {
        let (n, i, o) = (3, 4, 2);
        let mut r = rng(1);
        let p = vec![rand_vec(&mut r, n * i, 1.0), rand_vec(&mut r, o * i, 1.0), rand_vec(&mut r, o, 1.0)];
        let w8 = rand_vec(&mut r, n * o, 1.0);
        let fwd = |p: &[Vec<f64>]| {
            let mut y = Array2::zeros((n, o));
            linear_forward(v2(&p[0], (n, i)), v2(&p[1], (o, i)), ArrayView::from(&p[2][..]), y.view_mut());
            y
        };
        let y = fwd(&p);
        for nn in 0..n {
            for oo in 0..o {
                let want: f64 = p[2][oo] + (0..i).map(|k| p[0][nn * i + k] * p[1][oo * i + k]).sum::<f64>();
                assert!((y[[nn, oo]] - want).abs() < 1e-14);
            }
        }
        let (mut dx, mut dw, mut db) = (Array2::zeros((n, i)), Array2::from_elem((o, i), 9.0), Array1::from_elem(o, 9.0));
        linear_backward(v2(&p[0], (n, i)), v2(&p[1], (o, i)), v2(&w8, (n, o)), Some(dx.view_mut()), dw.view_mut(), db.view_mut());
        check_grads("linear", &["x", "w", "b"], &p, &[flat(&dx), flat(&dw), flat(&db)], |q| dot(&w8, &flat(&fwd(q))), TOL);
    }

    #[test]
    fn tanh_layer_gradients() {
        let mut r = rng(2);
        let p = vec![rand_vec(&mut r, 7, 2.0)];
        let w8 = rand_vec(&mut r, 7, 1.0);
        let fwd = |q: &[Vec<f64>]| {
            let mut y = vec![0.0; 7];
            tanh_forward(&q[0], &mut y);
            y
        };
        let mut dx = vec![0.0; 7];
        tanh_backward(&fwd(&p), &w8, &mut dx);
        check_grads("tanh", &["x"], &p, &[dx], |q| dot(&w8, &fwd(q)), TOL);
    }

    #[test]
    fn embedding_gradients_scatter_add() {
        let (v, e) = (4, 3);
        let ids = [2, 0, 2, 3, 2];
        let mut r = rng(3);
        let p = vec![rand_vec(&mut r, v * e, 1.0)];
        let w8 = rand_vec(&mut r, ids.len() * e, 1.0);
        let fwd = |q: &[Vec<f64>]| {
            let mut out = Array2::zeros((ids.len(), e));
            embedding_forward(&ids, v2(&q[0], (v, e)), out.view_mut());
            out
        };
        assert_eq!(fwd(&p).row(2).to_vec(), p[0][6..9].to_vec());
        let mut dw = Array2::zeros((v, e));
        embedding_backward(&ids, v2(&w8, (ids.len(), e)), dw.view_mut());
        assert!(dw.row(1).iter().all(|&x| x == 0.0));
        check_grads("embedding", &["w"], &p, &[flat(&dw)], |q| dot(&w8, &flat(&fwd(q))), TOL);
        // it adds
        let before = dw.clone();
        embedding_backward(&ids, v2(&w8, (ids.len(), e)), dw.view_mut());
        assert!(dw.iter().zip(before.iter()).all(|(a, b)| (a - 2.0 * b).abs() < 1e-15));
    }

    #[test]
    #[should_panic(expected = "embedding_forward: ids[1] = 4 is not in 0..4")]
    fn embedding_rejects_out_of_range() {
        let w = Array2::<f32>::zeros((4, 2));
        let mut out = Array2::zeros((2, 2));
        embedding_forward(&[0, 4], w.view(), out.view_mut());
    }

    #[test]
    fn reparameterize_gradients() {
        let (b, z) = (2, 3);
        let mut r = rng(4);
        let p = vec![rand_vec(&mut r, b * z, 1.0), rand_vec(&mut r, b * z, 2.0)];
        let eps = rand_vec(&mut r, b * z, 1.5);
        let w8 = rand_vec(&mut r, b * z, 1.0);
        let fwd = |q: &[Vec<f64>]| {
            let mut out = Array2::zeros((b, z));
            reparameterize(v2(&q[0], (b, z)), v2(&q[1], (b, z)), v2(&eps, (b, z)), out.view_mut());
            out
        };
        assert!((fwd(&p)[[1, 2]] - (p[0][5] + (0.5 * p[1][5]).exp() * eps[5])).abs() < 1e-15);
        let (mut dmu, mut dlv) = (Array2::from_elem((b, z), 5.0), Array2::from_elem((b, z), 5.0));
        reparameterize_backward(v2(&p[1], (b, z)), v2(&eps, (b, z)), v2(&w8, (b, z)), dmu.view_mut(), dlv.view_mut());
        check_grads("reparameterize", &["mu", "logvar"], &p, &[flat(&dmu), flat(&dlv)], |q| dot(&w8, &flat(&fwd(q))), TOL);
    }

    #[test]
    fn repeat_and_concat_gradients() {
        let (b, t, e, z) = (2, 3, 2, 3);
        let mut r = rng(5);
        let p = vec![rand_vec(&mut r, b * z, 1.0)];
        let w8 = rand_vec(&mut r, b * t * z, 1.0);
        let fwd = |q: &[Vec<f64>]| {
            let mut out = Array3::zeros((b, t, z));
            repeat_time(v2(&q[0], (b, z)), out.view_mut());
            out
        };
        assert_eq!(fwd(&p)[[1, 2, 0]], p[0][3]);
        let mut dz = Array2::from_elem((b, z), 3.0);
        repeat_time_backward(v3(&w8, (b, t, z)), dz.view_mut());
        check_grads("repeat_time", &["z"], &p, &[flat(&dz)], |q| dot(&w8, &flat(&fwd(q))), TOL);

        let p = vec![rand_vec(&mut r, b * t * e, 1.0), rand_vec(&mut r, b * z, 1.0)];
        let w8 = rand_vec(&mut r, b * t * (e + z), 1.0);
        let fwd = |q: &[Vec<f64>]| {
            let mut out = Array3::zeros((b, t, e + z));
            concat_time_latent(v3(&q[0], (b, t, e)), v2(&q[1], (b, z)), out.view_mut());
            out
        };
        let o = fwd(&p);
        assert_eq!(o[[1, 1, 1]], p[0][(3 + 1) * e + 1]);
        assert_eq!(o[[1, 1, e + 2]], p[1][z + 2]);
        let (mut de, mut dz) = (Array3::from_elem((b, t, e), 3.0), Array2::from_elem((b, z), 3.0));
        concat_time_latent_backward(v3(&w8, (b, t, e + z)), Some(de.view_mut()), dz.view_mut());
        check_grads("concat_time_latent", &["e", "z"], &p, &[flat(&de), flat(&dz)], |q| dot(&w8, &flat(&fwd(q))), TOL);
    }

    #[test]
    fn kl_gradients_with_and_without_free_bits() {
        let (b, z) = (3, 4);
        let mut r = rng(6);
        let mut p = vec![rand_vec(&mut r, b * z, 1.0), rand_vec(&mut r, b * z, 1.0)];
        // make dimension 1 nearly the prior (small KL) and dimension 2 far from it
        for bb in 0..b {
            p[0][bb * z + 1] *= 0.05;
            p[1][bb * z + 1] *= 0.05;
            p[0][bb * z + 2] += 2.0;
        }
        let kl = |q: &[Vec<f64>], fb: f64| gaussian_kl(v2(&q[0], (b, z)), v2(&q[1], (b, z)), fb, 1.0, None, None);
        // the formula
        let mut want = 0.0;
        for (&m, &l) in p[0].iter().zip(&p[1]) {
            want += -0.5 * (1.0 + l - m * m - l.exp());
        }
        assert!((kl(&p, 0.0) - want / b as f64).abs() < 1e-14);
        let mut per = vec![0.0; b];
        gaussian_kl_per_sequence(v2(&p[0], (b, z)), v2(&p[1], (b, z)), &mut per);
        assert!((per.iter().sum::<f64>() - want).abs() < 1e-13);
        // per-dimension KLs, to place λ between them
        let kl_dim: Vec<f64> = (0..z)
            .map(|j| (0..b).map(|bb| -0.5 * (1.0 + p[1][bb * z + j] - p[0][bb * z + j].powi(2) - p[1][bb * z + j].exp())).sum::<f64>() / b as f64)
            .collect();
        let lambda = 0.05;
        assert!(kl_dim[1] < lambda * 0.5 && kl_dim[2] > lambda * 2.0, "{kl_dim:?}");
        for fb in [0.0, lambda] {
            for scale in [1.0, 0.25] {
                let (mut dmu, mut dlv) = (Array2::from_elem((b, z), 1.0), Array2::from_elem((b, z), -1.0));
                gaussian_kl(v2(&p[0], (b, z)), v2(&p[1], (b, z)), fb, scale, Some(dmu.view_mut()), Some(dlv.view_mut()));
                // remove the initial values (the gradients are added) and the scale
                let g = vec![dmu.iter().map(|v| (v - 1.0) / scale).collect(), dlv.iter().map(|v| (v + 1.0) / scale).collect()];
                let worst = check_grads(&format!("kl fb={fb}"), &["mu", "logvar"], &p, &g, |q| kl(q, fb), TOL);
                if fb > 0.0 {
                    for bb in 0..b {
                        assert!(g[0][bb * z + 1] == 0.0 && g[1][bb * z + 1] == 0.0);
                    }
                    let expect: f64 = kl_dim.iter().map(|&k| k.max(lambda)).sum();
                    assert!((kl(&p, fb) - expect).abs() < 1e-14);
                }
                let _ = worst;
            }
        }
    }

    #[test]
    fn mse_gradients_with_lengths() {
        let (b, t, d) = (3, 4, 2);
        let mut r = rng(7);
        let x = rand_vec(&mut r, b * t * d, 1.0);
        let p = vec![rand_vec(&mut r, b * t * d, 1.0)];
        for lengths in [None, Some(vec![4u32, 1, 2])] {
            let lens = lengths.as_deref();
            let f = |q: &[Vec<f64>]| mse_recon(v3(&x, (b, t, d)), v3(&q[0], (b, t, d)), lens, 1.0, None);
            let mut want = 0.0;
            for bb in 0..b {
                let len = lens.map_or(t, |l| l[bb] as usize);
                for k in bb * t * d..(bb * t + len) * d {
                    want += (x[k] - p[0][k]).powi(2);
                }
            }
            assert!((f(&p) - want / b as f64).abs() < 1e-14);
            let mut per = vec![0.0; b];
            mse_per_sequence(v3(&x, (b, t, d)), v3(&p[0], (b, t, d)), lens, &mut per);
            assert!((per.iter().sum::<f64>() - want).abs() < 1e-13);
            let mut dy = Array3::from_elem((b, t, d), 7.0);
            let l = mse_recon(v3(&x, (b, t, d)), v3(&p[0], (b, t, d)), lens, 0.5, Some(dy.view_mut()));
            assert_eq!(l, f(&p));
            let g: Vec<f64> = dy.iter().map(|v| v / 0.5).collect();
            check_grads("mse", &["y"], &p, &[g], f, TOL);
        }
    }

    #[test]
    fn softmax_xent_gradients_with_lengths() {
        let (b, t, v) = (2, 3, 11);
        let mut r = rng(8);
        let mut p = vec![rand_vec(&mut r, b * t * v, 3.0)];
        p[0][5] = 40.0; // a large logit (stability)
        let targets = vec![3, 0, 10, 5, 1, -7]; // the -7 sits at a masked step
        let lengths = [3u32, 2];
        let f = |q: &[Vec<f64>]| softmax_xent(v3(&q[0], (b, t, v)), v2(&targets, (b, t)), Some(&lengths), 1.0, None);
        let mut want = 0.0;
        for bb in 0..b {
            for tt in 0..lengths[bb] as usize {
                let row = &p[0][(bb * t + tt) * v..(bb * t + tt + 1) * v];
                let lse = row.iter().map(|x| x.exp()).sum::<f64>().ln();
                want += lse - row[targets[bb * t + tt] as usize];
            }
        }
        assert!((f(&p) - want / b as f64).abs() < 1e-12, "{} vs {}", f(&p), want / b as f64);
        let mut dl = Array3::from_elem((b, t, v), 7.0);
        let l = softmax_xent(v3(&p[0], (b, t, v)), v2(&targets, (b, t)), Some(&lengths), 2.0, Some(dl.view_mut()));
        assert_eq!(l, f(&p));
        assert!(dl.slice(ndarray::s![1, 2, ..]).iter().all(|&x| x == 0.0));
        let g: Vec<f64> = dl.iter().map(|x| x / 2.0).collect();
        // the loss is ~20 here, so the central differences carry ~1e-9 of rounding noise
        check_grads("softmax_xent", &["logits"], &p, &[g], f, 1e-5);
        // f32 agrees
        let p32 = to_f32(&p[0]);
        let mut dl32 = Array3::<f32>::zeros((b, t, v));
        let l32 = softmax_xent(v3(&p32, (b, t, v)), v2(&targets, (b, t)), Some(&lengths), 2.0, Some(dl32.view_mut()));
        let l32b = softmax_xent(v3(&p32, (b, t, v)), v2(&targets, (b, t)), Some(&lengths), 2.0, None);
        assert_eq!(l32, l32b);
        assert!((l32 - l).abs() < 1e-5 * l.abs(), "{l32} vs {l}");
        for (a, c) in dl32.iter().zip(dl.iter()) {
            assert!((*a as f64 - c).abs() < 1e-6, "{a} vs {c}");
        }
    }

    #[test]
    fn softmax_xent_bit_identical_for_1_2_and_3_threads() {
        let _g = crate::testutil::THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let (b, t, v) = (4, 8, 1100);
        let mut r = rng(9);
        let logits = to_f32(&rand_vec(&mut r, b * t * v, 4.0));
        let targets: Vec<i32> = (0..b * t).map(|k| (k * 37 % v) as i32).collect();
        let run = |threads| {
            crate::par::set_threads(threads);
            let mut d = Array3::<f32>::zeros((b, t, v));
            let l = softmax_xent(v3(&logits, (b, t, v)), v2(&targets, (b, t)), Some(&[8, 3, 1, 7]), 1.0, Some(d.view_mut()));
            crate::par::set_threads(0);
            (l.to_bits(), d.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        };
        let one = run(1);
        assert!(one == run(2), "softmax cross-entropy differs between 1 and 2 threads");
        assert!(one == run(3), "softmax cross-entropy differs between 1 and 3 threads");
    }
}
