//! x86-64 AVX-512F micro-kernel for f32: an 8×32 tile (16 accumulators of 16 lanes, two loads of B
//! and eight broadcasts of A per step of `p`), fused multiply-add. `Avx512` is the kernel
//! (`Isa::Avx512`); `peak` its FMA peak loop. Written by `element::x86_kernel`.

super::element::x86_kernel!(
    Avx512,
    "avx512f",
    __m512,
    16,
    8,
    2,
    64,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_mul_ps
);
