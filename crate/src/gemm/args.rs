//! The arguments of one GEMM call (shapes, transposes, leading dimensions) and the number of
//! elements each operand spans.

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

pub(crate) fn span(rows: usize, cols: usize, ld: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * ld + cols
    }
}
