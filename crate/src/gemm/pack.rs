//! Packing of operand blocks into the strips the micro-kernel reads (zero-padded to whole tiles).

use super::args::Gemm;
use super::kernel::GemmFloat;

/// Packs `op(B)[pc..pc+kc, jc..jc+nc]` as strips of `nr_full` columns (the kernel's): `buf[s][p*nr_full + j]`, zero-padded.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn pack_b<T: GemmFloat>(
    g: Gemm, b: *const T, pc: usize, kc: usize, jc: usize, nc: usize, nr_full: usize, buf: &mut Vec<T>,
) {
    let nstrips = nc.div_ceil(nr_full);
    let need = nstrips * kc * nr_full;
    if buf.len() < need {
        buf.resize(need, T::zero());
    }
    for s in 0..nstrips {
        let j0 = jc + s * nr_full;
        let nr = nr_full.min(jc + nc - j0);
        let dst = &mut buf[s * kc * nr_full..(s + 1) * kc * nr_full];
        if !g.tb {
            for p in 0..kc {
                let src = b.add((pc + p) * g.ldb + j0);
                let d = &mut dst[p * nr_full..p * nr_full + nr_full];
                for j in 0..nr {
                    d[j] = *src.add(j);
                }
                for v in d.iter_mut().skip(nr) {
                    *v = T::zero();
                }
            }
        } else {
            if nr < nr_full {
                dst.fill(T::zero());
            }
            for j in 0..nr {
                let src = b.add((j0 + j) * g.ldb + pc);
                for p in 0..kc {
                    dst[p * nr_full + j] = *src.add(p);
                }
            }
        }
    }
}

/// Packs `op(A)[ic..ic+mc, pc..pc+kc]` as strips of `MR` rows (the kernel's): `buf[s][p*MR + r]`, zero-padded.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn pack_a<T: GemmFloat>(
    g: Gemm, a: *const T, ic: usize, mc: usize, pc: usize, kc: usize, mr_full: usize, buf: &mut Vec<T>,
) {
    let mstrips = mc.div_ceil(mr_full);
    let need = mstrips * kc * mr_full;
    if buf.len() < need {
        buf.resize(need, T::zero());
    }
    for s in 0..mstrips {
        let i0 = ic + s * mr_full;
        let mr = mr_full.min(ic + mc - i0);
        let dst = &mut buf[s * kc * mr_full..(s + 1) * kc * mr_full];
        if mr < mr_full {
            dst.fill(T::zero());
        }
        if !g.ta {
            for r in 0..mr {
                let src = a.add((i0 + r) * g.lda + pc);
                for p in 0..kc {
                    dst[p * mr_full + r] = *src.add(p);
                }
            }
        } else {
            for p in 0..kc {
                let src = a.add((pc + p) * g.lda + i0);
                for r in 0..mr {
                    dst[p * mr_full + r] = *src.add(r);
                }
            }
        }
    }
}
