//! Time and count of every GEMM call while enabled, by shape (benchmarks only, feature `bench`):
//! the time share of each product in a training step. Off by default; one relaxed atomic load per
//! call when off. Times are per call on the calling thread (wall time of the whole product for
//! `gemm`, which splits between threads itself; a `gemm_packed_st` share on each thread).

use super::args::Gemm;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static ON: AtomicBool = AtomicBool::new(false);
static LOG: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The calls of one shape: `op(A)[m, k] · op(B)[k, n]`, `packed` for a pre-packed B.
#[derive(Clone, Debug)]
pub struct Entry {
    pub ta: bool,
    pub tb: bool,
    pub packed: bool,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub calls: u64,
    pub secs: f64,
}

impl Entry {
    /// Floating-point operations of all the calls (2 per multiply-add).
    pub fn flops(&self) -> f64 {
        2.0 * (self.m * self.n * self.k) as f64 * self.calls as f64
    }
}

/// Clears the log and starts recording.
pub fn start() {
    LOG.lock().unwrap_or_else(|e| e.into_inner()).clear();
    ON.store(true, Ordering::Relaxed);
}

/// Stops recording and returns the log.
pub fn stop() -> Vec<Entry> {
    ON.store(false, Ordering::Relaxed);
    std::mem::take(&mut *LOG.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Records the call's time when dropped (None when off).
pub(super) struct Scope {
    g: Gemm,
    packed: bool,
    t0: Instant,
}

pub(super) fn scope(g: &Gemm, packed: bool) -> Option<Scope> {
    ON.load(Ordering::Relaxed).then(|| Scope { g: *g, packed, t0: Instant::now() })
}

impl Drop for Scope {
    fn drop(&mut self) {
        let secs = self.t0.elapsed().as_secs_f64();
        let g = self.g;
        let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
        match log.iter_mut().find(|e| (e.ta, e.tb, e.packed, e.m, e.n, e.k) == (g.ta, g.tb, self.packed, g.m, g.n, g.k)) {
            Some(e) => {
                e.calls += 1;
                e.secs += secs;
            }
            None => log.push(Entry { ta: g.ta, tb: g.tb, packed: self.packed, m: g.m, n: g.n, k: g.k, calls: 1, secs }),
        }
    }
}
