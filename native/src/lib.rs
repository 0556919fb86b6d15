//! Node-API bindings of the kernels (the native backend): the functions of
//! `crate/src/bindings.rs` under the same names, so the TypeScript `Glue` type fits this module
//! as it fits the WebAssembly builds. Each wrapper converts JavaScript numbers and calls the
//! binding, which reads its addresses as offsets into the arena (`arena.rs`).
//!
//! Numbers: sizes and addresses arrive as integers (i64, never negative: the TypeScript wrapper
//! checks every shape before it calls), f32 arguments as doubles rounded to f32 as wasm-bindgen does.

mod arena;

use lstm_vae_kernels::bindings as abi;
use napi::bindgen_prelude::{Error, Result, Status, ToNapiValue};
use napi::sys;
use napi_derive::napi;
use std::sync::OnceLock;

/// Must equal `NATIVE_ABI` in src/backend/native.ts: bump it whenever a signature changes.
const ABI_VERSION: u32 = 1;

#[napi(js_name = "abi_version")]
pub fn abi_version() -> u32 {
    ABI_VERSION
}

// ---------------------------------------------------------------------------------------------
// Memory

static ARENA: OnceLock<std::result::Result<arena::Arena, String>> = OnceLock::new();

fn arena() -> Result<&'static arena::Arena> {
    let a = ARENA.get_or_init(|| {
        let a = arena::Arena::reserve()?;
        abi::set_address_base(a.base() as usize);
        Ok(a)
    });
    a.as_ref().map_err(|e| Error::new(Status::GenericFailure, e.clone()))
}

/// The whole arena as one ArrayBuffer (no copy: an external buffer over the reserved range).
pub struct ArenaBuffer(&'static arena::Arena);

impl ToNapiValue for ArenaBuffer {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut out = std::ptr::null_mut();
        let status = sys::napi_create_external_arraybuffer(env, val.0.base().cast(), val.0.size(), None, std::ptr::null_mut(), &mut out);
        if status != sys::Status::napi_ok {
            // e.g. runtimes that refuse external buffers (a copy would defeat the design)
            return Err(Error::new(Status::GenericFailure, format!("this runtime refused an external ArrayBuffer (napi status {status})")));
        }
        Ok(out)
    }
}

/// The arena as an ArrayBuffer: call once per JavaScript realm and keep it (V8 refuses two
/// buffers over the same memory in one isolate).
#[napi(js_name = "arena_buffer")]
pub fn arena_buffer() -> Result<ArenaBuffer> {
    Ok(ArenaBuffer(arena()?))
}

/// Bytes of the arena in use by the allocator so far (grows, never shrinks).
#[napi(js_name = "arena_used")]
pub fn arena_used() -> Result<f64> {
    Ok(arena()?.used() as f64)
}

static USERS: std::sync::Mutex<usize> = std::sync::Mutex::new(0);

/// A backend (one per JavaScript realm that loads this module) starts using the arena.
#[napi(js_name = "arena_acquire")]
pub fn arena_acquire() -> Result<()> {
    arena()?;
    *USERS.lock().unwrap() += 1;
    Ok(())
}

/// A backend is disposed: when none is left, every buffer is forgotten and the pages are given
/// back (as dropping a WebAssembly instance does), so a later backend starts with empty memory.
#[napi(js_name = "arena_release")]
pub fn arena_release() -> Result<()> {
    let a = arena()?;
    let mut users = USERS.lock().unwrap();
    *users = users.saturating_sub(1);
    if *users == 0 {
        a.reset();
    }
    Ok(())
}

/// Allocates `n` zeroed f32 (16-byte aligned); returns the offset (0 for n = 0 or when out of memory).
#[napi(js_name = "alloc_f32")]
pub fn alloc_f32(n: i64) -> Result<f64> {
    let Some(bytes) = (n as usize).checked_mul(4) else { return Ok(0.0) };
    Ok(arena()?.alloc(bytes) as f64)
}

/// Frees a buffer from `alloc_f32(n)` (same n).
#[napi(js_name = "free_f32")]
pub fn free_f32(ptr: i64, n: i64) -> Result<()> {
    arena()?.free(ptr as usize, n as usize * 4);
    Ok(())
}

#[napi(js_name = "alloc_i32")]
pub fn alloc_i32(n: i64) -> Result<f64> {
    alloc_f32(n)
}

#[napi(js_name = "free_i32")]
pub fn free_i32(ptr: i64, n: i64) -> Result<()> {
    free_f32(ptr, n)
}

// ---------------------------------------------------------------------------------------------
// Build and threads

/// "native", the architecture, and the instruction-set extensions this CPU offers that the
/// kernels may choose at run time (e.g. "native,x86_64,avx2,fma,avx512f").
#[napi(js_name = "build_features")]
pub fn build_features() -> String {
    let mut f = vec!["native", std::env::consts::ARCH];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            f.push("avx2");
        }
        if std::arch::is_x86_feature_detected!("fma") {
            f.push("fma");
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            f.push("avx512f");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            f.push("neon");
        }
    }
    f.join(",")
}

/// The GEMM micro-kernel the kernels use on this CPU and why (e.g. "avx2: the CPU has AVX2 and
/// FMA, not AVX-512F"; `LSTM_VAE_ISA=avx512|avx2|portable` forces one).
#[napi(js_name = "gemm_isa")]
pub fn gemm_isa() -> String {
    let isa = lstm_vae_kernels::gemm::isa();
    format!("{}: {}", isa.name(), lstm_vae_kernels::gemm::isa_reason())
}

static POOL: OnceLock<std::result::Result<usize, String>> = OnceLock::new();

/// Starts rayon's global pool (once per process: the calling thread is thread 0, as in the wasm
/// builds, so small kernels run without a hand-off) and lets the kernels use `n` threads.
/// Returns the pool's size; asking for more threads later splits the work into `n` tasks all
/// the same (results do not depend on the count), run by the pool's threads.
#[napi(js_name = "pool_prepare")]
pub fn pool_prepare(n: i64) -> Result<f64> {
    let n = (n as usize).max(1);
    let pool = POOL.get_or_init(|| {
        // at least 2: a pool made only of the calling thread would never run work sent to it by
        // another thread (a Node worker_thread calling the kernels)
        let size = n.max(2);
        rayon::ThreadPoolBuilder::new()
            .num_threads(size)
            .use_current_thread()
            .thread_name(|i| format!("lstm-vae-{i}"))
            .build_global()
            .map(|_| size)
            .map_err(|e| format!("thread pool: {e}"))
    });
    let size = pool.as_ref().map_err(|e| Error::new(Status::GenericFailure, e.clone()))?;
    lstm_vae_kernels::par::set_threads(n);
    Ok(*size as f64)
}

/// Threads the kernels may use (1 to the pool size).
#[napi(js_name = "set_threads")]
pub fn set_threads(n: i64) {
    lstm_vae_kernels::par::set_threads((n as usize).max(1));
}

#[napi(js_name = "threads")]
pub fn threads() -> f64 {
    lstm_vae_kernels::par::threads() as f64
}

/// Parallel regions the kernels entered since the last call (and resets the count).
#[napi(js_name = "take_parallel_regions")]
pub fn take_parallel_regions() -> f64 {
    lstm_vae_kernels::par::take_parallel_regions() as f64
}

// ---------------------------------------------------------------------------------------------
// Kernels (see crate/src/bindings.rs for what each computes): one wrapper each, under the binding's
// name, taking JavaScript's numbers (sizes and addresses as i64, f32 as f64) and converting each
// argument to the type the binding takes (`Abi`).

/// A JavaScript-side argument converted to the binding's type.
trait Abi<T> {
    fn abi(self) -> T;
}
impl Abi<usize> for i64 {
    #[inline(always)]
    fn abi(self) -> usize {
        self as usize
    }
}
impl Abi<f32> for f64 {
    #[inline(always)]
    fn abi(self) -> f32 {
        self as f32
    }
}
impl<T> Abi<T> for T {
    #[inline(always)]
    fn abi(self) -> T {
        self
    }
}

macro_rules! kernels {
    ($($js:tt $name:ident($($arg:ident: $ty:ident),*) $(-> $ret:ident)?;)*) => {$(
        #[napi(js_name = $js)]
        #[allow(clippy::too_many_arguments)]
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            abi::$name($(Abi::abi($arg)),*)
        }
    )*};
}

#[rustfmt::skip]
kernels! {
    "sgemm" sgemm(ta: bool, tb: bool, m: i64, n: i64, k: i64, alpha: f64, a: i64, lda: i64, b: i64, ldb: i64, beta: f64, c: i64, ldc: i64);
    "lstm_forward" lstm_forward(b: i64, t: i64, i: i64, h: i64, x: i64, lengths: i64, w_ih: i64, w_hh: i64, b_ih: i64, b_hh: i64, h0: i64, c0: i64, h_seq: i64, c_seq: i64, gates: i64, h_last: i64, c_last: i64);
    "lstm_backward" lstm_backward(b: i64, t: i64, i: i64, h: i64, x: i64, lengths: i64, w_ih: i64, w_hh: i64, h0: i64, c0: i64, h_seq: i64, c_seq: i64, gates: i64, dh_seq: i64, dh_last: i64, dc_last: i64, dx: i64, dh0: i64, dc0: i64, dw_ih: i64, dw_hh: i64, db_ih: i64, db_hh: i64, dx_sum: i64);
    "linear_forward" linear_forward(n: i64, i: i64, o: i64, x: i64, w: i64, bias: i64, y: i64);
    "linear_backward" linear_backward(n: i64, i: i64, o: i64, x: i64, w: i64, dy: i64, dx: i64, dw: i64, db: i64);
    "tanh_forward" tanh_forward(n: i64, x: i64, y: i64);
    "tanh_backward" tanh_backward(n: i64, y: i64, dy: i64, dx: i64);
    "embedding_forward" embedding_forward(n: i64, v: i64, e: i64, idp: i64, w: i64, out: i64);
    "embedding_backward" embedding_backward(n: i64, v: i64, e: i64, idp: i64, dout: i64, dw: i64);
    "reparameterize" reparameterize(b: i64, z: i64, mu: i64, logvar: i64, eps: i64, out: i64);
    "reparameterize_backward" reparameterize_backward(b: i64, z: i64, logvar: i64, eps: i64, dz: i64, dmu: i64, dlogvar: i64);
    "repeat_time" repeat_time(b: i64, t: i64, z: i64, zp: i64, out: i64);
    "concat_time_latent" concat_time_latent(b: i64, t: i64, e: i64, z: i64, ep: i64, zp: i64, out: i64);
    "concat_time_latent_backward" concat_time_latent_backward(b: i64, t: i64, e: i64, z: i64, dout: i64, de: i64, dz: i64);
    "gaussian_kl" gaussian_kl(b: i64, z: i64, mu: i64, logvar: i64, free_bits: f64, scale: f64, dmu: i64, dlogvar: i64) -> f64;
    "gaussian_kl_per_sequence" gaussian_kl_per_sequence(b: i64, z: i64, mu: i64, logvar: i64, out: i64);
    "mse_recon" mse_recon(b: i64, t: i64, d: i64, x: i64, y: i64, lengths: i64, scale: f64, dy: i64) -> f64;
    "mse_per_sequence" mse_per_sequence(b: i64, t: i64, d: i64, x: i64, y: i64, lengths: i64, out: i64);
    "softmax_xent" softmax_xent(b: i64, t: i64, v: i64, logits: i64, targets: i64, lengths: i64, scale: f64, dlogits: i64) -> f64;
    "xent_per_sequence" xent_per_sequence(b: i64, t: i64, v: i64, logits: i64, targets: i64, lengths: i64, out: i64);
    "copy_strided" copy_strided(rows: i64, cols: i64, src: i64, src_stride: i64, dst: i64, dst_stride: i64);
    "add_inplace" add_inplace(n: i64, dst: i64, src: i64);
    "sgd_step" sgd_step(n: i64, p: i64, g: i64, buf: i64, lr: f64, momentum: f64, dampening: f64, nesterov: bool, weight_decay: f64, first_step: bool);
    "rmsprop_step" rmsprop_step(n: i64, p: i64, g: i64, square_avg: i64, lr: f64, alpha: f64, eps: f64, weight_decay: f64, momentum: f64, momentum_buf: i64);
    "adam_step" adam_step(n: i64, p: i64, g: i64, m: i64, v: i64, step: u32, lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, decoupled: bool);
    "global_norm" global_norm(n: i64, g: i64) -> f64;
    "scale_inplace" scale_inplace(n: i64, g: i64, factor: f64);
    "ema_update" ema_update(n: i64, avg: i64, p: i64, decay: f64);
    "all_finite" all_finite(n: i64, p: i64) -> bool;
}
