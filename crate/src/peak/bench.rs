//! GFLOP/s of the sgemm per kernel for the products of the L training step (B128 T128 D16 H256
//! Z32), beside the register-only peak loop, on 1 and 2 threads. Not a test: run with
//!
//! ```text
//! cargo test --release -p lstm-vae-kernels --features bench -- --ignored --nocapture gemm_gflops
//! ```
//! (`LSTM_VAE_BENCH_REPEATS=n` sets the repeats; the median is printed).

use super::peak_loop_isa;
use crate::gemm::{gemm_packed_st, gemm_with_isa, isa, isa_reason, Gemm, Isa, PackedB};
use crate::par::{for_each_task, set_threads};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// GFLOP/s of the peak loop on `threads` threads at once (their sum).
fn peak_gflops(isa: Isa, threads: usize, repeats: usize) -> f64 {
    let iters = 20_000_000u32;
    median(
        (0..repeats)
            .map(|_| {
                let t0 = Instant::now();
                let flops = std::sync::atomic::AtomicU64::new(0);
                set_threads(threads);
                for_each_task(threads, |t| {
                    let (r, f) = peak_loop_isa(isa, iters, t as f32 * 1e-3);
                    std::hint::black_box(r);
                    flops.fetch_add(f, std::sync::atomic::Ordering::Relaxed);
                });
                flops.into_inner() as f64 / t0.elapsed().as_secs_f64() / 1e9
            })
            .collect(),
    )
}

/// One product of the step: a GEMM (threads as set), or `calls` row-split packed GEMMs (the
/// recurrence: each step's `[B, H]·W_hhᵀ` split by rows between the threads, B pre-packed).
struct Product {
    name: &'static str,
    g: Gemm,
    /// recurrent: called `calls` times (time steps) as packed GEMMs
    calls: usize,
}

fn products() -> Vec<Product> {
    let (b, t, d, h, z) = (128, 128, 16, 256, 32);
    let (n, g4) = (b * t, 4 * h);
    vec![
        Product { name: "enc x·W_ihᵀ   [16384×1024×16]", g: Gemm::nt(n, g4, d), calls: 1 },
        Product { name: "x·W_ihᵀ, K=32 [16384×1024×32]", g: Gemm::nt(n, g4, z), calls: 1 },
        Product { name: "h·W_hhᵀ step  [128×1024×256]×128", g: Gemm::nt(b, g4, h), calls: t },
        Product { name: "dg·W_hh step  [128×256×1024]×128", g: Gemm::nn(b, h, g4), calls: t },
        Product { name: "dW_hh dgᵀ·h   [1024×256×16384]", g: Gemm::tn(g4, h, n), calls: 1 },
        Product { name: "dW_ih dgᵀ·x   [1024×16×16384]", g: Gemm::tn(g4, d, n), calls: 1 },
        Product { name: "dx dg·W_ih    [16384×16×1024]", g: Gemm::nn(n, d, g4), calls: 1 },
        Product { name: "out h·Wᵀ      [16384×16×256]", g: Gemm::nt(n, d, h), calls: 1 },
        Product { name: "out dW dyᵀ·h  [16×256×16384]", g: Gemm::tn(d, h, n), calls: 1 },
    ]
}

fn product_gflops(isa: Isa, p: &Product, threads: usize, repeats: usize) -> f64 {
    let g = p.g;
    let mut rng = crate::testutil::rng(5);
    let rand = |rng: &mut rand_chacha::ChaCha8Rng, n: usize| -> Vec<f32> {
        use rand::Rng;
        (0..n).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
    };
    let a = rand(&mut rng, g.a_len());
    let b = rand(&mut rng, g.b_len());
    let mut c = rand(&mut rng, g.c_len());
    set_threads(threads);
    let flops = 2.0 * (g.m * g.n * g.k * p.calls) as f64;
    let mut pb = PackedB::new();
    if p.calls > 1 {
        pb.pack_for(isa, g.tb, g.k, g.n, &b, g.ldb);
    }
    let run = |c: &mut [f32]| {
        if p.calls == 1 {
            gemm_with_isa(isa, g, 1.0, &a, &b, 0.0, c, true);
        } else {
            let cp = crate::par::SendPtr(c.as_mut_ptr());
            for _ in 0..p.calls {
                let tasks = threads.min(g.m);
                for_each_task(tasks, |t| {
                    let (lo, hi) = (g.m * t / tasks, g.m * (t + 1) / tasks);
                    let (cp,) = (cp,);
                    let ct = unsafe { std::slice::from_raw_parts_mut(cp.0.add(lo * g.n), (hi - lo) * g.n) };
                    gemm_packed_st(false, hi - lo, &a[lo * g.k..hi * g.k], g.k, &pb, 1.0, ct, g.n);
                });
            }
        }
    };
    run(&mut c);
    median(
        (0..repeats)
            .map(|_| {
                let t0 = Instant::now();
                run(&mut c);
                flops / t0.elapsed().as_secs_f64() / 1e9
            })
            .collect(),
    )
}

#[test]
#[ignore]
fn gemm_gflops() {
    let _g = crate::testutil::THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let repeats: usize = std::env::var("LSTM_VAE_BENCH_REPEATS").ok().and_then(|v| v.parse().ok()).unwrap_or(7);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    println!("sgemm GFLOP/s, medians of {repeats}; CPU: {cpu}; default kernel {} ({})", isa().name(), isa_reason());
    let isas: Vec<Isa> = Isa::ALL.into_iter().filter(|i| i.available()).collect();
    for i in Isa::ALL.into_iter().filter(|i| !i.available()) {
        println!("{}: not supported by this CPU, skipped", i.name());
    }
    for threads in [1usize, 2] {
        println!("\n{threads} thread(s)");
        print!("{:<36}", "");
        for i in &isas {
            print!("{:>18}", i.name());
        }
        println!();
        let peaks: Vec<f64> = isas.iter().map(|&i| peak_gflops(i, threads, repeats)).collect();
        print!("{:<36}", "peak loop (FMA chains, registers)");
        for p in &peaks {
            print!("{:>18.1}", p);
        }
        println!();
        for p in products() {
            print!("{:<36}", p.name);
            for (k, &i) in isas.iter().enumerate() {
                let gf = product_gflops(i, &p, threads, repeats);
                print!("{:>10.1} ({:>3.0}%)", gf, 100.0 * gf / peaks[k]);
            }
            println!();
        }
    }
    set_threads(0);
}

/// The time share of each product in the L training step's kernels (crate level: the encoder and
/// decoder LSTMs forward and backward, the output layer forward and backward; the decoder fed the
/// same z at every step, as the repeat decoder is, and asked for `Σ_t dx_t` as the model does), per kernel and thread count: each GEMM shape's
/// calls, time, share of the step, GFLOP/s and % of the FMA peak loop; what is not GEMM
/// (activations, cell updates, bias sums, copies) as the rest. Not a test: run with
///
/// ```text
/// cargo test --release -p lstm-vae-kernels --features bench -- --ignored --nocapture lstm_step_profile
/// ```
#[test]
#[ignore]
fn lstm_step_profile() {
    use crate::gemm::prof;
    use crate::lstm::{lstm_backward, lstm_forward, LstmCache, LstmFwd, LstmGrads, LstmWorkspace};
    use crate::nn::{linear_backward, linear_forward};
    use ndarray::{Array1, Array2, Array3};
    use rand::Rng;
    let _g = crate::testutil::THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let repeats: usize = std::env::var("LSTM_VAE_BENCH_REPEATS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let (b, t, d, h, z) = (128usize, 128usize, 16usize, 256usize, 32usize);
    let mut rng = crate::testutil::rng(11);
    let mut r2 = |r: usize, c: usize| Array2::from_shape_fn((r, c), |_| rng.gen_range(-0.1f32..0.1));
    let (enc_wih, enc_whh, dec_wih, dec_whh, w_out) = (r2(4 * h, d), r2(4 * h, h), r2(4 * h, z), r2(4 * h, h), r2(d, h));
    let x = Array3::from_shape_fn((b, t, d), |(i, j, k)| ((i * 7 + j * 3 + k) as f32 * 0.01).sin());
    let zb = r2(b, z);
    let zs = Array3::from_shape_fn((b, t, z), |(i, _, k)| zb[[i, k]]);
    let dh_last = r2(b, h);
    let bias = Array1::<f32>::zeros(4 * h);
    let b_out = Array1::<f32>::zeros(d);
    let (mut enc, mut dec) = (LstmCache::<f32>::new(b, t, h), LstmCache::<f32>::new(b, t, h));
    let mut ws = LstmWorkspace::<f32>::new();
    let mut y = Array2::<f32>::zeros((b * t, d));
    let dy = Array2::<f32>::from_shape_fn((b * t, d), |(i, k)| ((i + k) as f32 * 0.001).cos() * 0.01);
    let (mut dh_seq, mut dw_out, mut db_out) = (Array2::<f32>::zeros((b * t, h)), Array2::<f32>::zeros((d, h)), Array1::<f32>::zeros(d));
    let (mut dwih_e, mut dwhh_e, mut dwih_d, mut dwhh_d) = (r2(4 * h, d), r2(4 * h, h), r2(4 * h, z), r2(4 * h, h));
    let (mut db1, mut db2) = (Array1::<f32>::zeros(4 * h), Array1::<f32>::zeros(4 * h));
    let mut dz = Array2::<f32>::zeros((b, z));
    let mut step = || {
        lstm_forward(x.view(), None, enc_wih.view(), enc_whh.view(), bias.view(), bias.view(), None, None, enc.out());
        lstm_forward(zs.view(), None, dec_wih.view(), dec_whh.view(), bias.view(), bias.view(), None, None, dec.out());
        let hs = dec.h_seq.view().into_shape_with_order((b * t, h)).unwrap();
        linear_forward(hs, w_out.view(), b_out.view(), y.view_mut());
        linear_backward(hs, w_out.view(), dy.view(), Some(dh_seq.view_mut()), dw_out.view_mut(), db_out.view_mut());
        let dhs = dh_seq.view().into_shape_with_order((b, t, h)).unwrap();
        let grads = LstmGrads {
            dx: None,
            dx_sum: Some(dz.view_mut()),
            dh0: None,
            dc0: None,
            dw_ih: dwih_d.view_mut(),
            dw_hh: dwhh_d.view_mut(),
            db_ih: db1.view_mut(),
            db_hh: db2.view_mut(),
        };
        let fwd = LstmFwd { h_seq: dec.h_seq.view(), c_seq: dec.c_seq.view(), gates: dec.gates.view() };
        lstm_backward(zs.view(), None, dec_wih.view(), dec_whh.view(), None, None, fwd, Some(dhs), None, None, grads, &mut ws);
        let grads = LstmGrads {
            dx: None,
            dx_sum: None,
            dh0: None,
            dc0: None,
            dw_ih: dwih_e.view_mut(),
            dw_hh: dwhh_e.view_mut(),
            db_ih: db1.view_mut(),
            db_hh: db2.view_mut(),
        };
        let fwd = LstmFwd { h_seq: enc.h_seq.view(), c_seq: enc.c_seq.view(), gates: enc.gates.view() };
        lstm_backward(x.view(), None, enc_wih.view(), enc_whh.view(), None, None, fwd, None, Some(dh_last.view()), None, grads, &mut ws);
    };
    let before = isa();
    println!("L training step's kernels (B128 T128 D16 H256 Z32): 2 LSTMs forward + backward, output layer; medians of {repeats}");
    for i in Isa::ALL.into_iter().filter(|i| i.available()) {
        crate::gemm::set_isa(i).unwrap();
        for threads in [1usize, 2] {
            set_threads(threads);
            let peak = peak_gflops(i, threads, 3);
            step();
            let mut runs = vec![];
            for _ in 0..repeats {
                prof::start();
                let t0 = Instant::now();
                step();
                let secs = t0.elapsed().as_secs_f64();
                runs.push((secs, prof::stop()));
            }
            runs.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
            let (total, log) = &runs[runs.len() / 2];
            println!("\n{} kernel, {threads} thread(s): {:.0} ms per step, peak loop {:.1} GFLOP/s", i.name(), total * 1e3, peak);
            println!("{:<44}{:>7}{:>10}{:>8}{:>10}{:>8}", "product (op(A)[m×k]·op(B)[k×n])", "calls", "ms", "share", "GFLOP/s", "%peak");
            let mut log = log.clone();
            log.sort_by(|a, b| b.secs.partial_cmp(&a.secs).unwrap());
            for e in &log {
                let (a, bt, pk) = (if e.ta { "Aᵀ" } else { "A" }, if e.tb { "Bᵀ" } else { "B" }, if e.packed { " packed B" } else { "" });
                let name = format!("{a}·{bt} [{}×{}×{}]{pk}", e.m, e.n, e.k);
                // a packed GEMM is called on each thread (its rows' share) at every step: its time
                // is summed over the threads, so its wall time is that over the threads
                let wall = if e.packed { e.secs / threads as f64 } else { e.secs };
                let gf = e.flops() / wall / 1e9;
                println!(
                    "{:<44}{:>7}{:>10.1}{:>7.1}%{:>10.1}{:>7.0}%",
                    name,
                    e.calls,
                    wall * 1e3,
                    100.0 * wall / total,
                    gf,
                    100.0 * gf / peak
                );
            }
            let gemm_wall: f64 = log.iter().map(|e| if e.packed { e.secs / threads as f64 } else { e.secs }).sum();
            println!(
                "{:<44}{:>7}{:>10.1}{:>7.1}%",
                "not GEMM (activations, cells, sums, copies)",
                "",
                (total - gemm_wall) * 1e3,
                100.0 * (total - gemm_wall) / total
            );
        }
    }
    crate::gemm::set_isa(before).unwrap();
    set_threads(0);
}
