//! Which micro-kernel f32 GEMMs use: chosen once at run time on x86-64 (the best of AVX-512F,
//! AVX2+FMA and the portable loop that the CPU has), fixed at compile time elsewhere (wasm:
//! simd128 or relaxed-SIMD, always `Isa::Portable` here).
//!
//! `LSTM_VAE_ISA=avx512|avx2|portable` (read once, at the first GEMM) or `set_isa` force a
//! kernel, for tests and benchmarks. Results are bit-identical for any thread count within one
//! ISA; they differ between ISAs by rounding (fused multiply-add, other tile shapes do not change
//! the order of the sums).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

/// A GEMM micro-kernel family.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Isa {
    /// The build's own kernel: the portable (auto-vectorised) loops on the host, simd128 or
    /// relaxed-SIMD in the wasm builds.
    Portable = 1,
    /// x86-64 AVX2 with FMA: 6×16 tiles, fused multiply-add on 8 lanes.
    Avx2 = 2,
    /// x86-64 AVX-512F: 8×32 tiles, fused multiply-add on 16 lanes.
    Avx512 = 3,
}

impl Isa {
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// The name used by `LSTM_VAE_ISA` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    pub fn parse(s: &str) -> Option<Isa> {
        match s.trim().to_ascii_lowercase().as_str() {
            "portable" | "scalar" | "baseline" => Some(Isa::Portable),
            "avx2" | "avx2+fma" | "fma" => Some(Isa::Avx2),
            "avx512" | "avx512f" | "avx-512" => Some(Isa::Avx512),
            _ => None,
        }
    }

    /// Whether this CPU (and this build) can run the kernel.
    pub fn available(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The best kernel this CPU can run.
    pub fn best() -> Isa {
        [Isa::Avx512, Isa::Avx2].into_iter().find(|i| i.available()).unwrap_or(Isa::Portable)
    }

    fn from_u8(v: u8) -> Option<Isa> {
        Isa::ALL.into_iter().find(|i| *i as u8 == v)
    }
}

/// 0 until chosen, then `Isa as u8`.
static CURRENT: AtomicU8 = AtomicU8::new(0);
/// Why the current kernel was chosen (for reports).
static REASON: Mutex<String> = Mutex::new(String::new());

fn choose() -> Isa {
    let best = Isa::best();
    let (isa, why) = match std::env::var("LSTM_VAE_ISA") {
        Ok(v) if !v.trim().is_empty() => match Isa::parse(&v) {
            Some(i) if i.available() => (i, format!("LSTM_VAE_ISA={v}")),
            Some(_) => (best, format!("LSTM_VAE_ISA={v} is not supported by this CPU or build; {}", detected(best))),
            None => (best, format!("LSTM_VAE_ISA={v} is not one of avx512, avx2, portable; {}", detected(best))),
        },
        _ => (best, detected(best)),
    };
    *REASON.lock().unwrap_or_else(|e| e.into_inner()) = why;
    isa
}

fn detected(best: Isa) -> String {
    match best {
        Isa::Avx512 => "the CPU has AVX-512F".into(),
        Isa::Avx2 => "the CPU has AVX2 and FMA, not AVX-512F".into(),
        Isa::Portable if cfg!(target_arch = "x86_64") => "the CPU has neither AVX2+FMA nor AVX-512F".into(),
        Isa::Portable => "the kernel of this build's target features".into(),
    }
}

/// The kernel f32 GEMMs use now (chosen at the first call: `LSTM_VAE_ISA` or the best available).
pub fn isa() -> Isa {
    if let Some(i) = Isa::from_u8(CURRENT.load(Ordering::Relaxed)) {
        return i;
    }
    let i = choose();
    // a concurrent first call chose the same (same environment, same CPU)
    let _ = CURRENT.compare_exchange(0, i as u8, Ordering::Relaxed, Ordering::Relaxed);
    Isa::from_u8(CURRENT.load(Ordering::Relaxed)).unwrap_or(i)
}

/// Why `isa()` is what it is: the detection, the environment variable or `set_isa`.
pub fn isa_reason() -> String {
    let _ = isa();
    REASON.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Forces the kernel of the following GEMMs (a `PackedB` keeps the kernel it was packed for).
/// Fails, changing nothing, when this CPU or build cannot run it.
pub fn set_isa(i: Isa) -> Result<(), String> {
    if !i.available() {
        return Err(format!("the {} kernel is not supported by this CPU or build", i.name()));
    }
    let _ = isa();
    CURRENT.store(i as u8, Ordering::Relaxed);
    *REASON.lock().unwrap_or_else(|e| e.into_inner()) = format!("set to {} by set_isa", i.name());
    Ok(())
}
