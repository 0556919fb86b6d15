//! Tests of the optimizers: PyTorch fixtures, hand-expanded formulas, clipping, threads.

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
    let sgd = |lr, mom, damp, nest, wd| run(&move |p, g, s, st| sgd_step(p, g, &mut st[0], lr, mom, damp, nest, wd, s == 0));
    check_torch(
        "sgd_mom",
        &sgd(0.1, 0.9, 0.1, false, 0.01),
        [
            -0.3348538279533386,
            -0.31476113200187683,
            -0.23903661966323853,
            -0.09474150836467743,
            0.04285798594355583,
            0.18715311586856842,
            0.3247526288032532,
            0.46904775500297546,
        ],
    );
    check_torch(
        "sgd_nesterov",
        &sgd(0.1, 0.9, 0.0, true, 0.0),
        [
            -0.30803126096725464,
            -0.30393749475479126,
            -0.24415625631809235,
            -0.1342562437057495,
            0.05615000054240227,
            0.1660500019788742,
            0.3564562499523163,
            0.4663562476634979,
        ],
    );
    check_torch(
        "sgd_plain",
        &sgd(0.1, 0.0, 0.0, false, 0.0),
        [
            -0.4000000059604645,
            -0.30000001192092896,
            -0.20000000298023224,
            -0.10000000149011612,
            0.06875000149011612,
            0.16875000298023224,
            0.3374999761581421,
            0.4375,
        ],
    );
    let rms = |lr, alpha, eps, wd, mom| {
        run(&move |p, g, _s, st| {
            let (a, b) = st.split_at_mut(1);
            rmsprop_step(p, g, &mut a[0], lr, alpha, eps, wd, mom, &mut b[0])
        })
    };
    check_torch(
        "rmsprop_mom",
        &rms(0.01, 0.99, 1e-8, 0.01, 0.9),
        [
            -0.11240553110837936,
            -0.1452094465494156,
            -0.35795339941978455,
            -0.052706338465213776,
            -0.05622426047921181,
            0.2812582850456238,
            0.23578433692455292,
            0.6298941373825073,
        ],
    );
    check_torch(
        "rmsprop",
        &rms(0.01, 0.99, 1e-8, 0.0, 0.0),
        [
            -0.31862306594848633,
            -0.32663694024086,
            -0.2358601987361908,
            -0.14341072738170624,
            0.05092347413301468,
            0.15512466430664062,
            0.33099207282066345,
            0.46643486618995667,
        ],
    );
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
    check_torch(
        "adam",
        &adam(1e-2, 0.9, 0.999, 0.0, false),
        [
            -0.41285255551338196,
            -0.3174212574958801,
            -0.2008952647447586,
            -0.06314792484045029,
            0.05453978106379509,
            0.1955900490283966,
            0.30965572595596313,
            0.45334190130233765,
        ],
    );
    check_torch(
        "adam_l2",
        &adam(1e-2, 0.9, 0.999, 0.1, false),
        [
            -0.41147494316101074,
            -0.30466392636299133,
            -0.19924296438694,
            -0.06243444234132767,
            0.05404222011566162,
            0.19277682900428772,
            0.30724555253982544,
            0.4480759799480438,
        ],
    );
    check_torch(
        "adamw",
        &adam(1e-2, 0.9, 0.999, 0.1, true),
        [
            -0.41157034039497375,
            -0.3164772689342499,
            -0.20031142234802246,
            -0.06297694146633148,
            0.05437193065881729,
            0.19500547647476196,
            0.3087362051010132,
            0.45200401544570923,
        ],
    );
    check_torch(
        "adam_beta1_small",
        &adam(1e-2, 0.3, 0.9, 0.0, false),
        [
            -0.42017215490341187,
            -0.3146631419658661,
            -0.1936652660369873,
            -0.07267599552869797,
            0.061976607888936996,
            0.18464982509613037,
            0.3166370093822479,
            0.4428422749042511,
        ],
    );
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

#[test]
fn ema_update_follows_lerp_in_f32() {
    let mut r = rng(9);
    let p = to_f32(&rand_vec(&mut r, 37, 1.0));
    let a0 = to_f32(&rand_vec(&mut r, 37, 1.0));
    for decay in [0.0, 0.1, 0.99, 0.999_9] {
        let mut a = a0.clone();
        ema_update(&mut a, &p, decay);
        for k in 0..a.len() {
            // the same operations in f32 (one rounding each), and within an ulp or two of the f64 value
            let w = (1.0 - decay) as f32;
            assert_eq!(a[k].to_bits(), (a0[k] + w * (p[k] - a0[k])).to_bits(), "decay {decay}, k {k}");
            let exact = a0[k] as f64 + (1.0 - decay) * (p[k] as f64 - a0[k] as f64);
            assert!((a[k] as f64 - exact).abs() <= 4.0 * f32::EPSILON as f64 * exact.abs().max(1.0), "decay {decay}, k {k}");
        }
    }
    // decay 0 copies the weights (up to the rounding of a + (p − a)); decay 1 leaves the average alone
    let mut a = a0.clone();
    ema_update(&mut a, &p, 1.0);
    assert_eq!(a, a0);
    let mut a = vec![0.0f32; p.len()];
    ema_update(&mut a, &p, 0.0);
    assert_eq!(a, p);
}

#[test]
#[should_panic(expected = "ema_update")]
fn ema_update_checks_lengths() {
    ema_update(&mut [0.0f32; 3], &[0.0f32; 2], 0.5);
}

#[test]
fn ema_update_same_bits_for_1_and_2_threads() {
    let _g = THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let n = 100_003;
    let mut r = rng(5);
    let p = to_f32(&rand_vec(&mut r, n, 1.0));
    let a0 = to_f32(&rand_vec(&mut r, n, 1.0));
    let run = |threads| {
        crate::par::set_threads(threads);
        let mut a = a0.clone();
        ema_update(&mut a, &p, 0.99);
        crate::par::set_threads(0);
        a.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    };
    assert!(run(1) == run(2), "ema_update differs between 1 and 2 threads");
}
