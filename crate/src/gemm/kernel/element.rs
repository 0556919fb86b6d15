//! The trait of the GEMM's element types and of the micro-kernels (implemented in `kernel`).

use super::isa::Isa;

/// A register micro-kernel for element type `T`: its MR×NR tile of C and the row block (MC, a
/// multiple of MR) that the blocked loops give it. Each instruction set has its own tile shape;
/// the packing, the blocked loops and the thread split take it from here.
pub trait Kernel<T: GemmFloat>: 'static {
    /// Rows of the tile (rows of C computed at once).
    const MR: usize;
    /// Columns of the tile.
    const NR: usize;
    /// Rows of a block of A (a multiple of MR).
    const MC: usize;

    /// `C(r, j) = C(r, j) + alpha · t(r, j)` for `r < mr ≤ MR`, `j < nr ≤ NR`, where
    /// `t(r, j) = Σ_p A(r, p) · B(p, j)` for `p < kc`, summed in increasing `p` (the order is
    /// fixed, whatever the threads and wherever A and B are read from), with
    /// `A(r, p) = a[r*a_rs + p*a_cs]`, `B(p, j) = b[p*b_cs + j]` and `C(r, j) = c[r*ldc + j]`:
    /// packed strips (`a_rs = 1, a_cs = MR`, `b_cs = NR`) or rows of the operands in place
    /// (`a_rs = lda, a_cs = 1`, `b_cs = ldb`). The update is a multiply then an add (when
    /// `alpha == 1`, an add), never fused, so that full and partial tiles round alike.
    ///
    /// # Safety
    /// Every `A(r, p)` and `B(p, j)` for `r < MR`, `j < NR`, `p < kc` must be readable, every
    /// `C(r, j)` for `r < mr`, `j < nr` writable, and the CPU must have the kernel's features.
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(
        kc: usize, a: *const T, a_rs: usize, a_cs: usize, b: *const T, b_cs: usize, c: *mut T, ldc: usize, alpha: T, mr: usize, nr: usize,
    );
}

/// Code generic over the micro-kernel, run with the kernel of an ISA by `GemmFloat::with_kernel`.
pub trait KernelUser<T: GemmFloat> {
    type Out;
    fn run<K: Kernel<T>>(self) -> Self::Out;
}

/// An element type of the GEMM: the arithmetic plus this type's micro-kernels and packing scratch.
pub trait GemmFloat: num_traits::Float + Default + Send + Sync + std::fmt::Debug + 'static {
    /// Runs `u` with this type's kernel for `isa` (f64 has only the portable one; f32 on x86-64
    /// has one per ISA). The caller makes sure the CPU has `isa` (`Isa::available`).
    fn with_kernel<U: KernelUser<Self>>(isa: Isa, u: U) -> U::Out;

    /// Runs `f` with this thread's two packing buffers (kept between calls: no allocation
    /// once they have grown to the largest block).
    fn with_pack_buffers<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R;
}

/// Adds a computed tile (`tile[r*nr_full + j]`) to C: `c + t` when `alpha == 1`, else
/// `c + alpha·t`, for `r < mr`, `j < nr` (the update `Kernel::tile` documents).
///
/// # Safety
/// `C(r, j)` for `r < mr`, `j < nr` must be writable.
#[inline(always)]
pub(crate) unsafe fn add_tile<T: GemmFloat>(tile: &[T], nr_full: usize, c: *mut T, ldc: usize, alpha: T, mr: usize, nr: usize) {
    for r in 0..mr {
        let crow = std::slice::from_raw_parts_mut(c.add(r * ldc), nr);
        let trow = &tile[r * nr_full..r * nr_full + nr];
        if alpha == T::one() {
            for j in 0..nr {
                crow[j] = crow[j] + trow[j];
            }
        } else {
            for j in 0..nr {
                crow[j] = crow[j] + alpha * trow[j];
            }
        }
    }
}

/// The tile loop of `Kernel::tile` with `R` rows and `V` vectors of `L` lanes per row, shared by
/// the x86 kernels: `acc[r][v] = fma(A(r, p), B(p, v·L..), acc[r][v])` in increasing `p`.
/// Written once as a macro over the vector type (each use sits inside its own
/// `#[target_feature]` function, so the intrinsics inline).
#[cfg(target_arch = "x86_64")]
macro_rules! x86_tile {
    ($vec:ty, $lanes:expr, $zero:ident, $load:ident, $store:ident, $splat:ident, $fma:ident, $add:ident, $mul:ident,
     $R:expr, $V:expr, $kc:ident, $a:ident, $a_rs:ident, $a_cs:ident, $b:ident, $b_cs:ident, $c:ident, $ldc:ident, $alpha:ident,
     $mr:ident, $nr:ident) => {{
        let mut acc: [[$vec; $V]; $R] = [[$zero(); $V]; $R];
        let mut ap = $a;
        let mut bp = $b;
        for _ in 0..$kc {
            let mut bv: [$vec; $V] = [$zero(); $V];
            for v in 0..$V {
                bv[v] = $load(bp.add(v * $lanes));
            }
            for r in 0..$R {
                let av = $splat(*ap.add(r * $a_rs));
                for v in 0..$V {
                    acc[r][v] = $fma(av, bv[v], acc[r][v]);
                }
            }
            ap = ap.add($a_cs);
            bp = bp.add($b_cs);
        }
        if $mr == $R && $nr == $V * $lanes {
            let al = $splat($alpha);
            for r in 0..$R {
                let crow = $c.add(r * $ldc);
                for v in 0..$V {
                    let cv = $load(crow.add(v * $lanes));
                    let t = if $alpha == 1.0 { acc[r][v] } else { $mul(al, acc[r][v]) };
                    $store(crow.add(v * $lanes), $add(cv, t));
                }
            }
        } else {
            let mut tile = [0.0f32; $R * $V * $lanes];
            for r in 0..$R {
                for v in 0..$V {
                    $store(tile.as_mut_ptr().add((r * $V + v) * $lanes), acc[r][v]);
                }
            }
            $crate::gemm::kernel::element::add_tile(&tile, $V * $lanes, $c, $ldc, $alpha, $mr, $nr);
        }
    }};
}
#[cfg(target_arch = "x86_64")]
pub(super) use x86_tile;

/// One x86 micro-kernel: its struct and `Kernel` impl (a packed strip of A with constant offsets,
/// or rows of A read in place), its unaligned load / store, and its FMA peak loop, for one vector
/// type and its intrinsics. `avx2` and `avx512` are one use each: they differ only in the vector
/// width, the tile shape and the target feature.
#[cfg(target_arch = "x86_64")]
macro_rules! x86_kernel {
    ($name:ident, $feature:literal, $vec:ty, $lanes:expr, $mr:expr, $vecs:expr, $mc:expr, $zero:ident, $loadu:ident,
     $storeu:ident, $splat:ident, $fma:ident, $add:ident, $mul:ident) => {
        use super::element::{x86_tile, Kernel};
        use core::arch::x86_64::*;

        pub struct $name;

        const MR: usize = $mr;
        const NR: usize = $vecs * $lanes;

        impl Kernel<f32> for $name {
            const MR: usize = MR;
            const NR: usize = NR;
            const MC: usize = $mc;

            #[inline(always)]
            unsafe fn tile(
                kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32,
                mr: usize, nr: usize,
            ) {
                if a_rs == 1 && a_cs == MR {
                    tile_packed(kc, a, b, b_cs, c, ldc, alpha, mr, nr)
                } else {
                    tile_any(kc, a, a_rs, a_cs, b, b_cs, c, ldc, alpha, mr, nr)
                }
            }
        }

        #[inline]
        #[target_feature(enable = $feature)]
        unsafe fn load(p: *const f32) -> $vec {
            $loadu(p)
        }
        #[inline]
        #[target_feature(enable = $feature)]
        unsafe fn store(p: *mut f32, v: $vec) {
            $storeu(p, v)
        }

        /// A packed strip of A (`a_rs = 1`, `a_cs = MR`: constant offsets).
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn tile_packed(
            kc: usize, a: *const f32, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize, nr: usize,
        ) {
            let (a_rs, a_cs) = (1usize, MR);
            x86_tile!(
                $vec, $lanes, $zero, load, store, $splat, $fma, $add, $mul, MR, $vecs, kc, a, a_rs, a_cs, b, b_cs, c, ldc, alpha, mr, nr
            )
        }

        /// Rows of A read in place (or any other strides).
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn tile_any(
            kc: usize, a: *const f32, a_rs: usize, a_cs: usize, b: *const f32, b_cs: usize, c: *mut f32, ldc: usize, alpha: f32, mr: usize,
            nr: usize,
        ) {
            x86_tile!(
                $vec, $lanes, $zero, load, store, $splat, $fma, $add, $mul, MR, $vecs, kc, a, a_rs, a_cs, b, b_cs, c, ldc, alpha, mr, nr
            )
        }

        /// `a·b + c` fused on the kernel's lanes (the peak loop's operation): `iters` rounds of 12
        /// independent chains; returns a sum of them all (so nothing is elided).
        ///
        /// # Safety
        /// The CPU must have the kernel's features (`Isa::available`).
        #[target_feature(enable = $feature)]
        pub unsafe fn peak(iters: u32, seed: f32) -> f32 {
            let m = $splat(0.999_999);
            let k = $splat(1e-7);
            let mut acc = [$splat(seed); 12];
            for _ in 0..iters {
                for v in acc.iter_mut() {
                    *v = $fma(*v, m, k);
                }
            }
            let mut s = $zero();
            for v in acc {
                s = $add(s, v);
            }
            let mut out = [0.0f32; $lanes];
            $storeu(out.as_mut_ptr(), s);
            out.iter().sum()
        }
    };
}
#[cfg(target_arch = "x86_64")]
pub(super) use x86_kernel;
