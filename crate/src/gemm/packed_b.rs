//! A B operand packed once and reused by many GEMMs (the LSTM's recurrent weights at every step).

use super::args::Gemm;
use super::blocked::{blocked, KC, NC};
use super::kernel::{isa, GemmFloat, Isa, Kernel, KernelUser};
use super::pack::pack_b;

/// `op(B)` `[k, n]` packed once into the panels the micro-kernel reads, for a GEMM repeated with
/// the same B (e.g. `W_hhᵀ` at every step of an LSTM). The panels are laid out for the kernel
/// that was current when `pack` ran (its strip width); `gemm_packed_st` uses that same kernel.
pub struct PackedB<T> {
    k: usize,
    n: usize,
    isa: Isa,
    nr: usize,
    data: Vec<T>,
}

/// The strip width of `T`'s kernel for an ISA.
struct StripWidth;
impl<T: GemmFloat> KernelUser<T> for StripWidth {
    type Out = usize;
    fn run<K: Kernel<T>>(self) -> usize {
        K::NR
    }
}

impl<T: GemmFloat> PackedB<T> {
    pub fn new() -> Self {
        PackedB { k: 0, n: 0, isa: Isa::Portable, nr: 1, data: Vec::new() }
    }
    /// Packs `op(B)` (`b` as `[k, n]` with leading dimension `ldb`, or `[n, k]` transposed with `tb`)
    /// for the current kernel (`isa()`).
    pub fn pack(&mut self, tb: bool, k: usize, n: usize, b: &[T], ldb: usize) {
        self.pack_for(isa(), tb, k, n, b, ldb)
    }
    /// `pack` for the kernel of `isa` (which this CPU must support).
    pub fn pack_for(&mut self, isa: Isa, tb: bool, k: usize, n: usize, b: &[T], ldb: usize) {
        let g = Gemm { ta: false, tb, m: 0, n, k, lda: 0, ldb, ldc: n };
        assert!(b.len() >= g.b_len(), "PackedB: b has {} elements, needs {}", b.len(), g.b_len());
        assert!(isa.available(), "PackedB: the {} kernel is not supported by this CPU or build", isa.name());
        let nr = T::with_kernel(isa, StripWidth);
        self.k = k;
        self.n = n;
        self.isa = isa;
        self.nr = nr;
        self.data.clear();
        let mut scratch = Vec::new();
        let mut jc = 0;
        while jc < n {
            let nc = NC.min(n - jc);
            let mut pc = 0;
            while pc < k {
                let kc = KC.min(k - pc);
                unsafe { pack_b(g, b.as_ptr(), pc, kc, jc, nc, nr, &mut scratch) };
                self.data.extend_from_slice(&scratch[..nc.div_ceil(nr) * kc * nr]);
                pc += kc;
            }
            jc += nc;
        }
    }
    /// Offset of the panel of block (jc, pc), in the order `pack` wrote them.
    fn offset(&self, jc: usize, pc: usize) -> usize {
        let nr = self.nr;
        let mut off = 0;
        let mut j = 0;
        while j < jc {
            let nc = NC.min(self.n - j);
            off += nc.div_ceil(nr) * nr * self.k;
            j += nc;
        }
        let nc = NC.min(self.n - jc);
        off + nc.div_ceil(nr) * nr * pc
    }
}

impl<T: GemmFloat> Default for PackedB<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The blocked loops over a `PackedB`'s panels with the kernel it was packed for.
struct OverPacked<'p, T> {
    g: Gemm,
    alpha: T,
    a: *const T,
    c: *mut T,
    pb: &'p PackedB<T>,
}

impl<T: GemmFloat> KernelUser<T> for OverPacked<'_, T> {
    type Out = ();
    fn run<K: Kernel<T>>(self) {
        let OverPacked { g, alpha, a, c, pb } = self;
        debug_assert_eq!(K::NR, pb.nr);
        unsafe { blocked::<T, K>(g, alpha, a, c, None, |jc, pc, _kc, _nc, _buf: &mut Vec<T>| pb.data.as_ptr().add(pb.offset(jc, pc))) }
    }
}

/// `C[m, n] += alpha · op(A)[m, k] · B` with B pre-packed, on the calling thread, with the kernel
/// B was packed for. `a`: `[m, k]` (lda) or, with `ta`, `[k, m]`; `c`: `[m, n]` (ldc).
#[allow(clippy::too_many_arguments)]
pub fn gemm_packed_st<T: GemmFloat>(ta: bool, m: usize, a: &[T], lda: usize, pb: &PackedB<T>, alpha: T, c: &mut [T], ldc: usize) {
    let g = Gemm { ta, tb: false, m, n: pb.n, k: pb.k, lda, ldb: pb.n, ldc };
    assert!(a.len() >= g.a_len(), "gemm_packed: a has {} elements, needs {}", a.len(), g.a_len());
    assert!(c.len() >= g.c_len(), "gemm_packed: c has {} elements, needs {}", c.len(), g.c_len());
    if m == 0 || pb.n == 0 || pb.k == 0 || alpha == T::zero() {
        return;
    }
    #[cfg(feature = "bench")]
    let _prof = super::prof::scope(&g, true);
    T::with_kernel(pb.isa, OverPacked { g, alpha, a: a.as_ptr(), c: c.as_mut_ptr(), pb })
}
