//! The VAE's latent plumbing: reparameterisation, and the latent repeated over time or
//! concatenated to every step's input.

use crate::act::Act;
use crate::check::dims_eq;
use crate::util::{contig, mut_slice, sl};
use crate::Real;
use ndarray::{ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut3};

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
    logvar: ArrayView2<T>, eps: ArrayView2<T>, dz: ArrayView2<T>, mut dmu: ArrayViewMut2<T>, mut dlogvar: ArrayViewMut2<T>,
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
