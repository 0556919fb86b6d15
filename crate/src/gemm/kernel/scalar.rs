//! Portable micro-kernel (f64 always; f32 when neither simd128 nor an x86 kernel is used, e.g. on
//! the host with `Isa::Portable` or in the scalar comparison build): plain loops over a 4×8 tile.

use super::element::{add_tile, GemmFloat};

pub(super) const MR: usize = 4;
pub(super) const NR: usize = 8;

/// See `Kernel::tile` (the 4×8 tile).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn tile<T: GemmFloat>(
    kc: usize, a: *const T, a_rs: usize, a_cs: usize, b: *const T, b_cs: usize, c: *mut T, ldc: usize, alpha: T, mr: usize, nr: usize,
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
    let flat: &[T] = std::slice::from_raw_parts(acc.as_ptr() as *const T, MR * NR);
    add_tile(flat, NR, c, ldc, alpha, mr, nr);
}
