//! The blocked loops of one thread's GEMM around a micro-kernel `K`: KC × NC panels of B,
//! K::MC × KC blocks of A, K::MR × K::NR tiles of C.

use super::args::Gemm;
use super::kernel::{GemmFloat, Kernel};
use super::pack::{pack_a, pack_b};

pub(super) const KC: usize = 256;
pub(super) const NC: usize = 512;

/// The blocked loops around the micro-kernel. `panel(jc, pc, kc, nc, scratch)` gives the packed
/// `op(B)[pc..pc+kc, jc..jc+nc]` (packed into `scratch` as strips of K::NR columns, or from a
/// `PackedB` packed for `K`); with `direct_b` (B not transposed), full strips of B are read in
/// place instead and only a last partial strip is packed, once per panel. A not transposed is
/// read in place (the micro-kernel's broadcast loads read one element per row either way), except,
/// on x86-64, rows far apart with many strips of C; on x86-64 a transposed A is read in place too
/// when C has at most two strips of columns (e.g. `dW_ih = dgᵀ·x` with few inputs: packing A would
/// cost as much as the product). A last partial strip of rows read in place is packed zero-padded. The sums are the same, in the same order, whichever way an operand is read.
pub(super) unsafe fn blocked<T: GemmFloat, K: Kernel<T>>(
    g: Gemm, alpha: T, a: *const T, c: *mut T, direct_b: Option<*const T>,
    panel: impl Fn(usize, usize, usize, usize, &mut Vec<T>) -> *const T,
) {
    let (mr_full, nr_full) = (K::MR, K::NR);
    // On x86-64 (measured with AVX2; the wasm builds keep the old rule, not measured there):
    // - a transposed A is read in place when C has at most two strips of columns: 20-25% faster
    //   at [1024×16|32×16384] (dW_ih), slower from three strips on;
    // - an A whose rows lie far apart (lda ≥ 2k, e.g. h_{t-1} inside [B, T, H]: rows 128 KiB apart,
    //   all in the same cache sets) is packed when C has four strips or more: the LSTM recurrence
    //   [128×1024×256] with lda = T·H, 13% faster; the copy is 1/n of the product.
    let x86 = cfg!(target_arch = "x86_64");
    let direct_a = if g.ta { x86 && g.n <= 2 * nr_full } else { !(x86 && g.lda >= 2 * g.k && g.n >= 4 * nr_full) };
    // A(r, p) of a strip read in place: `a[r*a_rs + p*a_cs]`
    let (a_rs, a_cs) = if g.ta { (1, g.lda) } else { (g.lda, 1) };
    T::with_pack_buffers(|apack, bpack| {
        let mut jc = 0;
        while jc < g.n {
            let nc = NC.min(g.n - jc);
            let nstrips = nc.div_ceil(nr_full);
            let mut pc = 0;
            while pc < g.k {
                let kc = KC.min(g.k - pc);
                let bpanel = match direct_b {
                    None => panel(jc, pc, kc, nc, bpack),
                    // B read in place: only a last, partial strip is packed, once per (jc, pc)
                    Some(b) if !nc.is_multiple_of(nr_full) => {
                        let j0 = jc + (nstrips - 1) * nr_full;
                        pack_b(g, b, pc, kc, j0, nc - (nstrips - 1) * nr_full, nr_full, bpack);
                        bpack.as_ptr()
                    }
                    Some(_) => std::ptr::null(),
                };
                let mut ic = 0;
                while ic < g.m {
                    let mc = K::MC.min(g.m - ic);
                    let mstrips = mc.div_ceil(mr_full);
                    let full_strips = mc / mr_full;
                    if !direct_a {
                        pack_a(g, a, ic, mc, pc, kc, mr_full, apack);
                    } else if full_strips < mstrips {
                        // the last, partial strip of rows: packed zero-padded at the start of apack
                        let i0 = ic + full_strips * mr_full;
                        pack_a(g, a, i0, mc - full_strips * mr_full, pc, kc, mr_full, apack);
                    }
                    for js in 0..nstrips {
                        let j0 = jc + js * nr_full;
                        let nr = nr_full.min(g.n - j0);
                        let (bs, b_cs) = match direct_b {
                            Some(b) if nr == nr_full => (b.add(pc * g.ldb + j0), g.ldb),
                            Some(_) => (bpanel, nr_full),
                            None => (bpanel.add(js * kc * nr_full), nr_full),
                        };
                        for is in 0..mstrips {
                            let i0 = ic + is * mr_full;
                            let mr = mr_full.min(g.m - i0);
                            let ct = c.add(i0 * g.ldc + j0);
                            if !direct_a {
                                K::tile(kc, apack.as_ptr().add(is * kc * mr_full), 1, mr_full, bs, b_cs, ct, g.ldc, alpha, mr, nr);
                            } else if is < full_strips {
                                let ai = if g.ta { a.add(pc * g.lda + i0) } else { a.add(i0 * g.lda + pc) };
                                K::tile(kc, ai, a_rs, a_cs, bs, b_cs, ct, g.ldc, alpha, mr, nr);
                            } else {
                                K::tile(kc, apack.as_ptr(), 1, mr_full, bs, b_cs, ct, g.ldc, alpha, mr, nr);
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
