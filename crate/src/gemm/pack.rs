//! Packing of operand blocks into the strips the micro-kernel reads (zero-padded to whole tiles).

use super::args::Gemm;
use super::kernel::{GemmFloat, MR, NR};

/// Packs `op(B)[pc..pc+kc, jc..jc+nc]` as strips of NR columns: `buf[s][p*NR + j]`, zero-padded.
pub(super) unsafe fn pack_b<T: GemmFloat>(g: Gemm, b: *const T, pc: usize, kc: usize, jc: usize, nc: usize, buf: &mut Vec<T>) {
    let nstrips = nc.div_ceil(NR);
    let need = nstrips * kc * NR;
    if buf.len() < need {
        buf.resize(need, T::zero());
    }
    for s in 0..nstrips {
        let j0 = jc + s * NR;
        let nr = NR.min(jc + nc - j0);
        let dst = &mut buf[s * kc * NR..(s + 1) * kc * NR];
        if !g.tb {
            for p in 0..kc {
                let src = b.add((pc + p) * g.ldb + j0);
                let d = &mut dst[p * NR..p * NR + NR];
                for j in 0..nr {
                    d[j] = *src.add(j);
                }
                for v in d.iter_mut().skip(nr) {
                    *v = T::zero();
                }
            }
        } else {
            if nr < NR {
                dst.fill(T::zero());
            }
            for j in 0..nr {
                let src = b.add((j0 + j) * g.ldb + pc);
                for p in 0..kc {
                    dst[p * NR + j] = *src.add(p);
                }
            }
        }
    }
}

/// Packs `op(A)[ic..ic+mc, pc..pc+kc]` as strips of MR rows: `buf[s][p*MR + r]`, zero-padded.
pub(super) unsafe fn pack_a<T: GemmFloat>(g: Gemm, a: *const T, ic: usize, mc: usize, pc: usize, kc: usize, buf: &mut Vec<T>) {
    let mstrips = mc.div_ceil(MR);
    let need = mstrips * kc * MR;
    if buf.len() < need {
        buf.resize(need, T::zero());
    }
    for s in 0..mstrips {
        let i0 = ic + s * MR;
        let mr = MR.min(ic + mc - i0);
        let dst = &mut buf[s * kc * MR..(s + 1) * kc * MR];
        if mr < MR {
            dst.fill(T::zero());
        }
        if !g.ta {
            for r in 0..mr {
                let src = a.add((i0 + r) * g.lda + pc);
                for p in 0..kc {
                    dst[p * MR + r] = *src.add(p);
                }
            }
        } else {
            for p in 0..kc {
                let src = a.add((pc + p) * g.lda + i0);
                for r in 0..mr {
                    dst[p * MR + r] = *src.add(r);
                }
            }
        }
    }
}
