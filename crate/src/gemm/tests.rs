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
    // a concurrent `set_isa` (in `set_isa_forces_the_kernel`) would change the kernel between the two
    let _g = crate::testutil::THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
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

/// The kernels this CPU runs (the others are skipped, and said so).
fn isas() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|i| {
            let ok = i.available();
            if !ok {
                eprintln!("gemm tests: the {} kernel is not supported by this CPU: skipped", i.name());
            }
            ok
        })
        .collect()
}

fn rand_f32(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

/// Every kernel against the f64 reference and against the portable kernel: odd shapes (partial
/// tiles in M and N for 4×8, 6×16 and 8×32), K over the KC block, M over MC, N over NC, B read
/// in place (short rows) or packed, every transpose, leading dimensions, alpha and beta; 1 and 2 threads.
#[test]
fn every_kernel_matches_the_reference_and_the_portable_kernel() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let shapes = [
        (2, 1, 1),
        (2, 7, 3),
        (6, 16, 8),
        (7, 17, 9),
        (8, 32, 16),
        (9, 33, 257),
        (5, 15, 300),
        (13, 29, 7),
        (73, 65, 513),
        (130, 40, 12),
        (3, 600, 40),
        (65, 1030, 20),
        (128, 16, 64),
        (20, 48, 700),
    ];
    for isa in isas() {
        for &(m, n, k) in &shapes {
            for &(ta, tb) in &[(false, false), (false, true), (true, false), (true, true)] {
                for &(alpha, beta, pad) in &[(1.0f64, 0.0f64, 0usize), (0.5, 1.0, 3), (-1.5, 0.25, 1)] {
                    let lda = if ta { m } else { k } + pad;
                    let ldb = if tb { k } else { n } + pad;
                    let g = Gemm { ta, tb, m, n, k, lda, ldb, ldc: n + pad };
                    let a = rand_vec(&mut rng, g.a_len());
                    let b = rand_vec(&mut rng, g.b_len());
                    let c0 = rand_vec(&mut rng, g.c_len());
                    let mut want = c0.clone();
                    gemm_reference(g, alpha, &a, &b, beta, &mut want);
                    let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
                    let (af, bf) = (f(&a), f(&b));
                    let mut portable = f(&c0);
                    gemm_with_isa(Isa::Portable, g, alpha as f32, &af, &bf, beta as f32, &mut portable, false);
                    for par in [false, true] {
                        let mut got = f(&c0);
                        gemm_with_isa(isa, g, alpha as f32, &af, &bf, beta as f32, &mut got, par);
                        let tol = 1e-5 * (k as f64 + 2.0);
                        for i in 0..got.len() {
                            let (x, y, p) = (got[i] as f64, want[i], portable[i] as f64);
                            let what = format!("{} {m}x{n}x{k} ta={ta} tb={tb} alpha={alpha} beta={beta} pad={pad} [{i}]", isa.name());
                            assert!((x - y).abs() <= tol, "{what}: {x} vs reference {y}");
                            assert!((x - p).abs() <= tol, "{what}: {x} vs portable {p}");
                        }
                    }
                }
            }
        }
    }
}

/// Within one kernel the bits do not depend on the thread count, for a split along N and along M.
#[test]
fn every_kernel_is_bit_identical_for_any_thread_count() {
    let _g = crate::testutil::THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    for isa in isas() {
        for &(m, n, k, ta) in &[(67, 515, 300, false), (1000, 40, 70, false), (333, 100, 90, true), (1031, 20, 300, true)] {
            let g = if ta { Gemm::tn(m, n, k) } else { Gemm::nn(m, n, k) };
            let a = rand_f32(&mut rng, m * k);
            let b = rand_f32(&mut rng, k * n);
            let mut outs = vec![];
            for t in [1, 2, 3] {
                crate::par::set_threads(t);
                let mut c = vec![0.0f32; m * n];
                gemm_with_isa(isa, g, 1.0, &a, &b, 0.0, &mut c, true);
                outs.push(c);
            }
            crate::par::set_threads(0);
            for t in 1..3 {
                let same = outs[0].iter().zip(&outs[t]).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{}: {m}x{n}x{k} differs between 1 and {} threads", isa.name(), t + 1);
            }
        }
    }
}

/// A B packed for a kernel gives that kernel's bits (the panels follow its strip width).
#[test]
fn every_kernel_prepacked_b_equals_plain_gemm_bitwise() {
    let mut rng = ChaCha8Rng::seed_from_u64(25);
    for isa in isas() {
        for &(m, n, k, tb) in &[(5, 600, 300, true), (33, 130, 17, false), (2, 9, 513, true), (128, 1024, 256, true), (7, 40, 3, false)] {
            let ldb = if tb { k } else { n };
            let a = rand_f32(&mut rng, m * k);
            let b = rand_f32(&mut rng, k * n);
            let c0 = rand_f32(&mut rng, m * n);
            let mut want = c0.clone();
            gemm_with_isa(isa, Gemm { ta: false, tb, m, n, k, lda: k, ldb, ldc: n }, 1.0, &a, &b, 1.0, &mut want, false);
            let mut pb = PackedB::new();
            pb.pack_for(isa, tb, k, n, &b, ldb);
            let mut got = c0.clone();
            gemm_packed_st(false, m, &a, k, &pb, 1.0, &mut got, n);
            assert!(got.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()), "{} {m}x{n}x{k}", isa.name());
        }
    }
}

/// `set_isa` switches the kernel of `gemm` (and of `PackedB::pack`); a B packed before keeps its
/// kernel; an ISA the CPU lacks is refused without a change.
#[test]
fn set_isa_forces_the_kernel() {
    let _g = crate::testutil::THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let before = isa();
    assert!(before.available());
    assert!(!isa_reason().is_empty());
    let mut rng = ChaCha8Rng::seed_from_u64(27);
    let (m, n, k) = (37, 70, 300);
    let a = rand_f32(&mut rng, m * k);
    let b = rand_f32(&mut rng, k * n);
    let mut results = vec![];
    for i in isas() {
        set_isa(i).unwrap();
        assert_eq!(isa(), i);
        assert!(isa_reason().contains(i.name()));
        let mut got = vec![0.0f32; m * n];
        gemm(Gemm::nn(m, n, k), 1.0, &a, &b, 0.0, &mut got);
        let mut want = vec![0.0f32; m * n];
        gemm_with_isa(i, Gemm::nn(m, n, k), 1.0, &a, &b, 0.0, &mut want, true);
        assert!(got.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()), "gemm after set_isa({})", i.name());
        let mut pb = PackedB::new();
        pb.pack(false, k, n, &b, n);
        results.push((i, pb, want));
    }
    // switched to the last kernel: each B still multiplies with the kernel it was packed for
    for (i, pb, want) in &results {
        let mut got = vec![0.0f32; m * n];
        gemm_packed_st(false, m, &a, k, pb, 1.0, &mut got, n);
        assert!(got.iter().zip(want).all(|(x, y)| x.to_bits() == y.to_bits()), "B packed for {}", i.name());
    }
    for i in Isa::ALL.into_iter().filter(|i| !i.available()) {
        let now = isa();
        assert!(set_isa(i).is_err(), "set_isa({}) on a CPU without it", i.name());
        assert_eq!(isa(), now);
    }
    set_isa(before).unwrap();
    // the fused kernels round differently from the portable one (else the test above proves little)
    if results.len() > 1 {
        let (p, f) = (&results[0].2, &results[1].2);
        assert!(
            p.iter().zip(f).any(|(x, y)| x.to_bits() != y.to_bits()),
            "{} and {} gave the same bits",
            results[0].0.name(),
            results[1].0.name()
        );
    }
}

#[test]
fn isa_names_parse() {
    for i in Isa::ALL {
        assert_eq!(Isa::parse(i.name()), Some(i));
    }
    assert_eq!(Isa::parse(" AVX512F "), Some(Isa::Avx512));
    assert_eq!(Isa::parse("neon"), None);
    assert!(Isa::Portable.available());
}

/// With every kernel, one row alone gives the bits it gives inside a batch (a live stream scores
/// one window at a time; its scores must equal the batch's), in a full tile or a partial one, for
/// every operand layout, K over the KC block, alpha and beta, and through a pre-packed B.
#[test]
fn one_row_equals_its_row_in_a_batch() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for isa in isas() {
        for &(n, k) in &[(1, 1), (7, 3), (8, 32), (128, 32), (13, 300), (520, 9), (33, 517)] {
            for &(ta, tb) in &[(false, false), (false, true), (true, false), (true, true)] {
                for &(alpha, beta) in &[(1.0f32, 1.0f32), (0.5, 0.0), (-1.5, 0.25)] {
                    for rows in [2usize, 9, 17] {
                        let a = rand_f32(&mut rng, rows * k);
                        let b = rand_f32(&mut rng, n * k);
                        let c0 = rand_f32(&mut rng, rows * n);
                        let (lda, ldb) = (if ta { rows } else { k }, if tb { k } else { n });
                        let mut batch = c0.clone();
                        gemm_with_isa(isa, Gemm { ta, tb, m: rows, n, k, lda, ldb, ldc: n }, alpha, &a, &b, beta, &mut batch, false);
                        for r in [0, rows - 1] {
                            let row_a: Vec<f32> = (0..k).map(|p| if ta { a[p * rows + r] } else { a[r * k + p] }).collect();
                            let mut one = c0[r * n..(r + 1) * n].to_vec();
                            let g1 = Gemm { ta, tb, m: 1, n, k, lda: if ta { 1 } else { k }, ldb, ldc: n };
                            gemm_with_isa(isa, g1, alpha, &row_a, &b, beta, &mut one, false);
                            let want = &batch[r * n..(r + 1) * n];
                            assert!(
                                one.iter().zip(want).all(|(x, y)| x.to_bits() == y.to_bits()),
                                "{}: row {r} of {rows}, n={n} k={k} ta={ta} tb={tb} alpha={alpha} beta={beta}",
                                isa.name()
                            );
                            if beta == 1.0 {
                                let mut pb = PackedB::new();
                                pb.pack_for(isa, tb, k, n, &b, ldb);
                                let mut packed = c0[r * n..(r + 1) * n].to_vec();
                                gemm_packed_st(false, 1, &row_a, k, &pb, alpha, &mut packed, n);
                                assert!(packed.iter().zip(want).all(|(x, y)| x.to_bits() == y.to_bits()), "{} packed: row {r}", isa.name());
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Rows of A far apart (an LSTM's `h_{t-1}` inside `[B, T, H]`: packed on x86-64) give the bits of
/// the same rows stored together (read in place), with every kernel, plain and with a pre-packed B.
#[test]
fn rows_of_a_far_apart_give_the_bits_of_contiguous_rows() {
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    for isa in isas() {
        for &(m, n, k, stride) in &[(128, 1024, 256, 128), (13, 100, 37, 3), (7, 64, 300, 2), (1, 80, 20, 5)] {
            let lda = k * stride;
            let far = rand_f32(&mut rng, (m - 1) * lda + k);
            let near: Vec<f32> = (0..m).flat_map(|i| far[i * lda..i * lda + k].to_vec()).collect();
            let b = rand_f32(&mut rng, k * n);
            let c0 = rand_f32(&mut rng, m * n);
            let mut want = c0.clone();
            gemm_with_isa(isa, Gemm::nn(m, n, k), 1.0, &near, &b, 1.0, &mut want, true);
            let mut got = c0.clone();
            gemm_with_isa(isa, Gemm { lda, ..Gemm::nn(m, n, k) }, 1.0, &far, &b, 1.0, &mut got, true);
            assert!(got.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()), "{} {m}x{n}x{k} lda {lda}", isa.name());
            let mut pb = PackedB::new();
            pb.pack_for(isa, false, k, n, &b, n);
            let mut got = c0.clone();
            gemm_packed_st(false, m, &far, lda, &pb, 1.0, &mut got, n);
            assert!(got.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()), "{} packed B {m}x{n}x{k} lda {lda}", isa.name());
        }
    }
}
