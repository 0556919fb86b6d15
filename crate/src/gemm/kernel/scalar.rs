//! Portable micro-kernel (f64 always; f32 when simd128 is off, e.g. on the host or in the
//! scalar comparison build).

use super::element::{GemmFloat, MR, NR};

/// See `GemmFloat::micro_kernel`.
#[inline(always)]
pub(super) unsafe fn micro_kernel<T: GemmFloat>(
    kc: usize, a: *const T, a_rs: usize, a_cs: usize, b: *const T, b_cs: usize, tile: &mut [T; MR * NR],
) {
    let mut acc = [[T::zero(); NR]; MR];
    for p in 0..kc {
        let bp = std::slice::from_raw_parts(b.add(p * b_cs), NR);
        for r in 0..MR {
            let ar = *a.add(r * a_rs + p * a_cs);
            for j in 0..NR {
                acc[r][j] = acc[r][j] + ar * bp[j];
            }
        }
    }
    for r in 0..MR {
        tile[r * NR..(r + 1) * NR].copy_from_slice(&acc[r]);
    }
}
