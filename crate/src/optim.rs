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

use crate::par::SendPtr;
use crate::util::{par_rows, ptr};
use crate::Real;

/// Buffers from this many elements on are split between threads.
const PAR_MIN: u64 = 1 << 16;

fn check_len(name: &str, arg: &str, n: usize, got: usize) {
    assert_eq!(got, n, "{name}: {arg} has {got} elements, the parameters have {n}");
}

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
    p: &mut [T],
    g: &[T],
    buf: &mut [T],
    lr: f64,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    weight_decay: f64,
    first_step: bool,
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
    p: &mut [T],
    g: &[T],
    square_avg: &mut [T],
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    momentum_buf: &mut [T],
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
    name: &str,
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    step: u64,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    l2: f64,
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
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    step: u64,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
) {
    adam_impl("adam_step", p, g, m, v, step, lr, beta1, beta2, eps, weight_decay, 0.0)
}

/// `torch.optim.AdamW` step: `p = p·(1 − lr·weight_decay)` first (decoupled decay), then the
/// Adam update above without the L2 term. (PyTorch's default `weight_decay` for AdamW is 0.01.)
#[allow(clippy::too_many_arguments)]
pub fn adamw_step<T: Real>(
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    step: u64,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
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
        let mut acc = [0.0f64; 8];
        let mut it = g.chunks_exact(8);
        for c in &mut it {
            for k in 0..8 {
                let x = c[k].to_f64();
                acc[k] += x * x;
            }
        }
        for (k, x) in it.remainder().iter().enumerate() {
            let x = Real::to_f64(*x);
            acc[k] += x * x;
        }
        total += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn p0() -> Vec<f64> {
        (0..8).map(|i| (i as f64 - 3.5) / 8.0).collect()
    }
    fn grads() -> Vec<Vec<f64>> {
        (0..3).map(|s| (0..8).map(|i| (((i * 5 + s * 3) % 11) as f64 - 5.0) / 16.0).collect()).collect()
    }

    /// Compares 3 f32 steps with values from PyTorch 2.x (CPU, foreach=False) for the same
    /// inputs (p0, grads above). 63 of the 72 values are bit-identical; PyTorch's fused
    /// multiply-adds leave the others within 3.4e-8 (values of magnitude ~0.05 to 0.6).
    fn check_torch(name: &str, got: &[f32], want: [f64; 8]) {
        for (k, (&a, b)) in got.iter().zip(want).enumerate() {
            assert!((a as f64 - b).abs() <= 1e-7, "{name}[{k}]: {a} vs torch {b}");
        }
    }

    #[test]
    fn matches_pytorch_fixtures() {
        let g: Vec<Vec<f32>> = grads().iter().map(|v| to_f32(v)).collect();
        let n = 8;
        type Step<'a> = &'a dyn Fn(&mut [f32], &[f32], usize, &mut [Vec<f32>]);
        let run = |f: Step| {
            let mut p = to_f32(&p0());
            let mut state = vec![vec![0.0f32; n]; 2];
            for (s, gs) in g.iter().enumerate() {
                f(&mut p, gs, s, &mut state);
            }
            p
        };
        let sgd = |lr, mom, damp, nest, wd| {
            run(&move |p, g, s, st| sgd_step(p, g, &mut st[0], lr, mom, damp, nest, wd, s == 0))
        };
        check_torch("sgd_mom", &sgd(0.1, 0.9, 0.1, false, 0.01), [-0.3348538279533386, -0.31476113200187683, -0.23903661966323853, -0.09474150836467743, 0.04285798594355583, 0.18715311586856842, 0.3247526288032532, 0.46904775500297546]);
        check_torch("sgd_nesterov", &sgd(0.1, 0.9, 0.0, true, 0.0), [-0.30803126096725464, -0.30393749475479126, -0.24415625631809235, -0.1342562437057495, 0.05615000054240227, 0.1660500019788742, 0.3564562499523163, 0.4663562476634979]);
        check_torch("sgd_plain", &sgd(0.1, 0.0, 0.0, false, 0.0), [-0.4000000059604645, -0.30000001192092896, -0.20000000298023224, -0.10000000149011612, 0.06875000149011612, 0.16875000298023224, 0.3374999761581421, 0.4375]);
        let rms = |lr, alpha, eps, wd, mom| {
            run(&move |p, g, _s, st| {
                let (a, b) = st.split_at_mut(1);
                rmsprop_step(p, g, &mut a[0], lr, alpha, eps, wd, mom, &mut b[0])
            })
        };
        check_torch("rmsprop_mom", &rms(0.01, 0.99, 1e-8, 0.01, 0.9), [-0.11240553110837936, -0.1452094465494156, -0.35795339941978455, -0.052706338465213776, -0.05622426047921181, 0.2812582850456238, 0.23578433692455292, 0.6298941373825073]);
        check_torch("rmsprop", &rms(0.01, 0.99, 1e-8, 0.0, 0.0), [-0.31862306594848633, -0.32663694024086, -0.2358601987361908, -0.14341072738170624, 0.05092347413301468, 0.15512466430664062, 0.33099207282066345, 0.46643486618995667]);
        let adam = |lr, b1, b2, wd, w: bool| {
            run(&move |p, g, s, st| {
                let (a, b) = st.split_at_mut(1);
                if w {
                    adamw_step(p, g, &mut a[0], &mut b[0], s as u64 + 1, lr, b1, b2, 1e-8, wd)
                } else {
                    adam_step(p, g, &mut a[0], &mut b[0], s as u64 + 1, lr, b1, b2, 1e-8, wd)
                }
            })
        };
        check_torch("adam", &adam(1e-2, 0.9, 0.999, 0.0, false), [-0.41285255551338196, -0.3174212574958801, -0.2008952647447586, -0.06314792484045029, 0.05453978106379509, 0.1955900490283966, 0.30965572595596313, 0.45334190130233765]);
        check_torch("adam_l2", &adam(1e-2, 0.9, 0.999, 0.1, false), [-0.41147494316101074, -0.30466392636299133, -0.19924296438694, -0.06243444234132767, 0.05404222011566162, 0.19277682900428772, 0.30724555253982544, 0.4480759799480438]);
        check_torch("adamw", &adam(1e-2, 0.9, 0.999, 0.1, true), [-0.41157034039497375, -0.3164772689342499, -0.20031142234802246, -0.06297694146633148, 0.05437193065881729, 0.19500547647476196, 0.3087362051010132, 0.45200401544570923]);
        check_torch("adam_beta1_small", &adam(1e-2, 0.3, 0.9, 0.0, false), [-0.42017215490341187, -0.3146631419658661, -0.1936652660369873, -0.07267599552869797, 0.061976607888936996, 0.18464982509613037, 0.3166370093822479, 0.4428422749042511]);
    }

    fn close(name: &str, a: &[f64], b: &[f64]) {
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-13 * (1.0 + y.abs()), "{name}[{k}]: {x} vs {y}");
        }
    }

    /// The kernels in f64 against the textbook formulas written out per scalar.
    #[test]
    fn match_hand_expanded_formulas() {
        let gs = grads();
        // SGD with momentum, dampening, weight decay, nesterov
        for nesterov in [false, true] {
            let (lr, mom, damp, wd) = (0.1, 0.9, if nesterov { 0.0 } else { 0.2 }, 0.05);
            let mut p = p0();
            let mut buf = vec![0.0; 8];
            let mut rp = p0();
            let mut rb = vec![0.0; 8];
            for (s, g) in gs.iter().enumerate() {
                sgd_step(&mut p, g, &mut buf, lr, mom, damp, nesterov, wd, s == 0);
                for i in 0..8 {
                    let d = g[i] + wd * rp[i];
                    rb[i] = if s == 0 { d } else { mom * rb[i] + (1.0 - damp) * d };
                    let step = if nesterov { d + mom * rb[i] } else { rb[i] };
                    rp[i] -= lr * step;
                }
            }
            close("sgd", &p, &rp);
            close("sgd buf", &buf, &rb);
        }
        // RMSprop
        for mom in [0.0, 0.5] {
            let (lr, alpha, eps, wd) = (0.01, 0.9, 1e-6, 0.02);
            let (mut p, mut sq, mut buf) = (p0(), vec![0.0; 8], vec![0.0; 8]);
            let (mut rp, mut rsq, mut rb) = (p0(), vec![0.0; 8], vec![0.0; 8]);
            for g in &gs {
                rmsprop_step(&mut p, g, &mut sq, lr, alpha, eps, wd, mom, &mut buf);
                for i in 0..8 {
                    let gi = g[i] + wd * rp[i];
                    rsq[i] = alpha * rsq[i] + (1.0 - alpha) * gi * gi;
                    let avg = rsq[i].sqrt() + eps;
                    if mom > 0.0 {
                        rb[i] = mom * rb[i] + gi / avg;
                        rp[i] -= lr * rb[i];
                    } else {
                        rp[i] -= lr * gi / avg;
                    }
                }
            }
            close("rmsprop", &p, &rp);
            close("rmsprop sq", &sq, &rsq);
        }
        // Adam / AdamW
        for (decoupled, b1) in [(false, 0.9), (true, 0.9), (false, 0.3)] {
            let (lr, b2, eps, wd) = (0.01, 0.99, 1e-8, 0.1);
            let (mut p, mut m, mut v) = (p0(), vec![0.0; 8], vec![0.0; 8]);
            let (mut rp, mut rm, mut rv) = (p0(), vec![0.0; 8], vec![0.0; 8]);
            for (s, g) in gs.iter().enumerate() {
                let t = s as u64 + 1;
                if decoupled {
                    adamw_step(&mut p, g, &mut m, &mut v, t, lr, b1, b2, eps, wd);
                } else {
                    adam_step(&mut p, g, &mut m, &mut v, t, lr, b1, b2, eps, wd);
                }
                for i in 0..8 {
                    let mut gi = g[i];
                    if decoupled {
                        rp[i] *= 1.0 - lr * wd;
                    } else {
                        gi += wd * rp[i];
                    }
                    rm[i] = b1 * rm[i] + (1.0 - b1) * gi;
                    rv[i] = b2 * rv[i] + (1.0 - b2) * gi * gi;
                    let mhat = rm[i] / (1.0 - b1.powi(t as i32));
                    let denom = rv[i].sqrt() / (1.0 - b2.powi(t as i32)).sqrt() + eps;
                    rp[i] -= lr * mhat / denom;
                }
            }
            close("adam", &p, &rp);
            close("adam m", &m, &rm);
            close("adam v", &v, &rv);
        }
    }

    #[test]
    fn norm_clip_and_scale() {
        let a = [3.0f32, 0.0, 0.0];
        let b = [4.0f32; 1];
        let c: Vec<f32> = (0..21).map(|k| k as f32 * 0.5).collect();
        let want = (25.0 + c.iter().map(|&x| (x as f64).powi(2)).sum::<f64>()).sqrt();
        assert!((global_norm(&[&a[..], &b[..], &c[..]]) - want).abs() < 1e-12);
        assert_eq!(global_norm::<f32>(&[]), 0.0);
        assert_eq!(clip_coef(0.5, 1.0), None);
        let coef = clip_coef(5.0, 1.0).unwrap();
        assert!((coef - 1.0 / (5.0 + 1e-6)).abs() < 1e-15);
        let (mut a2, mut b2) = (a, b);
        scale_grads(&mut [&mut a2[..], &mut b2[..]], 0.5);
        assert_eq!((a2, b2), ([1.5, 0.0, 0.0], [2.0]));
    }

    #[test]
    fn large_buffers_same_bits_for_1_2_and_3_threads() {
        let _g = THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let n = 100_003;
        let mut r = rng(4);
        let g = to_f32(&rand_vec(&mut r, n, 1.0));
        let p0 = to_f32(&rand_vec(&mut r, n, 1.0));
        let run = |threads| {
            crate::par::set_threads(threads);
            let (mut p, mut m, mut v) = (p0.clone(), vec![0.0f32; n], vec![0.0f32; n]);
            for t in 1..=2 {
                adamw_step(&mut p, &g, &mut m, &mut v, t, 1e-3, 0.9, 0.999, 1e-8, 0.01);
            }
            crate::par::set_threads(0);
            p.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        };
        let one = run(1);
        assert!(one == run(2), "AdamW differs between 1 and 2 threads");
        assert!(one == run(3), "AdamW differs between 1 and 3 threads");
    }
}
