//! The blocked loops of one thread's GEMM around the micro-kernel: KC × NC panels of B, MC × KC
//! blocks of A, MR × NR tiles of C.

use super::args::Gemm;
use super::kernel::{GemmFloat, MR, NR};
use super::pack::{pack_a, pack_b};

pub(super) const KC: usize = 256;
pub(super) const MC: usize = 64;
pub(super) const NC: usize = 512;

/// The blocked loops around the micro-kernel. `panel(jc, pc, kc, nc, scratch)` gives the packed
/// `op(B)[pc..pc+kc, jc..jc+nc]` (packed into `scratch`, or from a `PackedB`); with `direct_b`
/// (B not transposed), full strips of B are read in place instead and only a last partial strip
/// is packed, once per panel. A not transposed is always read in place (the micro-kernel's splat loads read one
/// element per row either way), except a last partial strip of rows, which is packed zero-padded.
/// The sums are the same, in the same order, whichever way an operand is read.
pub(super) unsafe fn blocked<T: GemmFloat>(
    g: Gemm, alpha: T, a: *const T, c: *mut T, direct_b: Option<*const T>,
    panel: impl Fn(usize, usize, usize, usize, &mut Vec<T>) -> *const T,
) {
    let direct_a = !g.ta;
    T::with_pack_buffers(|apack, bpack| {
        let mut tile = [T::zero(); MR * NR];
        let mut jc = 0;
        while jc < g.n {
            let nc = NC.min(g.n - jc);
            let nstrips = nc.div_ceil(NR);
            let mut pc = 0;
            while pc < g.k {
                let kc = KC.min(g.k - pc);
                let bpanel = match direct_b {
                    None => panel(jc, pc, kc, nc, bpack),
                    // B read in place: only a last, partial strip is packed, once per (jc, pc)
                    Some(b) if !nc.is_multiple_of(NR) => {
                        let j0 = jc + (nstrips - 1) * NR;
                        pack_b(g, b, pc, kc, j0, nc - (nstrips - 1) * NR, bpack);
                        bpack.as_ptr()
                    }
                    Some(_) => std::ptr::null(),
                };
                let mut ic = 0;
                while ic < g.m {
                    let mc = MC.min(g.m - ic);
                    let mstrips = mc.div_ceil(MR);
                    let full_strips = mc / MR;
                    if !direct_a {
                        pack_a(g, a, ic, mc, pc, kc, apack);
                    } else if full_strips < mstrips {
                        // the last, partial strip of rows: packed zero-padded at the start of apack
                        let i0 = ic + full_strips * MR;
                        pack_a(g, a, i0, mc - full_strips * MR, pc, kc, apack);
                    }
                    for js in 0..nstrips {
                        let j0 = jc + js * NR;
                        let nr = NR.min(g.n - j0);
                        let (bs, b_cs) = match direct_b {
                            Some(b) if nr == NR => (b.add(pc * g.ldb + j0), g.ldb),
                            Some(_) => (bpanel, NR),
                            None => (bpanel.add(js * kc * NR), NR),
                        };
                        for is in 0..mstrips {
                            let i0 = ic + is * MR;
                            let mr = MR.min(g.m - i0);
                            if !direct_a {
                                T::micro_kernel(kc, apack.as_ptr().add(is * kc * MR), 1, MR, bs, b_cs, &mut tile);
                            } else if is < full_strips {
                                T::micro_kernel(kc, a.add(i0 * g.lda + pc), g.lda, 1, bs, b_cs, &mut tile);
                            } else {
                                T::micro_kernel(kc, apack.as_ptr(), 1, MR, bs, b_cs, &mut tile);
                            }
                            for r in 0..mr {
                                let crow = c.add((i0 + r) * g.ldc + j0);
                                let trow = &tile[r * NR..r * NR + NR];
                                if nr == NR {
                                    let crow = std::slice::from_raw_parts_mut(crow, NR);
                                    if alpha == T::one() {
                                        for j in 0..NR {
                                            crow[j] = crow[j] + trow[j];
                                        }
                                    } else {
                                        for j in 0..NR {
                                            crow[j] = crow[j] + alpha * trow[j];
                                        }
                                    }
                                } else {
                                    for (j, &t) in trow[..nr].iter().enumerate() {
                                        *crow.add(j) = *crow.add(j) + alpha * t;
                                    }
                                }
                            }
                        }
                    }
                    ic += mc;
                }
                pc += kc;
            }
            jc += nc;
        }
    });
}
