//! x86-64 AVX2 + FMA micro-kernel for f32: a 6×16 tile (12 accumulators of 8 lanes, two loads of B
//! and six broadcasts of A per step of `p`), fused multiply-add. `Avx2` is the kernel
//! (`Isa::Avx2`); `peak` its FMA peak loop. Written by `element::x86_kernel`.

super::element::x86_kernel!(
    Avx2,
    "avx2,fma",
    __m256,
    8,
    6,
    2,
    72,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_mul_ps
);
