//! The micro-tile's shape and the trait of the GEMM's element types (implemented in `kernel`).

/// Rows of the GEMM micro-tile (rows of C computed at once).
pub const MR: usize = 4;
/// Columns of the GEMM micro-tile (two simd128 vectors of f32).
pub const NR: usize = 8;

/// An element type of the GEMM: the arithmetic plus this type's micro-kernel and packing scratch.
pub trait GemmFloat: num_traits::Float + Default + Send + Sync + std::fmt::Debug + 'static {
    /// The MR×NR micro-kernel: `tile[r*NR + j] = Σ_p A(r, p) · B(p, j)` for `p < kc`, summed in
    /// increasing `p` (the order is fixed, whatever the threads and wherever A and B are read from),
    /// with `A(r, p) = a[r*a_rs + p*a_cs]` and `B(p, j) = b[p*b_cs + j]`: packed strips
    /// (`a_rs = 1, a_cs = MR`, `b_cs = NR`) or rows of the operands in place (`a_rs = lda, a_cs = 1`,
    /// `b_cs = ldb`).
    ///
    /// # Safety
    /// Every `A(r, p)` and `B(p, j)` for `r < MR`, `j < NR`, `p < kc` must be readable.
    unsafe fn micro_kernel(kc: usize, a: *const Self, a_rs: usize, a_cs: usize, b: *const Self, b_cs: usize, tile: &mut [Self; MR * NR]);

    /// Runs `f` with this thread's two packing buffers (kept between calls: no allocation
    /// once they have grown to the largest block).
    fn with_pack_buffers<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R;
}
