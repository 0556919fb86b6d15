//! Optimizer updates: one fused pass over flat buffers (parameters, gradients, state slots),
//! following `torch.optim` (single-tensor, `foreach=False`, `maximize=False`, defaults otherwise).
//!
//! Hyper-parameters are `f64` (Python floats): derived scalars (`1 − dampening`, bias
//! corrections, step sizes) are computed in `f64` as PyTorch's Python code does and cast to `T`
//! once, and the elementwise arithmetic runs in `T` in PyTorch's order of operations. PyTorch's
//! vectorised CPU kernels use fused multiply-add where the hardware has it (x86 AVX2: `add` with
//! `alpha`, `addcmul`, `addcdiv`, `lerp`); these kernels do not (the same bits on every machine
//! and in wasm), so a step may differ from PyTorch's by an ulp in a few elements.
//!
//! Every function panics if the buffers' lengths differ. Large buffers are split between threads
//! (elementwise: the results do not depend on the number of threads).

use crate::check::check_len;
use crate::par::SendPtr;
use crate::reduce::sum8_by;
use crate::util::{par_rows, ptr};
use crate::Real;

/// Buffers from this many elements on are split between threads.
const PAR_MIN: u64 = 1 << 16;

/// Runs `f(lo, hi)` on disjoint index ranges covering `0..n`.
fn par_range(n: usize, f: impl Fn(usize, usize) + Sync + Send) {
    par_rows(n, n as u64, PAR_MIN, f)
}

/// `&mut s[lo..hi]` from a raw pointer (ranges given to different tasks are disjoint).
#[inline(always)]
unsafe fn part<'a, T>(p: SendPtr<T>, lo: usize, hi: usize) -> &'a mut [T] {
    std::slice::from_raw_parts_mut(ptr(p).add(lo), hi - lo)
}

/// `torch.optim.SGD` step:
///
/// ```text
/// d = g + weight_decay·p                         (if weight_decay ≠ 0)
/// if momentum ≠ 0:
///     buf = d                                    (first step: PyTorch initialises the buffer to the gradient)
///     buf = momentum·buf + (1 − dampening)·d     (later steps)
///     d = nesterov ? d + momentum·buf : buf
/// p = p − lr·d
/// ```
/// `p`, `g`: parameters and gradients; `buf`: the momentum buffer (same length; may be empty
/// when `momentum == 0`).
#[allow(clippy::too_many_arguments)]
pub fn sgd_step<T: Real>(
    p: &mut [T], g: &[T], buf: &mut [T], lr: f64, momentum: f64, dampening: f64, nesterov: bool, weight_decay: f64, first_step: bool,
) {
    const N: &str = "sgd_step";
    let n = p.len();
    check_len(N, "g", n, g.len());
    let use_mom = momentum != 0.0;
    if use_mom {
        check_len(N, "buf", n, buf.len());
    }
    let wd = T::from_f64(weight_decay);
    let use_wd = weight_decay != 0.0;
    let mom = T::from_f64(momentum);
    let damp1 = T::from_f64(1.0 - dampening);
    let neg_lr = T::from_f64(-lr);
    let (pp, bp) = (SendPtr(p.as_mut_ptr()), SendPtr(buf.as_mut_ptr()));
    par_range(n, |lo, hi| {
        let p = unsafe { part(pp, lo, hi) };
        let g = &g[lo..hi];
        if use_mom {
            let buf = unsafe { part(bp, lo, hi) };
            for i in 0..p.len() {
                let mut d = g[i];
                if use_wd {
                    d = d + wd * p[i];
                }
                let b = if first_step { d } else { buf[i] * mom + damp1 * d };
                buf[i] = b;
                d = if nesterov { d + mom * b } else { b };
                p[i] = p[i] + neg_lr * d;
            }
        } else {
            for i in 0..p.len() {
                let mut d = g[i];
                if use_wd {
                    d = d + wd * p[i];
                }
                p[i] = p[i] + neg_lr * d;
            }
        }
    });
}

/// `torch.optim.RMSprop` step (non-centered):
///
/// ```text
/// g = g + weight_decay·p                          (if weight_decay ≠ 0)
/// square_avg = alpha·square_avg + (1 − alpha)·g²
/// avg = sqrt(square_avg) + eps
/// if momentum > 0: buf = momentum·buf + g/avg;  p = p − lr·buf
/// else:            p = p − lr·g/avg
/// ```
/// `square_avg` starts at zero; `momentum_buf` (zero at the start) may be empty when `momentum == 0`.
#[allow(clippy::too_many_arguments)]
pub fn rmsprop_step<T: Real>(
    p: &mut [T], g: &[T], square_avg: &mut [T], lr: f64, alpha: f64, eps: f64, weight_decay: f64, momentum: f64, momentum_buf: &mut [T],
) {
    const N: &str = "rmsprop_step";
    let n = p.len();
    check_len(N, "g", n, g.len());
    check_len(N, "square_avg", n, square_avg.len());
    let use_mom = momentum > 0.0;
    if use_mom {
        check_len(N, "momentum_buf", n, momentum_buf.len());
    }
    let use_wd = weight_decay != 0.0;
    let wd = T::from_f64(weight_decay);
    let a = T::from_f64(alpha);
    let a1 = T::from_f64(1.0 - alpha);
    let e = T::from_f64(eps);
    let mom = T::from_f64(momentum);
    let neg_lr = T::from_f64(-lr);
    let (pp, sp, bp) = (SendPtr(p.as_mut_ptr()), SendPtr(square_avg.as_mut_ptr()), SendPtr(momentum_buf.as_mut_ptr()));
    par_range(n, |lo, hi| {
        let (p, sq) = unsafe { (part(pp, lo, hi), part(sp, lo, hi)) };
        let g = &g[lo..hi];
        let buf = if use_mom { unsafe { part(bp, lo, hi) } } else { &mut [][..] };
        for i in 0..p.len() {
            let mut gi = g[i];
            if use_wd {
                gi = gi + wd * p[i];
            }
            let s = sq[i] * a + a1 * gi * gi;
            sq[i] = s;
            let avg = s.sqrt() + e;
            if use_mom {
                let b = buf[i] * mom + gi / avg;
                buf[i] = b;
                p[i] = p[i] + neg_lr * b;
            } else {
                p[i] = p[i] + neg_lr * gi / avg;
            }
        }
    });
}

/// Shared body of Adam and AdamW.
#[allow(clippy::too_many_arguments)]
fn adam_impl<T: Real>(
    name: &str, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], step: u64, lr: f64, beta1: f64, beta2: f64, eps: f64, l2: f64,
    decoupled: f64,
) {
    let n = p.len();
    check_len(name, "g", n, g.len());
    check_len(name, "m", n, m.len());
    check_len(name, "v", n, v.len());
    assert!(step >= 1, "{name}: step is 1-based (got 0)");
    let t = step as f64;
    let bc1 = 1.0 - beta1.powf(t);
    let bc2 = 1.0 - beta2.powf(t);
    let neg_step_size = T::from_f64(-(lr / bc1));
    let bc2_sqrt = T::from_f64(bc2.sqrt());
    let e = T::from_f64(eps);
    let use_l2 = l2 != 0.0;
    let wd = T::from_f64(l2);
    let use_decay = decoupled != 0.0;
    let decay = T::from_f64(1.0 - lr * decoupled);
    // m.lerp_(g, 1 − β1), as PyTorch's lerp: small weights from the start, large from the end.
    let w = T::from_f64(1.0 - beta1);
    let w_small = w.abs() < T::from_f64(0.5);
    let w1 = T::one() - w;
    let b2 = T::from_f64(beta2);
    let b21 = T::from_f64(1.0 - beta2);
    let (pp, mp, vp) = (SendPtr(p.as_mut_ptr()), SendPtr(m.as_mut_ptr()), SendPtr(v.as_mut_ptr()));
    par_range(n, |lo, hi| {
        let (p, m, v) = unsafe { (part(pp, lo, hi), part(mp, lo, hi), part(vp, lo, hi)) };
        let g = &g[lo..hi];
        for i in 0..p.len() {
            let mut pi = p[i];
            if use_decay {
                pi = pi * decay;
            }
            let mut gi = g[i];
            if use_l2 {
                gi = gi + wd * pi;
            }
            let mi = if w_small { m[i] + w * (gi - m[i]) } else { gi - (gi - m[i]) * w1 };
            let vi = v[i] * b2 + b21 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            let denom = vi.sqrt() / bc2_sqrt + e;
            p[i] = pi + neg_step_size * mi / denom;
        }
    });
}

/// `torch.optim.Adam` step (`amsgrad=False`), `step` counted from 1 (the step being taken):
///
/// ```text
/// g = g + weight_decay·p                          (L2, if weight_decay ≠ 0)
/// m = m + (1 − β1)·(g − m)                        (m.lerp_(g, 1 − β1))
/// v = β2·v + (1 − β2)·g²
/// step_size = lr / (1 − β1^step)
/// denom = sqrt(v) / sqrt(1 − β2^step) + eps
/// p = p − step_size·m / denom
/// ```
/// `m`, `v` start at zero.
#[allow(clippy::too_many_arguments)]
pub fn adam_step<T: Real>(
    p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], step: u64, lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64,
) {
    adam_impl("adam_step", p, g, m, v, step, lr, beta1, beta2, eps, weight_decay, 0.0)
}

/// `torch.optim.AdamW` step: `p = p·(1 − lr·weight_decay)` first (decoupled decay), then the
/// Adam update above without the L2 term. (PyTorch's default `weight_decay` for AdamW is 0.01.)
#[allow(clippy::too_many_arguments)]
pub fn adamw_step<T: Real>(
    p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], step: u64, lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64,
) {
    adam_impl("adamw_step", p, g, m, v, step, lr, beta1, beta2, eps, 0.0, weight_decay)
}

/// Euclidean norm of all gradients together, `sqrt(Σ g²)`, accumulated in f64 in a fixed order
/// (buffers in the given order; 8 interleaved partial sums within each).
///
/// Gradient clipping as `torch.nn.utils.clip_grad_norm_(params, max_norm)`:
/// `coef = max_norm / (total_norm + 1e-6)`, and the gradients are multiplied by `coef` only when
/// `coef < 1` (see `clip_coef`, then `scale_grads`). PyTorch computes the norm in f32 (a norm
/// of per-tensor norms); the f64 sum here differs from it by rounding only.
pub fn global_norm<T: Real>(grads: &[&[T]]) -> f64 {
    let mut total = 0.0f64;
    for g in grads {
        total += sum8_by(g, 0.0f64, |x| {
            let x = x.to_f64();
            x * x
        });
    }
    total.sqrt()
}

/// PyTorch's clipping coefficient: `Some(max_norm / (total_norm + 1e-6))` when that is `< 1`
/// (the gradients must be scaled), `None` otherwise.
pub fn clip_coef(total_norm: f64, max_norm: f64) -> Option<f64> {
    let coef = max_norm / (total_norm + 1e-6);
    (coef < 1.0).then_some(coef)
}

/// `g *= factor` for every buffer (`factor` cast to `T` once).
pub fn scale_grads<T: Real>(grads: &mut [&mut [T]], factor: f64) {
    let f = T::from_f64(factor);
    for g in grads.iter_mut() {
        let gp = SendPtr(g.as_mut_ptr());
        par_range(g.len(), |lo, hi| {
            for x in unsafe { part(gp, lo, hi) } {
                *x = *x * f;
            }
        });
    }
}

/// Exponential moving average of the weights, one step (`torch.lerp(avg, p, 1 − decay)`, as
/// `torch.optim.swa_utils.get_ema_multi_avg_fn` does):
///
/// ```text
/// avg = avg + (1 − decay)·(p − avg)
/// ```
/// `1 − decay` is computed in `f64` and cast to `T` once; the elementwise arithmetic runs in `T`.
/// `decay = 0` copies `p`; `decay = 1` leaves `avg` unchanged.
pub fn ema_update<T: Real>(avg: &mut [T], p: &[T], decay: f64) {
    check_len("ema_update", "p", avg.len(), p.len());
    let w = T::from_f64(1.0 - decay);
    let ap = SendPtr(avg.as_mut_ptr());
    par_range(avg.len(), |lo, hi| {
        for (a, &x) in unsafe { part(ap, lo, hi) }.iter_mut().zip(&p[lo..hi]) {
            *a = *a + w * (x - *a);
        }
    });
}

#[cfg(test)]
mod tests;
