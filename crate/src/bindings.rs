//! The one file that exposes the kernels to JavaScript: the wasm32 builds export it with
//! wasm-bindgen; the native Node backend (`native/`, feature `native-abi`) calls these same
//! functions from its Node-API wrappers.
//!
//! Buffers live in WebAssembly memory (natively: in one arena): JavaScript allocates them with
//! `alloc_f32`, fills them through a `Float32Array` view, and passes their addresses here. The TypeScript wrapper checks
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

// Addresses: in wasm32, byte addresses in the module's memory; natively, byte offsets into the
// arena of native/ (its start set once with `set_address_base`). 0 means "none" in both.

#[cfg(target_arch = "wasm32")]
#[inline(always)]
fn at(p: usize) -> usize {
    p
}

#[cfg(not(target_arch = "wasm32"))]
static ADDRESS_BASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Native only: where offset 0 of the addresses passed to this module lies in the process.
#[cfg(not(target_arch = "wasm32"))]
pub fn set_address_base(base: usize) {
    ADDRESS_BASE.store(base, std::sync::atomic::Ordering::Relaxed);
}

#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn at(p: usize) -> usize {
    ADDRESS_BASE.load(std::sync::atomic::Ordering::Relaxed) + p
}

unsafe fn sl<'a>(ptr: usize, n: usize) -> &'a [f32] {
    if n == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(at(ptr) as *const f32, n)
    }
}

unsafe fn sl_mut<'a>(ptr: usize, n: usize) -> &'a mut [f32] {
    if n == 0 {
        &mut []
    } else {
        std::slice::from_raw_parts_mut(at(ptr) as *mut f32, n)
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
pub fn sgemm(
    ta: bool, tb: bool, m: usize, n: usize, k: usize, alpha: f32, a: usize, lda: usize, b: usize, ldb: usize, beta: f32, c: usize,
    ldc: usize,
) {
    let g = Gemm { ta, tb, m, n, k, lda, ldb, ldc };
    unsafe { gemm(g, alpha, sl(a, g.a_len()), sl(b, g.b_len()), beta, sl_mut(c, g.c_len())) }
}

/// Parallel regions the kernels entered since the last call (and resets the count): tests use it to
/// check that large problems are split between threads.
#[wasm_bindgen]
pub fn take_parallel_regions() -> usize {
    crate::par::take_parallel_regions()
}

#[cfg(feature = "bench")]
/// The register-only multiply-add loop (benchmarks): returns flops done; `sink` keeps the result alive.
#[wasm_bindgen]
pub fn peak_loop(iters: u32, seed: f32) -> f64 {
    let (r, flops) = crate::peak::peak_loop(iters, seed);
    if r == 12345.678 {
        return -1.0;
    }
    flops as f64
}

#[cfg(feature = "bench")]
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

// ---------------------------------------------------------------------------------------------
// Views over buffers in this memory. Address 0 means "absent" for optional arguments; an empty
// array gets a dangling (aligned, never dereferenced) pointer.

use crate::{lstm, nn, optim};
use ndarray::{ArrayView1, ArrayView2, ArrayView3, ArrayViewMut1, ArrayViewMut2, ArrayViewMut3};
use std::cell::RefCell;

fn pp<T>(p: usize) -> *mut T {
    if p == 0 {
        std::ptr::NonNull::<T>::dangling().as_ptr()
    } else {
        at(p) as *mut T
    }
}
unsafe fn v1<'a>(p: usize, n: usize) -> ArrayView1<'a, f32> {
    ArrayView1::from_shape_ptr(n, pp::<f32>(p))
}
unsafe fn v2<'a>(p: usize, r: usize, c: usize) -> ArrayView2<'a, f32> {
    ArrayView2::from_shape_ptr((r, c), pp::<f32>(p))
}
unsafe fn v3<'a>(p: usize, a: usize, b: usize, c: usize) -> ArrayView3<'a, f32> {
    ArrayView3::from_shape_ptr((a, b, c), pp::<f32>(p))
}
unsafe fn m1<'a>(p: usize, n: usize) -> ArrayViewMut1<'a, f32> {
    ArrayViewMut1::from_shape_ptr(n, pp::<f32>(p))
}
unsafe fn m2<'a>(p: usize, r: usize, c: usize) -> ArrayViewMut2<'a, f32> {
    ArrayViewMut2::from_shape_ptr((r, c), pp::<f32>(p))
}
unsafe fn m3<'a>(p: usize, a: usize, b: usize, c: usize) -> ArrayViewMut3<'a, f32> {
    ArrayViewMut3::from_shape_ptr((a, b, c), pp::<f32>(p))
}
unsafe fn o2<'a>(p: usize, r: usize, c: usize) -> Option<ArrayView2<'a, f32>> {
    (p != 0).then(|| v2(p, r, c))
}
unsafe fn o3<'a>(p: usize, a: usize, b: usize, c: usize) -> Option<ArrayView3<'a, f32>> {
    (p != 0).then(|| v3(p, a, b, c))
}
unsafe fn om2<'a>(p: usize, r: usize, c: usize) -> Option<ArrayViewMut2<'a, f32>> {
    (p != 0).then(|| m2(p, r, c))
}
unsafe fn om3<'a>(p: usize, a: usize, b: usize, c: usize) -> Option<ArrayViewMut3<'a, f32>> {
    (p != 0).then(|| m3(p, a, b, c))
}
unsafe fn lens<'a>(p: usize, b: usize) -> Option<&'a [u32]> {
    (p != 0).then(|| std::slice::from_raw_parts(at(p) as *const u32, b))
}
unsafe fn ids<'a>(p: usize, n: usize) -> &'a [i32] {
    if n == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(at(p) as *const i32, n)
    }
}

thread_local! {
    static LSTM_WS: RefCell<lstm::LstmWorkspace<f32>> = RefCell::new(lstm::LstmWorkspace::new());
}

/// One LSTM layer forward (see `lstm::lstm_forward`). x `[b,t,i]`, lengths `[b]` u32 or 0,
/// w_ih `[4h,i]`, w_hh `[4h,h]`, b_ih/b_hh `[4h]`, h0/c0 `[b,h]` or 0; outputs h_seq/c_seq `[b,t,h]`,
/// gates `[b,t,4h]`, h_last/c_last `[b,h]` or 0.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn lstm_forward(
    b: usize, t: usize, i: usize, h: usize, x: usize, lengths: usize, w_ih: usize, w_hh: usize, b_ih: usize, b_hh: usize, h0: usize,
    c0: usize, h_seq: usize, c_seq: usize, gates: usize, h_last: usize, c_last: usize,
) {
    unsafe {
        lstm::lstm_forward(
            v3(x, b, t, i),
            lens(lengths, b),
            v2(w_ih, 4 * h, i),
            v2(w_hh, 4 * h, h),
            v1(b_ih, 4 * h),
            v1(b_hh, 4 * h),
            o2(h0, b, h),
            o2(c0, b, h),
            lstm::LstmOut {
                h_seq: m3(h_seq, b, t, h),
                c_seq: m3(c_seq, b, t, h),
                gates: m3(gates, b, t, 4 * h),
                h_last: om2(h_last, b, h),
                c_last: om2(c_last, b, h),
            },
        )
    }
}

/// One LSTM layer backward (see `lstm::lstm_backward`); gradients overwritten; optional ones 0.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn lstm_backward(
    b: usize, t: usize, i: usize, h: usize, x: usize, lengths: usize, w_ih: usize, w_hh: usize, h0: usize, c0: usize, h_seq: usize,
    c_seq: usize, gates: usize, dh_seq: usize, dh_last: usize, dc_last: usize, dx: usize, dh0: usize, dc0: usize, dw_ih: usize,
    dw_hh: usize, db_ih: usize, db_hh: usize, dx_sum: usize,
) {
    LSTM_WS.with(|ws| unsafe {
        lstm::lstm_backward(
            v3(x, b, t, i),
            lens(lengths, b),
            v2(w_ih, 4 * h, i),
            v2(w_hh, 4 * h, h),
            o2(h0, b, h),
            o2(c0, b, h),
            lstm::LstmFwd { h_seq: v3(h_seq, b, t, h), c_seq: v3(c_seq, b, t, h), gates: v3(gates, b, t, 4 * h) },
            o3(dh_seq, b, t, h),
            o2(dh_last, b, h),
            o2(dc_last, b, h),
            lstm::LstmGrads {
                dx: om3(dx, b, t, i),
                dx_sum: om2(dx_sum, b, i),
                dh0: om2(dh0, b, h),
                dc0: om2(dc0, b, h),
                dw_ih: m2(dw_ih, 4 * h, i),
                dw_hh: m2(dw_hh, 4 * h, h),
                db_ih: m1(db_ih, 4 * h),
                db_hh: m1(db_hh, 4 * h),
            },
            &mut ws.borrow_mut(),
        )
    })
}

/// y `[n,o]` = x `[n,i]` · wᵀ `[o,i]` + b `[o]`.
#[wasm_bindgen]
pub fn linear_forward(n: usize, i: usize, o: usize, x: usize, w: usize, bias: usize, y: usize) {
    unsafe { nn::linear_forward(v2(x, n, i), v2(w, o, i), v1(bias, o), m2(y, n, o)) }
}

/// dw `[o,i]`, db `[o]`, dx `[n,i]` (or 0) from dy `[n,o]`; overwritten.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn linear_backward(n: usize, i: usize, o: usize, x: usize, w: usize, dy: usize, dx: usize, dw: usize, db: usize) {
    unsafe { nn::linear_backward(v2(x, n, i), v2(w, o, i), v2(dy, n, o), om2(dx, n, i), m2(dw, o, i), m1(db, o)) }
}

#[wasm_bindgen]
pub fn tanh_forward(n: usize, x: usize, y: usize) {
    unsafe { nn::tanh_forward(sl(x, n), sl_mut(y, n)) }
}

#[wasm_bindgen]
pub fn tanh_backward(n: usize, y: usize, dy: usize, dx: usize) {
    unsafe { nn::tanh_backward(sl(y, n), sl(dy, n), sl_mut(dx, n)) }
}

/// out `[n,e]` = w `[v,e]` rows at ids `[n]` (i32, checked by the caller to be in 0..v).
#[wasm_bindgen]
pub fn embedding_forward(n: usize, v: usize, e: usize, idp: usize, w: usize, out: usize) {
    unsafe { nn::embedding_forward(ids(idp, n), v2(w, v, e), m2(out, n, e)) }
}

/// dw `[v,e]` += scatter of dout `[n,e]` at ids.
#[wasm_bindgen]
pub fn embedding_backward(n: usize, v: usize, e: usize, idp: usize, dout: usize, dw: usize) {
    unsafe { nn::embedding_backward(ids(idp, n), v2(dout, n, e), m2(dw, v, e)) }
}

#[wasm_bindgen]
pub fn reparameterize(b: usize, z: usize, mu: usize, logvar: usize, eps: usize, out: usize) {
    unsafe { nn::reparameterize(v2(mu, b, z), v2(logvar, b, z), v2(eps, b, z), m2(out, b, z)) }
}

#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn reparameterize_backward(b: usize, z: usize, logvar: usize, eps: usize, dz: usize, dmu: usize, dlogvar: usize) {
    unsafe { nn::reparameterize_backward(v2(logvar, b, z), v2(eps, b, z), v2(dz, b, z), m2(dmu, b, z), m2(dlogvar, b, z)) }
}

#[wasm_bindgen]
pub fn repeat_time(b: usize, t: usize, z: usize, zp: usize, out: usize) {
    unsafe { nn::repeat_time(v2(zp, b, z), m3(out, b, t, z)) }
}

#[wasm_bindgen]
pub fn concat_time_latent(b: usize, t: usize, e: usize, z: usize, ep: usize, zp: usize, out: usize) {
    unsafe { nn::concat_time_latent(v3(ep, b, t, e), v2(zp, b, z), m3(out, b, t, e + z)) }
}

#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn concat_time_latent_backward(b: usize, t: usize, e: usize, z: usize, dout: usize, de: usize, dz: usize) {
    unsafe { nn::concat_time_latent_backward(v3(dout, b, t, e + z), om3(de, b, t, e), m2(dz, b, z)) }
}

/// KL (mean over the batch); adds scale·gradients into dmu/dlogvar when given (non-zero).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn gaussian_kl(b: usize, z: usize, mu: usize, logvar: usize, free_bits: f32, scale: f32, dmu: usize, dlogvar: usize) -> f64 {
    unsafe { nn::gaussian_kl(v2(mu, b, z), v2(logvar, b, z), free_bits, scale, om2(dmu, b, z), om2(dlogvar, b, z)) }
}

/// Per-sequence KL `[b]` (written as f32).
#[wasm_bindgen]
pub fn gaussian_kl_per_sequence(b: usize, z: usize, mu: usize, logvar: usize, out: usize) {
    let mut o = vec![0f64; b];
    unsafe {
        nn::gaussian_kl_per_sequence(v2(mu, b, z), v2(logvar, b, z), &mut o);
        for (d, s) in sl_mut(out, b).iter_mut().zip(&o) {
            *d = *s as f32;
        }
    }
}

/// Squared-error reconstruction (mean over the batch); dy overwritten with scale·gradient when given.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn mse_recon(b: usize, t: usize, d: usize, x: usize, y: usize, lengths: usize, scale: f32, dy: usize) -> f64 {
    unsafe { nn::mse_recon(v3(x, b, t, d), v3(y, b, t, d), lens(lengths, b), scale, om3(dy, b, t, d)) }
}

/// Per-sequence squared error `[b]` (written as f32).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn mse_per_sequence(b: usize, t: usize, d: usize, x: usize, y: usize, lengths: usize, out: usize) {
    let mut o = vec![0f64; b];
    unsafe {
        nn::mse_per_sequence(v3(x, b, t, d), v3(y, b, t, d), lens(lengths, b), &mut o);
        for (dst, s) in sl_mut(out, b).iter_mut().zip(&o) {
            *dst = *s as f32;
        }
    }
}

/// Masked softmax cross-entropy (mean over the batch); dlogits overwritten when given.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn softmax_xent(b: usize, t: usize, v: usize, logits: usize, targets: usize, lengths: usize, scale: f32, dlogits: usize) -> f64 {
    unsafe {
        let tg = ndarray::ArrayView2::from_shape_ptr((b, t), pp::<i32>(targets));
        nn::softmax_xent(v3(logits, b, t, v), tg, lens(lengths, b), scale, om3(dlogits, b, t, v))
    }
}

/// Per-sequence softmax cross-entropy `[b]` (written as f32).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn xent_per_sequence(b: usize, t: usize, v: usize, logits: usize, targets: usize, lengths: usize, out: usize) {
    let mut o = vec![0f64; b];
    unsafe {
        let tg = ndarray::ArrayView2::from_shape_ptr((b, t), pp::<i32>(targets));
        nn::xent_per_sequence(v3(logits, b, t, v), tg, lens(lengths, b), &mut o);
        for (dst, s) in sl_mut(out, b).iter_mut().zip(&o) {
            *dst = *s as f32;
        }
    }
}

/// dst `[rows, cols]` (row stride dst_stride) = src `[rows, cols]` (row stride src_stride).
#[wasm_bindgen]
pub fn copy_strided(rows: usize, cols: usize, src: usize, src_stride: usize, dst: usize, dst_stride: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    unsafe {
        let s = sl(src, (rows - 1) * src_stride + cols);
        let d = sl_mut(dst, (rows - 1) * dst_stride + cols);
        for r in 0..rows {
            d[r * dst_stride..r * dst_stride + cols].copy_from_slice(&s[r * src_stride..r * src_stride + cols]);
        }
    }
}

/// dst += src (n elements).
#[wasm_bindgen]
pub fn add_inplace(n: usize, dst: usize, src: usize) {
    unsafe {
        for (d, s) in sl_mut(dst, n).iter_mut().zip(sl(src, n)) {
            *d += *s;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Optimizers (flat buffers of n parameters)

#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn sgd_step(
    n: usize, p: usize, g: usize, buf: usize, lr: f64, momentum: f64, dampening: f64, nesterov: bool, weight_decay: f64, first_step: bool,
) {
    let bn = if buf == 0 { 0 } else { n };
    unsafe { optim::sgd_step(sl_mut(p, n), sl(g, n), sl_mut(buf, bn), lr, momentum, dampening, nesterov, weight_decay, first_step) }
}

#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn rmsprop_step(
    n: usize, p: usize, g: usize, square_avg: usize, lr: f64, alpha: f64, eps: f64, weight_decay: f64, momentum: f64, momentum_buf: usize,
) {
    let bn = if momentum_buf == 0 { 0 } else { n };
    unsafe {
        optim::rmsprop_step(sl_mut(p, n), sl(g, n), sl_mut(square_avg, n), lr, alpha, eps, weight_decay, momentum, sl_mut(momentum_buf, bn))
    }
}

#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn adam_step(
    n: usize, p: usize, g: usize, m: usize, v: usize, step: u32, lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64,
    decoupled: bool,
) {
    unsafe {
        if decoupled {
            optim::adamw_step(sl_mut(p, n), sl(g, n), sl_mut(m, n), sl_mut(v, n), step as u64, lr, beta1, beta2, eps, weight_decay)
        } else {
            optim::adam_step(sl_mut(p, n), sl(g, n), sl_mut(m, n), sl_mut(v, n), step as u64, lr, beta1, beta2, eps, weight_decay)
        }
    }
}

/// Euclidean norm of n gradients (f64 accumulation, fixed order).
#[wasm_bindgen]
pub fn global_norm(n: usize, g: usize) -> f64 {
    unsafe { optim::global_norm(&[sl(g, n)]) }
}

#[wasm_bindgen]
pub fn scale_inplace(n: usize, g: usize, factor: f64) {
    unsafe { optim::scale_grads(&mut [sl_mut(g, n)], factor) }
}

/// `avg = avg + (1 − decay)·(p − avg)` over n values (the averaged weights of `fit`).
#[wasm_bindgen]
pub fn ema_update(n: usize, avg: usize, p: usize, decay: f64) {
    unsafe { optim::ema_update(sl_mut(avg, n), sl(p, n), decay) }
}

/// Whether all n values are finite.
#[wasm_bindgen]
pub fn all_finite(n: usize, p: usize) -> bool {
    unsafe { sl(p, n).iter().all(|v| v.is_finite()) }
}

#[cfg(feature = "bench")]
/// `C[m,n] = A[m,k] · B[k,n]` with ndarray's `general_mat_mul` (the matrixmultiply crate), single
/// thread — measured beside `sgemm` by the benchmarks.
#[wasm_bindgen]
pub fn sgemm_matrixmultiply(m: usize, n: usize, k: usize, a: usize, b: usize, c: usize) {
    unsafe { ndarray::linalg::general_mat_mul(1.0f32, &v2(a, m, k), &v2(b, k, n), 0.0f32, &mut m2(c, m, n)) }
}
