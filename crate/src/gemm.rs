//! Single-precision (and, for tests, double-precision) GEMM, row-major:
//!
//! ```text
//! C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C[m, n]
//! ```
//!
//! `op(A)` is `A` (`a[i*lda + p]`) or, with `ta`, `Aᵀ` (`a[p*lda + i]`); likewise `op(B)`.
//! Blocked and packed (KC × NC panels of B, MC × KC blocks of A) around an MR×NR register
//! micro-kernel (simd128, or relaxed fused multiply-add, in wasm). Threads split the larger of
//! the M and N dimensions into disjoint strips; every element's sum over k runs in the same order
//! for any thread count, so results do not depend on the number of threads.

use crate::par::{for_each_task, threads, SendPtr};
use crate::real::{Real, MR, NR};
use crate::util::work;
use ndarray::{ArrayView2, ArrayViewMut2};

const KC: usize = 256;
const MC: usize = 64;
const NC: usize = 512;
/// Below this many multiply-adds a GEMM runs on one thread: waking a pool thread in wasm costs tens
/// of microseconds, as much as ~1M multiply-adds (measured: 32×256×68 took 1.7× longer on 2 threads
/// than on 1 with the old threshold of 32K).
const PAR_MIN_MACS: u64 = 1 << 21;

/// Arguments of one GEMM call: see the module documentation.
#[derive(Clone, Copy)]
pub struct Gemm {
    pub ta: bool,
    pub tb: bool,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub lda: usize,
    pub ldb: usize,
    pub ldc: usize,
}

impl Gemm {
    /// Plain `C[m,n] (+)= A[m,k] · B[k,n]` with packed leading dimensions.
    pub fn nn(m: usize, n: usize, k: usize) -> Self {
        Gemm { ta: false, tb: false, m, n, k, lda: k, ldb: n, ldc: n }
    }
    /// `C[m,n] (+)= A[m,k] · B[n,k]ᵀ` (B stored as `[n, k]`, e.g. a PyTorch weight).
    pub fn nt(m: usize, n: usize, k: usize) -> Self {
        Gemm { ta: false, tb: true, m, n, k, lda: k, ldb: k, ldc: n }
    }
    /// `C[m,n] (+)= A[k,m]ᵀ · B[k,n]` (weight gradients: sum over the batch rows).
    pub fn tn(m: usize, n: usize, k: usize) -> Self {
        Gemm { ta: true, tb: false, m, n, k, lda: m, ldb: n, ldc: n }
    }

    /// Elements of `a`, `b`, `c` this call reads or writes (for bounds checks).
    pub fn a_len(&self) -> usize {
        let (rows, cols) = if self.ta { (self.k, self.m) } else { (self.m, self.k) };
        span(rows, cols, self.lda)
    }
    pub fn b_len(&self) -> usize {
        let (rows, cols) = if self.tb { (self.n, self.k) } else { (self.k, self.n) };
        span(rows, cols, self.ldb)
    }
    pub fn c_len(&self) -> usize {
        span(self.m, self.n, self.ldc)
    }
}

fn span(rows: usize, cols: usize, ld: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * ld + cols
    }
}

/// `C = alpha · op(A) · op(B) + beta · C`. With `beta == 0`, C is overwritten (its old contents,
/// NaN included, are ignored, as in BLAS). Panics if a slice is shorter than the shapes need
/// (callers at the JavaScript boundary check shapes first and return a typed error).
pub fn gemm<T: Real>(g: Gemm, alpha: T, a: &[T], b: &[T], beta: T, c: &mut [T]) {
    gemm_impl(g, alpha, a, b, beta, c, true)
}

/// `gemm` on the calling thread only (for callers that already split the work between threads).
pub fn gemm_st<T: Real>(g: Gemm, alpha: T, a: &[T], b: &[T], beta: T, c: &mut [T]) {
    gemm_impl(g, alpha, a, b, beta, c, false)
}

fn beta_pass<T: Real>(g: Gemm, beta: T, c: &mut [T]) {
    for i in 0..g.m {
        let row = &mut c[i * g.ldc..i * g.ldc + g.n];
        if beta == T::zero() {
            row.fill(T::zero());
        } else if beta != T::one() {
            row.iter_mut().for_each(|v| *v = *v * beta);
        }
    }
}

fn gemm_impl<T: Real>(g: Gemm, alpha: T, a: &[T], b: &[T], beta: T, c: &mut [T], allow_par: bool) {
    assert!(a.len() >= g.a_len(), "gemm: a has {} elements, needs {}", a.len(), g.a_len());
    assert!(b.len() >= g.b_len(), "gemm: b has {} elements, needs {}", b.len(), g.b_len());
    assert!(c.len() >= g.c_len(), "gemm: c has {} elements, needs {}", c.len(), g.c_len());
    assert!(g.ldc >= g.n || g.m <= 1);
    if g.m == 0 || g.n == 0 {
        return;
    }
    beta_pass(g, beta, c);
    if g.k == 0 || alpha == T::zero() {
        return;
    }
    if g.m == 1 {
        // batch 1: no packing (it would cost as much as the product itself)
        gemv(g, alpha, a, b, c);
        return;
    }
    // in u64: on wasm32 the product of three dimensions can exceed usize
    let macs = work(&[g.m, g.n, g.k]);
    let nthreads = if allow_par && macs >= PAR_MIN_MACS { threads() } else { 1 };
    let cp = SendPtr(c.as_mut_ptr());
    if nthreads <= 1 {
        unsafe { gemm_serial(g, alpha, a.as_ptr(), b.as_ptr(), cp.0) };
        return;
    }
    // Split the dimension with more micro-tiles into `tasks` strips of whole tiles.
    let split_n = g.n.div_ceil(NR) >= g.m.div_ceil(MR);
    let (dim, unit) = if split_n { (g.n, NR) } else { (g.m, MR) };
    let tiles = dim.div_ceil(unit);
    let tasks = nthreads.min(tiles);
    let ap = SendPtr(a.as_ptr() as *mut T);
    let bp = SendPtr(b.as_ptr() as *mut T);
    for_each_task(tasks, move |t| {
        let lo = (tiles * t / tasks) * unit;
        let hi = ((tiles * (t + 1) / tasks) * unit).min(dim);
        if lo >= hi {
            return;
        }
        let (ap, bp, cp) = (ap, bp, cp);
        unsafe {
            if split_n {
                let sub = Gemm { n: hi - lo, ..g };
                let boff = if g.tb { lo * g.ldb } else { lo };
                gemm_serial(sub, alpha, ap.0, bp.0.add(boff), cp.0.add(lo));
            } else {
                let sub = Gemm { m: hi - lo, ..g };
                let aoff = if g.ta { lo } else { lo * g.lda };
                gemm_serial(sub, alpha, ap.0.add(aoff), bp.0, cp.0.add(lo * g.ldc));
            }
        }
    });
}

/// `c[0, :] += alpha · op(A)[0, :] · op(B)` for one row (beta already applied): rows of B scaled and
/// added (B as `[k, n]`) or dot products with 8 partial sums (B as `[n, k]`), in a fixed order.
fn gemv<T: Real>(g: Gemm, alpha: T, a: &[T], b: &[T], c: &mut [T]) {
    let (n, k) = (g.n, g.k);
    let av = |p: usize| if g.ta { a[p * g.lda] } else { a[p] };
    let c = &mut c[..n];
    if !g.tb {
        for p in 0..k {
            let s = alpha * av(p);
            let row = &b[p * g.ldb..p * g.ldb + n];
            for (cj, &bj) in c.iter_mut().zip(row) {
                *cj = *cj + s * bj;
            }
        }
    } else {
        let arow: Vec<T>;
        let ar: &[T] = if g.ta {
            arow = (0..k).map(av).collect();
            &arow
        } else {
            &a[..k]
        };
        for (j, cj) in c.iter_mut().enumerate() {
            let row = &b[j * g.ldb..j * g.ldb + k];
            let mut acc = [T::zero(); 8];
            let chunks = k / 8;
            for q in 0..chunks {
                for l in 0..8 {
                    acc[l] = acc[l] + ar[q * 8 + l] * row[q * 8 + l];
                }
            }
            let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
            for p in chunks * 8..k {
                s = s + ar[p] * row[p];
            }
            *cj = *cj + alpha * s;
        }
    }
}

/// One thread's blocked GEMM: `C += alpha · op(A) · op(B)` (beta already applied).
unsafe fn gemm_serial<T: Real>(g: Gemm, alpha: T, a: *const T, b: *const T, c: *mut T) {
    // B is read in place when its rows are short (e.g. `[k, 8]` weights): the strips then lie in
    // few cache lines and packing would cost as much as the product. Otherwise it is packed.
    let direct_b = !g.tb && g.ldb <= 4 * NR;
    blocked(g, alpha, a, c, direct_b.then_some(b), |jc, pc, kc, nc, buf: &mut Vec<T>| -> *const T {
        pack_b(g, b, pc, kc, jc, nc, buf);
        buf.as_ptr()
    })
}

/// The blocked loops around the micro-kernel. `panel(jc, pc, kc, nc, scratch)` gives the packed
/// `op(B)[pc..pc+kc, jc..jc+nc]` (packed into `scratch`, or from a `PackedB`); with `direct_b`
/// (B not transposed), full strips of B are read in place instead and only a last partial strip
/// is packed, once per panel. A not transposed is always read in place (the micro-kernel's splat loads read one
/// element per row either way), except a last partial strip of rows, which is packed zero-padded.
/// The sums are the same, in the same order, whichever way an operand is read.
unsafe fn blocked<T: Real>(
    g: Gemm,
    alpha: T,
    a: *const T,
    c: *mut T,
    direct_b: Option<*const T>,
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
                    Some(b) if nc % NR != 0 => {
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
                            Some(b) if nr == NR => (b.add(pc * g.ldb + j0) as *const T, g.ldb),
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

/// Packs `op(B)[pc..pc+kc, jc..jc+nc]` as strips of NR columns: `buf[s][p*NR + j]`, zero-padded.
unsafe fn pack_b<T: Real>(g: Gemm, b: *const T, pc: usize, kc: usize, jc: usize, nc: usize, buf: &mut Vec<T>) {
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
unsafe fn pack_a<T: Real>(g: Gemm, a: *const T, ic: usize, mc: usize, pc: usize, kc: usize, buf: &mut Vec<T>) {
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

/// `op(B)` `[k, n]` packed once into the panels the micro-kernel reads, for a GEMM repeated with
/// the same B (e.g. `W_hhᵀ` at every step of an LSTM).
pub struct PackedB<T> {
    k: usize,
    n: usize,
    data: Vec<T>,
}

impl<T: Real> PackedB<T> {
    pub fn new() -> Self {
        PackedB { k: 0, n: 0, data: Vec::new() }
    }
    /// Packs `op(B)` (`b` as `[k, n]` with leading dimension `ldb`, or `[n, k]` transposed with `tb`).
    pub fn pack(&mut self, tb: bool, k: usize, n: usize, b: &[T], ldb: usize) {
        let g = Gemm { ta: false, tb, m: 0, n, k, lda: 0, ldb, ldc: n };
        assert!(b.len() >= g.b_len(), "PackedB: b has {} elements, needs {}", b.len(), g.b_len());
        self.k = k;
        self.n = n;
        self.data.clear();
        let mut scratch = Vec::new();
        let mut jc = 0;
        while jc < n {
            let nc = NC.min(n - jc);
            let mut pc = 0;
            while pc < k {
                let kc = KC.min(k - pc);
                unsafe { pack_b(g, b.as_ptr(), pc, kc, jc, nc, &mut scratch) };
                self.data.extend_from_slice(&scratch[..nc.div_ceil(NR) * kc * NR]);
                pc += kc;
            }
            jc += nc;
        }
    }
    /// Offset of the panel of block (jc, pc), in the order `pack` wrote them.
    fn offset(&self, jc: usize, pc: usize) -> usize {
        let mut off = 0;
        let mut j = 0;
        while j < jc {
            let nc = NC.min(self.n - j);
            off += nc.div_ceil(NR) * NR * self.k;
            j += nc;
        }
        let nc = NC.min(self.n - jc);
        off + nc.div_ceil(NR) * NR * pc
    }
}

impl<T: Real> Default for PackedB<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// `C[m, n] += alpha · op(A)[m, k] · B` with B pre-packed, on the calling thread.
/// `a`: `[m, k]` (lda) or, with `ta`, `[k, m]`; `c`: `[m, n]` (ldc).
#[allow(clippy::too_many_arguments)]
pub fn gemm_packed_st<T: Real>(ta: bool, m: usize, a: &[T], lda: usize, pb: &PackedB<T>, alpha: T, c: &mut [T], ldc: usize) {
    let g = Gemm { ta, tb: false, m, n: pb.n, k: pb.k, lda, ldb: pb.n, ldc };
    assert!(a.len() >= g.a_len(), "gemm_packed: a has {} elements, needs {}", a.len(), g.a_len());
    assert!(c.len() >= g.c_len(), "gemm_packed: c has {} elements, needs {}", c.len(), g.c_len());
    if m == 0 || pb.n == 0 || pb.k == 0 || alpha == T::zero() {
        return;
    }
    unsafe { blocked(g, alpha, a.as_ptr(), c.as_mut_ptr(), None, |jc, pc, _kc, _nc, _buf: &mut Vec<T>| pb.data.as_ptr().add(pb.offset(jc, pc))) }
}

/// `c = a · b` (overwrites c) on ndarray views: the shapes are checked here, once.
/// a: `[m, k]`, b: `[k, n]`, c: `[m, n]`, all in standard (row-major, contiguous rows) layout.
pub fn matmul<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, mut c: ArrayViewMut2<T>) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "matmul: a is [{m}, {k}] but b is [{k2}, {n}]");
    assert_eq!(c.dim(), (m, n), "matmul: c must be [{m}, {n}]");
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let cs = c.as_slice_mut().expect("matmul: c must be contiguous");
    gemm(Gemm::nn(m, n, k), T::one(), a.as_slice().unwrap(), b.as_slice().unwrap(), T::zero(), cs);
}

/// Straightforward triple loop in f64 (the reference the tests compare with).
pub fn gemm_reference(g: Gemm, alpha: f64, a: &[f64], b: &[f64], beta: f64, c: &mut [f64]) {
    for i in 0..g.m {
        for j in 0..g.n {
            let mut s = 0.0;
            for p in 0..g.k {
                let av = if g.ta { a[p * g.lda + i] } else { a[i * g.lda + p] };
                let bv = if g.tb { b[j * g.ldb + p] } else { b[p * g.ldb + j] };
                s += av * bv;
            }
            let old = if beta == 0.0 { 0.0 } else { beta * c[i * g.ldc + j] };
            c[i * g.ldc + j] = old + alpha * s;
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod simd {
    use crate::real::{MR, NR};
    use core::arch::wasm32::*;

    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            f32x4_relaxed_madd(a, b, c)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            f32x4_add(f32x4_mul(a, b), c)
        }
    }

    /// simd128 MR×8 micro-kernel (see `Real::micro_kernel`): 2·MR accumulators (MR rows × 2
    /// vectors of 4 columns) kept in registers; one splat load of A per row and two vector loads of
    /// B per step of `p`.
    #[inline(always)]
    pub unsafe fn micro_kernel_f32(kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, tile: &mut [f32; MR * NR]) {
        const _: () = assert!(NR == 8);
        let mut c0 = [f32x4_splat(0.0); MR];
        let mut c1 = [f32x4_splat(0.0); MR];
        let mut ar: [*const f32; MR] = [a; MR];
        for (r, p) in ar.iter_mut().enumerate() {
            *p = a.add(r * a_rs);
        }
        let mut b = b;
        for _ in 0..kc {
            let b0 = v128_load(b as *const v128);
            let b1 = v128_load(b.add(4) as *const v128);
            for r in 0..MR {
                let av = v128_load32_splat(ar[r] as *const u32);
                c0[r] = madd(av, b0, c0[r]);
                c1[r] = madd(av, b1, c1[r]);
                ar[r] = ar[r].add(a_cs);
            }
            b = b.add(b_cs);
        }
        let t = tile.as_mut_ptr() as *mut v128;
        for r in 0..MR {
            v128_store(t.add(2 * r), c0[r]);
            v128_store(t.add(2 * r + 1), c1[r]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn rand_vec(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
        (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
    }

    fn check(g: Gemm, alpha: f64, beta: f64, rng: &mut ChaCha8Rng) {
        let a = rand_vec(rng, g.a_len().max(1));
        let b = rand_vec(rng, g.b_len().max(1));
        let c0 = rand_vec(rng, g.c_len().max(1));
        let mut want = c0.clone();
        gemm_reference(g, alpha, &a, &b, beta, &mut want);
        // f64 path: equal to rounding
        let mut got = c0.clone();
        gemm(g, alpha, &a, &b, beta, &mut got);
        for (x, y) in got.iter().zip(&want) {
            assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "f64 gemm {x} vs {y}");
        }
        // f32 path: relative to the magnitude of the sum of |terms|
        let af: Vec<f32> = a.iter().map(|&v| v as f32).collect();
        let bf: Vec<f32> = b.iter().map(|&v| v as f32).collect();
        let mut cf: Vec<f32> = c0.iter().map(|&v| v as f32).collect();
        gemm(g, alpha as f32, &af, &bf, beta as f32, &mut cf);
        let tol = 1e-5 * (g.k as f64 + 2.0);
        for (x, y) in cf.iter().zip(&want) {
            assert!(((*x as f64) - y).abs() <= tol, "f32 gemm {x} vs {y} (ta={} tb={} {}x{}x{})", g.ta, g.tb, g.m, g.n, g.k);
        }
    }

    #[test]
    fn gemm_matches_reference_on_odd_shapes_and_transposes() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for &(m, n, k) in &[(1, 1, 1), (1, 7, 3), (1, 300, 517), (5, 1, 9), (4, 8, 16), (13, 29, 7), (65, 130, 300), (3, 513, 2), (70, 9, 600), (9, 32, 700), (130, 24, 513)] {
            for &(ta, tb) in &[(false, false), (false, true), (true, false), (true, true)] {
                let lda = if ta { m } else { k };
                let ldb = if tb { k } else { n };
                check(Gemm { ta, tb, m, n, k, lda, ldb, ldc: n }, 1.0, 0.0, &mut rng);
                check(Gemm { ta, tb, m, n, k, lda: lda + 3, ldb: ldb + 1, ldc: n + 2 }, 0.5, 1.0, &mut rng);
                check(Gemm { ta, tb, m, n, k, lda, ldb, ldc: n }, -1.5, 0.25, &mut rng);
            }
        }
    }

    #[test]
    fn gemm_empty_dimensions_are_no_ops_or_zero() {
        let mut c = vec![5.0f32; 6];
        gemm(Gemm::nn(2, 3, 0), 1.0, &[], &[], 0.0, &mut c);
        assert_eq!(c, vec![0.0; 6], "k = 0 with beta 0 gives zeros");
        let mut c: Vec<f32> = vec![];
        gemm(Gemm::nn(0, 3, 4), 1.0, &[], &[1.0; 12], 0.0, &mut c);
    }

    #[test]
    fn gemm_is_bit_identical_for_any_thread_count() {
        let _g = crate::testutil::THREADS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (m, n, k) = (67, 515, 300);
        let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let mut outs = vec![];
        for t in [1, 2, 3] {
            crate::par::set_threads(t);
            let mut c = vec![0.0f32; m * n];
            gemm(Gemm::nn(m, n, k), 1.0, &a, &b, 0.0, &mut c);
            outs.push(c);
        }
        crate::par::set_threads(0);
        assert!(outs[0].iter().zip(&outs[1]).all(|(x, y)| x.to_bits() == y.to_bits()), "GEMM differs between 1 and 2 threads");
        assert!(outs[0].iter().zip(&outs[2]).all(|(x, y)| x.to_bits() == y.to_bits()), "GEMM differs between 1 and 3 threads");
    }

    #[test]
    fn prepacked_b_equals_plain_gemm_bitwise() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for &(m, n, k, tb) in &[(5, 600, 300, true), (33, 130, 17, false), (2, 9, 513, true)] {
            let ldb = if tb { k } else { n };
            let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let c0: Vec<f32> = (0..m * n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let mut want = c0.clone();
            gemm_st(Gemm { ta: false, tb, m, n, k, lda: k, ldb, ldc: n }, 1.0, &a, &b, 1.0, &mut want);
            let mut pb = PackedB::new();
            pb.pack(tb, k, n, &b, ldb);
            let mut got = c0.clone();
            gemm_packed_st(false, m, &a, k, &pb, 1.0, &mut got, n);
            assert!(got.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()), "{m}x{n}x{k}");
        }
    }

    #[test]
    fn matmul_on_views() {
        let a = ndarray::arr2(&[[1.0f64, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let b = ndarray::arr2(&[[1.0f64, 0.0, 2.0], [0.0, 1.0, 3.0]]);
        let mut c = ndarray::Array2::<f64>::zeros((3, 3));
        matmul(a.view(), b.view(), c.view_mut());
        assert_eq!(c, a.dot(&b));
    }
}
