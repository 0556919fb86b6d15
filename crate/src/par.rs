//! Threads. On the host and in the threaded wasm builds, work is split with rayon; in the
//! single-threaded `simd` build (no `atomics`) everything runs on the calling thread.
//!
//! Every parallel split in the kernels gives each output element to exactly one task and keeps
//! its reduction order fixed, so results are bit-identical for any number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads the kernels may use. 0 means "not set": the host uses rayon's default pool, wasm
/// uses one thread until `set_threads` is called by the pool's initialisation.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Caps the threads used by the kernels (1 = serial). Set by the wasm pool initialisation and by tests.
pub fn set_threads(n: usize) {
    THREADS.store(n, Ordering::Relaxed);
}

/// How many tasks a kernel should split into.
pub fn threads() -> usize {
    let t = THREADS.load(Ordering::Relaxed);
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    {
        let _ = t;
        1
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    {
        t.max(1)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        if t == 0 {
            rayon::current_num_threads()
        } else {
            t
        }
    }
}

/// Parallel regions entered since the last `take_parallel_regions` (tests check that big
/// problems are really split).
static REGIONS: AtomicUsize = AtomicUsize::new(0);

/// Returns and resets the number of parallel regions entered.
pub fn take_parallel_regions() -> usize {
    REGIONS.swap(0, Ordering::Relaxed)
}

/// Runs `f(task)` for `task in 0..tasks`, in parallel when more than one thread is available.
pub fn for_each_task(tasks: usize, f: impl Fn(usize) + Sync + Send) {
    if tasks <= 1 || threads() <= 1 {
        for t in 0..tasks {
            f(t);
        }
        return;
    }
    REGIONS.fetch_add(1, Ordering::Relaxed);
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    {
        for t in 0..tasks {
            f(t);
        }
    }
    #[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
    {
        use rayon::prelude::*;
        (0..tasks).into_par_iter().for_each(f);
    }
}

/// A raw pointer that may cross threads. Users promise that tasks touch disjoint elements.
#[derive(Clone, Copy)]
pub struct SendPtr<T>(pub *mut T);
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}
