//! The VAE's KL divergence from the standard normal prior (with free bits), and per sequence.

use crate::act::Act;
use crate::check::dims_eq;
use crate::util::{contig, mut_slice, sl};
use crate::Real;
use ndarray::{ArrayView2, ArrayViewMut2};

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
    mu: ArrayView2<T>, logvar: ArrayView2<T>, free_bits: T, scale: T, dmu: Option<ArrayViewMut2<T>>, dlogvar: Option<ArrayViewMut2<T>>,
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
