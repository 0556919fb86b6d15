//! Tests of the layers and losses: finite differences, reference formulas, threads.

use super::*;
use crate::testutil::*;
use ndarray::{Array1, Array2, Array3, ArrayView, ArrayView2, ArrayView3};

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
        .map(|j| {
            (0..b).map(|bb| -0.5 * (1.0 + p[1][bb * z + j] - p[0][bb * z + j].powi(2) - p[1][bb * z + j].exp())).sum::<f64>() / b as f64
        })
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
fn xent_per_sequence_matches_the_direct_sum() {
    let (b, t, v) = (3, 4, 9);
    let mut r = rng(10);
    let mut logits = rand_vec(&mut r, b * t * v, 3.0);
    logits[7] = 50.0; // a large logit (stability)
    let targets = vec![1, 8, 0, 3, 2, -5, -5, -5, 4, 4, 6, 7]; // -5 at masked steps
    let lengths = [4u32, 1, 3];
    let mut per = vec![f64::NAN; b];
    xent_per_sequence(v3(&logits, (b, t, v)), v2(&targets, (b, t)), Some(&lengths), &mut per);
    for bb in 0..b {
        let mut want = 0.0;
        for tt in 0..lengths[bb] as usize {
            let row = &logits[(bb * t + tt) * v..(bb * t + tt + 1) * v];
            let m = row.iter().cloned().fold(f64::MIN, f64::max);
            want += m + row.iter().map(|x| (x - m).exp()).sum::<f64>().ln() - row[targets[bb * t + tt] as usize];
        }
        assert!((per[bb] - want).abs() < 1e-12 * want.abs().max(1.0), "sequence {bb}: {} vs {want}", per[bb]);
    }
    // the batch loss is their mean
    let l = softmax_xent(v3(&logits, (b, t, v)), v2(&targets, (b, t)), Some(&lengths), 1.0, None);
    assert!((per.iter().sum::<f64>() / b as f64 - l).abs() < 1e-12 * l.abs());
    // an empty sequence scores 0, and f32 logits agree
    let mut per32 = vec![f64::NAN; b];
    xent_per_sequence(v3(&to_f32(&logits), (b, t, v)), v2(&targets, (b, t)), Some(&[4, 0, 3]), &mut per32);
    assert_eq!(per32[1], 0.0);
    assert!((per32[0] - per[0]).abs() < 1e-5 * per[0].abs());
}

#[test]
#[should_panic(expected = "xent_per_sequence: targets[1, 0] = 9 is not in 0..9")]
fn xent_per_sequence_rejects_a_target_out_of_range() {
    let logits = vec![0.0f64; 2 * 2 * 9];
    let mut per = vec![0.0; 2];
    xent_per_sequence(v3(&logits, (2, 2, 9)), v2(&[0, 1, 9, 0], (2, 2)), None, &mut per);
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
