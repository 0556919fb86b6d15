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
