//! Tests of the LSTM layer: a naive reference, finite differences, f32 against f64, threads.

use super::*;
use crate::act::Act;
use crate::testutil::*;
use ndarray::{Array1, Array2, Array3, ArrayView, ArrayView2, ArrayView3};

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
            dx_sum: None,
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
    let r: Vec<Vec<f32>> = [s.b * s.t * s.h, s.b * s.h, s.b * s.h].iter().map(|&n| to_f32(&rand_vec(&mut rr, n, 1.0))).collect();
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

/// An input that is the same at every step (the repeat decoder's z) has its projection computed
/// once per sequence and copied: the states equal, bit for bit, those of the full product (an
/// input equal up to its last step, where the full product runs, gives the same steps before it),
/// for batches of 1 and 3, with and without an initial state.
#[test]
fn constant_input_gives_the_bits_of_the_full_product() {
    for (b, init) in [(1, false), (1, true), (3, true)] {
        let s = Setup { b, t: 6, i: 5, h: 7, lengths: None, init, dh_seq: false };
        let mut p: Vec<Vec<f32>> = params(&s, 40 + b as u64).iter().map(|v| v.iter().map(|&x| x as f32).collect()).collect();
        for seq in 0..b {
            for t in 1..s.t {
                for k in 0..s.i {
                    p[0][(seq * s.t + t) * s.i + k] = p[0][seq * s.t * s.i + k];
                }
            }
        }
        let constant = forward(&s, &p);
        let mut q = p.clone();
        for seq in 0..b {
            q[0][(seq * s.t + s.t - 1) * s.i] += 0.5; // the last step differs: the full product
        }
        let full = forward(&s, &q);
        for seq in 0..b {
            for t in 0..s.t - 1 {
                for j in 0..s.h {
                    let k = (seq * s.t + t) * s.h + j;
                    assert_eq!(
                        constant.h_seq.as_slice().unwrap()[k].to_bits(),
                        full.h_seq.as_slice().unwrap()[k].to_bits(),
                        "b={b} seq {seq} t {t}"
                    );
                    assert_eq!(constant.c_seq.as_slice().unwrap()[k].to_bits(), full.c_seq.as_slice().unwrap()[k].to_bits());
                }
            }
        }
    }
}

/// The recurrence of a batch of one (`row`) gives, with every GEMM kernel this CPU has, the bits
/// of the GEMM it replaces (`g + h · W_hhᵀ` with W_hh `[4H, H]`), for hidden sizes with and
/// without partial vectors.
#[test]
fn row_recurrence_equals_the_gemm_with_every_kernel() {
    use crate::gemm::{gemm_with_isa, Gemm, Isa};
    let mut r = rng(77);
    for isa in Isa::ALL.into_iter().filter(|i| i.available()) {
        for h in [1usize, 3, 8, 17, 32, 64, 100, 256] {
            let w: Vec<f32> = rand_vec(&mut r, 4 * h * h, 0.6).iter().map(|&v| v as f32).collect();
            let hp: Vec<f32> = rand_vec(&mut r, h, 1.0).iter().map(|&v| v as f32).collect();
            let g0: Vec<f32> = rand_vec(&mut r, 4 * h, 1.0).iter().map(|&v| v as f32).collect();
            let mut want = g0.clone();
            gemm_with_isa(isa, Gemm::nt(1, 4 * h, h), 1.0, &hp, &w, 1.0, &mut want, false);
            let mut got = g0.clone();
            super::row::RowRecurrence::with_isa(&w, h, isa).apply(&hp, &mut got);
            for j in 0..4 * h {
                assert_eq!(got[j].to_bits(), want[j].to_bits(), "{}: H={h} j={j}: {} vs {}", isa.name(), got[j], want[j]);
            }
        }
    }
}

/// An input that is the same at every step takes the shortcut `dW_ih = Σ_b (Σ_t dG)ᵀ x_b`: its
/// gradients still match finite differences (f64, with lengths and an initial state), and
/// `dx_sum` equals `Σ_t dx_t` of the same call, for inputs constant in time or not.
#[test]
fn constant_input_backward_and_dx_sum() {
    let names = ["x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0"];
    let s = Setup { b: 3, t: 5, i: 4, h: 6, lengths: Some(vec![5, 2, 4]), init: true, dh_seq: true };
    let mut ws = LstmWorkspace::new();
    for constant in [true, false] {
        let mut p = params(&s, 50);
        if constant {
            for seq in 0..s.b {
                for t in 1..s.t {
                    for k in 0..s.i {
                        p[0][(seq * s.t + t) * s.i + k] = p[0][seq * s.t * s.i + k];
                    }
                }
            }
        }
        let mut rr = rng(51);
        let r = vec![rand_vec(&mut rr, s.b * s.t * s.h, 1.0), rand_vec(&mut rr, s.b * s.h, 1.0), rand_vec(&mut rr, s.b * s.h, 1.0)];
        let cache = forward(&s, &p);
        let g = backward(&s, &p, &cache, &r, &mut ws);
        let worst = check_grads(&format!("constant input {constant}"), &names, &p, &g, |q| loss(&s, q, &r), 1e-6);
        eprintln!("lstm, input constant in time: {constant}: worst relative error {worst:.2e}");
        // dx_sum (and no dx) from a second call: Σ_t of the first call's dx, and the same dW_ih
        let (b, t, i, h) = (s.b, s.t, s.i, s.h);
        let mut dx_sum = Array2::<f64>::from_elem((b, i), 9.0);
        let (mut dwih, mut dwhh) = (Array2::zeros((4 * h, i)), Array2::zeros((4 * h, h)));
        let (mut dbih, mut dbhh) = (Array1::zeros(4 * h), Array1::zeros(4 * h));
        lstm_backward(
            v3(&p[0], (b, t, i)),
            s.lengths.as_deref(),
            v2(&p[1], (4 * h, i)),
            v2(&p[2], (4 * h, h)),
            Some(v2(&p[5], (b, h))),
            Some(v2(&p[6], (b, h))),
            cache.fwd(),
            Some(v3(&r[0], (b, t, h))),
            Some(v2(&r[1], (b, h))),
            Some(v2(&r[2], (b, h))),
            LstmGrads {
                dx: None,
                dx_sum: Some(dx_sum.view_mut()),
                dh0: None,
                dc0: None,
                dw_ih: dwih.view_mut(),
                dw_hh: dwhh.view_mut(),
                db_ih: dbih.view_mut(),
                db_hh: dbhh.view_mut(),
            },
            &mut ws,
        );
        assert_eq!(dwih.as_slice().unwrap(), &g[1][..], "dW_ih with and without dx");
        for bb in 0..b {
            for k in 0..i {
                let want: f64 = (0..t).map(|tt| g[0][(bb * t + tt) * i + k]).sum();
                let got = dx_sum[[bb, k]];
                assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "dx_sum[{bb}, {k}]: {got} vs Σ_t dx {want}");
            }
        }
    }
}
