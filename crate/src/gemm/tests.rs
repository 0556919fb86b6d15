//! Tests of the GEMM against a triple-loop reference, and its invariants (threads, pre-packed B).

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rand_vec(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

fn check(g: Gemm, alpha: f64, beta: f64, rng: &mut ChaCha8Rng) {
    let a = rand_vec(rng, g.a_len().max(1));
    let b = rand_vec(rng, g.b_len().max(1));
    let c0 = rand_vec(rng, g.c_len().max(1));
    let mut want = c0.clone();
    gemm_reference(g, alpha, &a, &b, beta, &mut want);
    // f64 path: equal to rounding
    let mut got = c0.clone();
    gemm(g, alpha, &a, &b, beta, &mut got);
    for (x, y) in got.iter().zip(&want) {
        assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "f64 gemm {x} vs {y}");
    }
    // f32 path: relative to the magnitude of the sum of |terms|
    let af: Vec<f32> = a.iter().map(|&v| v as f32).collect();
    let bf: Vec<f32> = b.iter().map(|&v| v as f32).collect();
    let mut cf: Vec<f32> = c0.iter().map(|&v| v as f32).collect();
    gemm(g, alpha as f32, &af, &bf, beta as f32, &mut cf);
    let tol = 1e-5 * (g.k as f64 + 2.0);
    for (x, y) in cf.iter().zip(&want) {
        assert!(((*x as f64) - y).abs() <= tol, "f32 gemm {x} vs {y} (ta={} tb={} {}x{}x{})", g.ta, g.tb, g.m, g.n, g.k);
    }
}

#[test]
fn gemm_matches_reference_on_odd_shapes_and_transposes() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for &(m, n, k) in &[
        (1, 1, 1),
        (1, 7, 3),
        (1, 300, 517),
        (5, 1, 9),
        (4, 8, 16),
        (13, 29, 7),
        (65, 130, 300),
        (3, 513, 2),
        (70, 9, 600),
        (9, 32, 700),
        (130, 24, 513),
    ] {
        for &(ta, tb) in &[(false, false), (false, true), (true, false), (true, true)] {
            let lda = if ta { m } else { k };
            let ldb = if tb { k } else { n };
            check(Gemm { ta, tb, m, n, k, lda, ldb, ldc: n }, 1.0, 0.0, &mut rng);
            check(Gemm { ta, tb, m, n, k, lda: lda + 3, ldb: ldb + 1, ldc: n + 2 }, 0.5, 1.0, &mut rng);
            check(Gemm { ta, tb, m, n, k, lda, ldb, ldc: n }, -1.5, 0.25, &mut rng);
        }
    }
}

#[test]
fn gemm_empty_dimensions_are_no_ops_or_zero() {
    let mut c = vec![5.0f32; 6];
    gemm(Gemm::nn(2, 3, 0), 1.0, &[], &[], 0.0, &mut c);
    assert_eq!(c, vec![0.0; 6], "k = 0 with beta 0 gives zeros");
    let mut c: Vec<f32> = vec![];
    gemm(Gemm::nn(0, 3, 4), 1.0, &[], &[1.0; 12], 0.0, &mut c);
}

#[test]
fn gemm_is_bit_identical_for_any_thread_count() {
    let _g = crate::testutil::THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (m, n, k) = (67, 515, 300);
    let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let mut outs = vec![];
    for t in [1, 2, 3] {
        crate::par::set_threads(t);
        let mut c = vec![0.0f32; m * n];
        gemm(Gemm::nn(m, n, k), 1.0, &a, &b, 0.0, &mut c);
        outs.push(c);
    }
    crate::par::set_threads(0);
    assert!(outs[0].iter().zip(&outs[1]).all(|(x, y)| x.to_bits() == y.to_bits()), "GEMM differs between 1 and 2 threads");
    assert!(outs[0].iter().zip(&outs[2]).all(|(x, y)| x.to_bits() == y.to_bits()), "GEMM differs between 1 and 3 threads");
}

#[test]
fn prepacked_b_equals_plain_gemm_bitwise() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for &(m, n, k, tb) in &[(5, 600, 300, true), (33, 130, 17, false), (2, 9, 513, true)] {
        let ldb = if tb { k } else { n };
        let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let c0: Vec<f32> = (0..m * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let mut want = c0.clone();
        gemm_st(Gemm { ta: false, tb, m, n, k, lda: k, ldb, ldc: n }, 1.0, &a, &b, 1.0, &mut want);
        let mut pb = PackedB::new();
        pb.pack(tb, k, n, &b, ldb);
        let mut got = c0.clone();
        gemm_packed_st(false, m, &a, k, &pb, 1.0, &mut got, n);
        assert!(got.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()), "{m}x{n}x{k}");
    }
}

#[test]
fn matmul_on_views() {
    let a = ndarray::arr2(&[[1.0f64, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let b = ndarray::arr2(&[[1.0f64, 0.0, 2.0], [0.0, 1.0, 3.0]]);
    let mut c = ndarray::Array2::<f64>::zeros((3, 3));
    matmul(a.view(), b.view(), c.view_mut());
    assert_eq!(c, a.dot(&b));
}
