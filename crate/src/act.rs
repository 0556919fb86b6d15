//! Activations: logistic sigmoid, tanh and exp, scalar and over slices.
//!
//! The `f32` versions are written without branches or library calls (clamp by select, a
//! Cody–Waite range reduction, a polynomial, `2^n` built from the exponent bits), so that LLVM
//! inlines and auto-vectorises the slice loops (simd128 in wasm) and the same arithmetic gives
//! the same bits on the host and in wasm. The `f64` versions (finite-difference tests) use std.
//!
//! Measured accuracy of the `f32` versions against an `f64` reference (see the tests), over a
//! dense sweep of `[-30, 30]` and extreme inputs:
//! - `exp`: relative error ≤ 7.8e-8 for normal results (within a subnormal step below);
//! - `sigmoid`: relative error ≤ 1.71e-7 for results ≥ `f32::MIN_POSITIVE` (within a subnormal
//!   step below);
//! - `tanh`: relative error ≤ 1.53e-7 and absolute error ≤ 8.9e-8.
//!
//! (The tests assert 2.5e-7, 3e-7 and 5e-7 / 2e-7.)
//!
//! NaN in gives NaN out; `±inf` give the limits (`sigmoid(-inf) = 0`, `sigmoid(inf) = 1`,
//! `tanh(±inf) = ±1`, `exp(-inf) = 0`, `exp(inf) = inf`).

use crate::real::Real;

/// The per-type activation functions the kernels use. Implemented for `f32` and `f64`.
pub trait Act: Real {
    /// `1 / (1 + exp(-x))`, never overflows.
    fn act_sigmoid(x: Self) -> Self;
    /// Hyperbolic tangent.
    fn act_tanh(x: Self) -> Self;
    /// `exp(x)` (overflows to `inf` above `ln(MAX)`, underflows gradually to 0).
    fn act_exp(x: Self) -> Self;

    /// `x[i] = sigmoid(x[i])` (the slice loops below; f32 on x86-64 runs them compiled for AVX2
    /// when the GEMM kernel is not the portable one: the same operations, so the same bits).
    #[inline]
    fn sigmoid_slice(x: &mut [Self]) {
        x.iter_mut().for_each(|v| *v = Self::act_sigmoid(*v));
    }
    /// `x[i] = tanh(x[i])`.
    #[inline]
    fn tanh_slice(x: &mut [Self]) {
        x.iter_mut().for_each(|v| *v = Self::act_tanh(*v));
    }
    /// `y[i] = sigmoid(x[i])` (same lengths).
    #[inline]
    fn sigmoid_into(x: &[Self], y: &mut [Self]) {
        y.iter_mut().zip(x).for_each(|(o, &v)| *o = Self::act_sigmoid(v));
    }
    /// `y[i] = tanh(x[i])` (same lengths).
    #[inline]
    fn tanh_into(x: &[Self], y: &mut [Self]) {
        y.iter_mut().zip(x).for_each(|(o, &v)| *o = Self::act_tanh(v));
    }
    /// `x[i] = exp(x[i])`.
    #[inline]
    fn exp_slice(x: &mut [Self]) {
        x.iter_mut().for_each(|v| *v = Self::act_exp(*v));
    }
}

// ---------------------------------------------------------------------------------------------
// f32: branch-free, no libm.

/// `1.5 · 2^23`: adding it rounds a float of magnitude < 2^22 to an integer (ties to even), and
/// the integer then sits in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// `ln 2` split in two: the high part has 9 significant bits, so `n · LN2_HI` is exact for |n| < 2^15.
#[allow(clippy::excessive_precision)] // exact: 355/512
const LN2_HI: f32 = 0.693_359_375;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Below this `exp` is 0 in f32 (even as a subnormal); above `EXP_HI` it is `inf`.
const EXP_LO: f32 = -104.0;
const EXP_HI: f32 = 89.0;

/// `a < b ? b : a` written as a select (keeps NaN from `a`; vectorises to a compare + select).
#[inline(always)]
fn max_sel(a: f32, b: f32) -> f32 {
    if a < b {
        b
    } else {
        a
    }
}
#[inline(always)]
fn min_sel(a: f32, b: f32) -> f32 {
    if a > b {
        b
    } else {
        a
    }
}

/// `2^e` for `-126 <= e <= 127` from the exponent bits.
#[inline(always)]
fn pow2i(e: i32) -> f32 {
    f32::from_bits((e.wrapping_add(127) << 23) as u32)
}

/// `exp(x)` in f32: relative error ~1 ulp.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    let x = min_sel(max_sel(x, EXP_LO), EXP_HI);
    // n = round(x / ln 2); r = x - n ln 2 in [-ln2/2, ln2/2] (Cody–Waite: two-step subtraction).
    let t = x * LOG2E + ROUND_MAGIC;
    let n = t - ROUND_MAGIC;
    let ni = (t.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // exp(r) = 1 + r + r^2 P(r), P a minimax fit of (exp(r) - 1 - r)/r^2 (relative error 3e-9).
    let p = 1.381_461e-3_f32;
    let p = p * r + 8.368_71e-3;
    let p = p * r + 4.166_839e-2;
    let p = p * r + 1.666_652_1e-1;
    let p = p * r + 4.999_999_4e-1;
    let e = 1.0 + (r + (r * r) * p);
    // 2^n as two factors so that n in [-150, 128] stays within normal exponents: the first
    // product is exact, the second rounds once into the subnormal range or overflows to inf.
    let n1 = ni >> 1;
    let n2 = ni.wrapping_sub(n1);
    (e * pow2i(n1)) * pow2i(n2)
}

/// Logistic sigmoid in f32. Uses `e = exp(-|x|) <= 1` only: `σ(|x|) = 1/(1+e)`, `σ(-|x|) = e/(1+e)`.
#[inline(always)]
pub fn sigmoid_f32(x: f32) -> f32 {
    let a = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    let e = exp_f32(-a);
    let num = if x < 0.0 { e } else { 1.0 };
    num / (1.0 + e)
}

/// tanh in f32: an odd polynomial for |x| < 0.55 (no cancellation near 0), otherwise
/// `(1 - e)/(1 + e)` with `e = exp(-2|x|)`; the sign is copied from x.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let sign = x.to_bits() & 0x8000_0000;
    let a = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    // small: tanh(a) = a + a^3 Q(a^2), Q a minimax fit on [0, 0.55] (relative error 1e-9).
    let u = a * a;
    let q = -6.274_233e-3_f32;
    let q = q * u + 2.107_167_4e-2;
    let q = q * u - 5.385_231e-2;
    let q = q * u + 1.333_258_6e-1;
    let q = q * u - 3.333_331_6e-1;
    let small = a + a * (u * q);
    // large: clamp so that exp stays in range (tanh(20) is 1 in f32).
    let ac = min_sel(a, 20.0);
    let e = exp_f32(-2.0 * ac);
    let large = (1.0 - e) / (1.0 + e);
    let r = if a < 0.55 { small } else { large };
    f32::from_bits(r.to_bits() | sign)
}

/// The f32 slice loops compiled for AVX2 (x86-64): 8 lanes instead of SSE2's 4. Rust does not
/// contract `a * b + c` into a fused multiply-add, so the bits equal the baseline loops'.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{exp_f32, sigmoid_f32, tanh_f32};

    /// Whether to use them: the CPU has AVX2 and the GEMM kernel is not forced to the portable one
    /// (`LSTM_VAE_ISA=portable` keeps every loop on the baseline).
    #[inline]
    pub(super) fn enabled() -> bool {
        crate::gemm::isa() != crate::gemm::Isa::Portable && std::arch::is_x86_feature_detected!("avx2")
    }

    macro_rules! inplace {
        ($name:ident, $f:ident) => {
            #[target_feature(enable = "avx2")]
            pub(super) unsafe fn $name(x: &mut [f32]) {
                x.iter_mut().for_each(|v| *v = $f(*v));
            }
        };
    }
    macro_rules! into {
        ($name:ident, $f:ident) => {
            #[target_feature(enable = "avx2")]
            pub(super) unsafe fn $name(x: &[f32], y: &mut [f32]) {
                y.iter_mut().zip(x).for_each(|(o, &v)| *o = $f(v));
            }
        };
    }
    inplace!(sigmoid_slice, sigmoid_f32);
    inplace!(tanh_slice, tanh_f32);
    inplace!(exp_slice, exp_f32);
    into!(sigmoid_into, sigmoid_f32);
    into!(tanh_into, tanh_f32);
}

/// Runs `$avx2` (an `avx2` function) when enabled, else the baseline `$body`.
macro_rules! multiversion {
    ($avx2:expr, $body:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if avx2::enabled() {
                // SAFETY: the CPU has AVX2 (checked by `enabled`).
                return unsafe { $avx2 };
            }
        }
        $body
    }};
}

impl Act for f32 {
    #[inline(always)]
    fn act_sigmoid(x: f32) -> f32 {
        sigmoid_f32(x)
    }
    #[inline(always)]
    fn act_tanh(x: f32) -> f32 {
        tanh_f32(x)
    }
    #[inline(always)]
    fn act_exp(x: f32) -> f32 {
        exp_f32(x)
    }
    #[inline]
    fn sigmoid_slice(x: &mut [f32]) {
        multiversion!(avx2::sigmoid_slice(x), x.iter_mut().for_each(|v| *v = sigmoid_f32(*v)))
    }
    #[inline]
    fn tanh_slice(x: &mut [f32]) {
        multiversion!(avx2::tanh_slice(x), x.iter_mut().for_each(|v| *v = tanh_f32(*v)))
    }
    #[inline]
    fn sigmoid_into(x: &[f32], y: &mut [f32]) {
        multiversion!(avx2::sigmoid_into(x, y), y.iter_mut().zip(x).for_each(|(o, &v)| *o = sigmoid_f32(v)))
    }
    #[inline]
    fn tanh_into(x: &[f32], y: &mut [f32]) {
        multiversion!(avx2::tanh_into(x, y), y.iter_mut().zip(x).for_each(|(o, &v)| *o = tanh_f32(v)))
    }
    #[inline]
    fn exp_slice(x: &mut [f32]) {
        multiversion!(avx2::exp_slice(x), x.iter_mut().for_each(|v| *v = exp_f32(*v)))
    }
}

impl Act for f64 {
    #[inline(always)]
    fn act_sigmoid(x: f64) -> f64 {
        let e = (-x.abs()).exp();
        let num = if x < 0.0 { e } else { 1.0 };
        num / (1.0 + e)
    }
    #[inline(always)]
    fn act_tanh(x: f64) -> f64 {
        x.tanh()
    }
    #[inline(always)]
    fn act_exp(x: f64) -> f64 {
        x.exp()
    }
}

// ---------------------------------------------------------------------------------------------
// Slices.

/// `x[i] = sigmoid(x[i])`.
#[inline]
pub fn sigmoid_inplace<T: Act>(x: &mut [T]) {
    T::sigmoid_slice(x)
}

/// `y[i] = sigmoid(x[i])`; panics if the lengths differ.
#[inline]
pub fn sigmoid<T: Act>(x: &[T], y: &mut [T]) {
    assert_eq!(x.len(), y.len(), "sigmoid: x has {} elements, y has {}", x.len(), y.len());
    T::sigmoid_into(x, y)
}

/// `x[i] = tanh(x[i])`.
#[inline]
pub fn tanh_inplace<T: Act>(x: &mut [T]) {
    T::tanh_slice(x)
}

/// `y[i] = tanh(x[i])`; panics if the lengths differ.
#[inline]
pub fn tanh<T: Act>(x: &[T], y: &mut [T]) {
    assert_eq!(x.len(), y.len(), "tanh: x has {} elements, y has {}", x.len(), y.len());
    T::tanh_into(x, y)
}

/// `x[i] = exp(x[i])`.
#[inline]
pub fn exp_inplace<T: Act>(x: &mut [T]) {
    T::exp_slice(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dense sweep of [-30, 30] (every 1e-4), all f32 in a band around 0, and extremes.
    fn inputs() -> Vec<f32> {
        let mut v: Vec<f32> = (0..=600_000).map(|i| -30.0 + i as f32 * 1e-4).collect();
        // every 97th f32 with |x| in [2^-30, 2)
        let lo = (2.0f32).powi(-30).to_bits();
        let hi = 2.0f32.to_bits();
        let mut b = lo;
        while b < hi {
            let x = f32::from_bits(b);
            v.push(x);
            v.push(-x);
            b += 97;
        }
        for x in [
            0.0,
            -0.0,
            1e-30,
            -1e-30,
            1e-45,
            0.55,
            0.549_999_9,
            0.550_000_1,
            9.0,
            20.0,
            50.0,
            80.0,
            87.0,
            88.0,
            88.7,
            89.0,
            100.0,
            103.0,
            104.0,
            110.0,
            1e10,
            1e30,
            f32::MAX,
            f32::INFINITY,
        ] {
            v.push(x);
            v.push(-x);
        }
        v
    }

    fn rel(got: f32, want: f64) -> f64 {
        let g = got as f64;
        if want == 0.0 {
            g.abs()
        } else {
            ((g - want) / want).abs()
        }
    }

    #[test]
    fn sigmoid_f32_accuracy() {
        let mut worst = 0.0f64;
        for x in inputs() {
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            let got = sigmoid_f32(x);
            if want >= f32::MIN_POSITIVE as f64 {
                let r = rel(got, want);
                assert!(r <= 3e-7, "sigmoid({x}) = {got}, want {want}, rel {r}");
                worst = worst.max(r);
            } else {
                assert!((got as f64 - want).abs() <= 2.0 * 1.4e-45, "sigmoid({x}) = {got}, want {want}");
            }
        }
        assert_eq!(sigmoid_f32(f32::INFINITY), 1.0);
        assert_eq!(sigmoid_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(sigmoid_f32(0.0), 0.5);
        assert!(sigmoid_f32(f32::NAN).is_nan());
        eprintln!("sigmoid f32: max relative error {worst:.3e}");
    }

    #[test]
    fn tanh_f32_accuracy() {
        let (mut worst_rel, mut worst_abs) = (0.0f64, 0.0f64);
        for x in inputs() {
            let want = (x as f64).tanh();
            let got = tanh_f32(x);
            let a = (got as f64 - want).abs();
            let r = rel(got, want);
            assert!(a <= 2e-7 && r <= 5e-7, "tanh({x}) = {got}, want {want}, abs {a}, rel {r}");
            assert_eq!(got.is_sign_negative(), x.is_sign_negative(), "tanh({x}) sign");
            worst_rel = worst_rel.max(r);
            worst_abs = worst_abs.max(a);
        }
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(1e-30), 1e-30);
        assert!(tanh_f32(f32::NAN).is_nan());
        eprintln!("tanh f32: max relative error {worst_rel:.3e}, max absolute error {worst_abs:.3e}");
    }

    #[test]
    fn exp_f32_accuracy() {
        let mut worst = 0.0f64;
        let mut xs = inputs();
        xs.extend((0..=190_000).map(|i| -100.0 + i as f32 * 1e-3));
        for x in xs {
            let want = (x as f64).exp();
            let got = exp_f32(x);
            if want > f32::MAX as f64 {
                assert!(got == f32::INFINITY || rel(got, want) <= 3e-7, "exp({x}) = {got}");
            } else if want >= f32::MIN_POSITIVE as f64 {
                let r = rel(got, want);
                assert!(r <= 2.5e-7, "exp({x}) = {got}, want {want}, rel {r}");
                worst = worst.max(r);
            } else {
                // subnormal results: within one subnormal step (plus the half step of rounding)
                assert!((got as f64 - want).abs() <= 1.5 * 1.41e-45, "exp({x}) = {got}, want {want}");
            }
        }
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert!(exp_f32(f32::NAN).is_nan());
        eprintln!("exp f32: max relative error {worst:.3e}");
    }

    #[test]
    fn slice_versions_match_scalar() {
        let x: Vec<f32> = (0..1001).map(|i| -10.0 + i as f32 * 0.02).collect();
        let mut y = vec![0.0; x.len()];
        sigmoid(&x, &mut y);
        let mut z = x.clone();
        sigmoid_inplace(&mut z);
        for i in 0..x.len() {
            assert_eq!(y[i].to_bits(), sigmoid_f32(x[i]).to_bits());
            assert_eq!(z[i].to_bits(), y[i].to_bits());
        }
        tanh(&x, &mut y);
        let mut z = x.clone();
        tanh_inplace(&mut z);
        for i in 0..x.len() {
            assert_eq!(y[i].to_bits(), tanh_f32(x[i]).to_bits());
            assert_eq!(z[i].to_bits(), y[i].to_bits());
        }
        let mut z = x.clone();
        exp_inplace(&mut z);
        for i in 0..x.len() {
            assert_eq!(z[i].to_bits(), exp_f32(x[i]).to_bits());
        }
        // the baseline loops give the same bits as the AVX2 ones (x86-64)
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let odd: Vec<f32> = x.iter().map(|v| v * 3.7 + 0.01).chain([f32::NAN, f32::INFINITY, -0.0, 1e-30, -95.0]).collect();
            for (name, f, g) in [
                ("sigmoid", sigmoid_f32 as fn(f32) -> f32, avx2::sigmoid_slice as unsafe fn(&mut [f32])),
                ("tanh", tanh_f32, avx2::tanh_slice),
                ("exp", exp_f32, avx2::exp_slice),
            ] {
                let mut v = odd.clone();
                unsafe { g(&mut v) };
                for (a, &b) in v.iter().zip(&odd) {
                    assert_eq!(a.to_bits(), f(b).to_bits(), "{name}({b}) AVX2 vs baseline");
                }
            }
            let mut y2 = vec![0.0; odd.len()];
            unsafe { avx2::tanh_into(&odd, &mut y2) };
            assert!(y2.iter().zip(&odd).all(|(a, &b)| a.to_bits() == tanh_f32(b).to_bits()));
            unsafe { avx2::sigmoid_into(&odd, &mut y2) };
            assert!(y2.iter().zip(&odd).all(|(a, &b)| a.to_bits() == sigmoid_f32(b).to_bits()));
        }
        let xd: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let mut yd = vec![0.0; xd.len()];
        sigmoid(&xd, &mut yd);
        assert!((yd[0] - 1.0 / (1.0 + 10f64.exp())).abs() < 1e-16);
    }
}
