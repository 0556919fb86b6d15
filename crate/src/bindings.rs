//! The one file that exposes the kernels to JavaScript (wasm32 only).
//!
//! Buffers live in WebAssembly memory: JavaScript allocates them with `alloc_f32`, fills them
//! through a `Float32Array` view, and passes their addresses here. The TypeScript wrapper checks
//! every shape and length before it calls in, so the checks below (asserts) only guard against
//! bugs in that wrapper; a failed assert aborts this call with a trap and never writes out of bounds.

use crate::gemm::{gemm, Gemm};
use wasm_bindgen::prelude::*;

// ---------------------------------------------------------------------------------------------
// Memory

const ALIGN: usize = 16;

/// Allocates `n` zeroed f32 (16-byte aligned); returns the byte address (0 for n = 0).
#[wasm_bindgen]
pub fn alloc_f32(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let layout = std::alloc::Layout::from_size_align(n * 4, ALIGN).expect("layout");
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    if p.is_null() {
        return 0;
    }
    p as usize
}

/// Frees a buffer from `alloc_f32(n)` (same n).
#[wasm_bindgen]
pub fn free_f32(ptr: usize, n: usize) {
    if ptr == 0 || n == 0 {
        return;
    }
    let layout = std::alloc::Layout::from_size_align(n * 4, ALIGN).expect("layout");
    unsafe { std::alloc::dealloc(ptr as *mut u8, layout) };
}

/// Allocates `n` zeroed i32.
#[wasm_bindgen]
pub fn alloc_i32(n: usize) -> usize {
    alloc_f32(n)
}

/// Frees a buffer from `alloc_i32(n)`.
#[wasm_bindgen]
pub fn free_i32(ptr: usize, n: usize) {
    free_f32(ptr, n)
}

unsafe fn sl<'a>(ptr: usize, n: usize) -> &'a [f32] {
    if n == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr as *const f32, n)
    }
}

unsafe fn sl_mut<'a>(ptr: usize, n: usize) -> &'a mut [f32] {
    if n == 0 {
        &mut []
    } else {
        std::slice::from_raw_parts_mut(ptr as *mut f32, n)
    }
}

// ---------------------------------------------------------------------------------------------
// Build and threads

/// Which target features this module was compiled with.
#[wasm_bindgen]
pub fn build_features() -> String {
    let mut f = vec![];
    if cfg!(target_feature = "simd128") {
        f.push("simd128");
    }
    if cfg!(target_feature = "relaxed-simd") {
        f.push("relaxed-simd");
    }
    if cfg!(target_feature = "atomics") {
        f.push("atomics");
    }
    f.join(",")
}

#[cfg(target_feature = "atomics")]
mod pool {
    use std::sync::{Condvar, Mutex};
    pub static PENDING: Mutex<Vec<rayon::ThreadBuilder>> = Mutex::new(Vec::new());
    pub static READY: Condvar = Condvar::new();
}

/// Builds the global rayon pool with `n` threads: the calling thread is thread 0 and threads
/// 1..n are Workers that have already instantiated this module over the same memory and are
/// waiting in `pool_worker_run` (start them first: building the pool waits until every thread
/// has started). Returns the number of Worker threads the pool took.
#[wasm_bindgen]
pub fn pool_prepare(n: usize) -> Result<usize, JsError> {
    #[cfg(target_feature = "atomics")]
    {
        let n = n.max(1);
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .use_current_thread()
            .spawn_handler(|tb| {
                pool::PENDING.lock().unwrap().push(tb);
                pool::READY.notify_all();
                Ok(())
            })
            .build_global()
            .map_err(|e| JsError::new(&format!("thread pool: {e}")))?;
        crate::par::set_threads(n);
        Ok(n - 1)
    }
    #[cfg(not(target_feature = "atomics"))]
    {
        let _ = n;
        Ok(0)
    }
}

/// Runs one pool thread (called in a Worker): waits until `pool_prepare` hands it a thread of
/// the pool, then runs it (returns only when the pool ends).
#[wasm_bindgen]
pub fn pool_worker_run() {
    #[cfg(target_feature = "atomics")]
    {
        let mut pending = pool::PENDING.lock().unwrap();
        let tb = loop {
            if let Some(tb) = pending.pop() {
                break tb;
            }
            pending = pool::READY.wait(pending).unwrap();
        };
        drop(pending);
        tb.run();
    }
}

/// Threads the kernels may use (1 to the pool size).
#[wasm_bindgen]
pub fn set_threads(n: usize) {
    crate::par::set_threads(n.max(1));
}

#[wasm_bindgen]
pub fn threads() -> usize {
    crate::par::threads()
}

// ---------------------------------------------------------------------------------------------
// Kernels

/// `C[m,n] = alpha·op(A)·op(B) + beta·C` on buffers in this memory (see `gemm`).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn sgemm(ta: bool, tb: bool, m: usize, n: usize, k: usize, alpha: f32, a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize, ldc: usize) {
    let g = Gemm { ta, tb, m, n, k, lda, ldb, ldc };
    unsafe { gemm(g, alpha, sl(a, g.a_len()), sl(b, g.b_len()), beta, sl_mut(c, g.c_len())) }
}

/// The register-only multiply-add loop (benchmarks): returns flops done; `sink` keeps the result alive.
#[wasm_bindgen]
pub fn peak_loop(iters: u32, seed: f32) -> f64 {
    let (r, flops) = crate::peak::peak_loop(iters, seed);
    if r == 12345.678 {
        return -1.0;
    }
    flops as f64
}

/// Runs `peak_loop` on every pool thread at once (threads = pool size); returns total flops.
#[wasm_bindgen]
pub fn peak_loop_parallel(iters: u32, tasks: usize) -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    let total = AtomicU64::new(0);
    crate::par::for_each_task(tasks, |t| {
        let (r, flops) = crate::peak::peak_loop(iters, t as f32 * 1e-3);
        if r != 12345.678 {
            total.fetch_add(flops, Ordering::Relaxed);
        }
    });
    total.load(Ordering::Relaxed) as f64
}
