//! The reductions the kernels share, each in one fixed order of operations (results are
//! bit-identical only because every caller sums in the order written here).

use std::ops::Add;

/// `Σ f(v[i])` with 8 interleaved partial sums: lane `l` takes `i ≡ l (mod 8)` over the whole
/// chunks of 8, the tail `v[8q..]` goes to lanes `0..`, and the lanes are combined pairwise:
/// `((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))`. Vectorises; `A` may be wider than `T`
/// (e.g. squares summed in f64).
#[inline(always)]
pub(crate) fn sum8_by<T: Copy, A: Copy + Add<Output = A>>(v: &[T], zero: A, f: impl Fn(T) -> A) -> A {
    let mut acc = [zero; 8];
    let mut it = v.chunks_exact(8);
    for c in &mut it {
        for k in 0..8 {
            acc[k] = acc[k] + f(c[k]);
        }
    }
    for (k, &r) in it.remainder().iter().enumerate() {
        acc[k] = acc[k] + f(r);
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// `Σ v[i]` in the order of `sum8_by`.
#[inline]
pub(crate) fn sum8<T: Copy + Add<Output = T> + num_traits::Zero>(v: &[T]) -> T {
    sum8_by(v, T::zero(), |x| x)
}

/// `max v[i]` with 8 interleaved running maxima (NaN-free inputs; `-inf` for an empty slice).
#[inline]
pub(crate) fn max8<T: num_traits::Float>(v: &[T]) -> T {
    let mut acc = [T::neg_infinity(); 8];
    let mut it = v.chunks_exact(8);
    for c in &mut it {
        for k in 0..8 {
            acc[k] = if c[k] > acc[k] { c[k] } else { acc[k] };
        }
    }
    for (k, &r) in it.remainder().iter().enumerate() {
        acc[k] = if r > acc[k] { r } else { acc[k] };
    }
    acc.iter().fold(T::neg_infinity(), |m, &a| if a > m { a } else { m })
}

/// `out[j] = Σ_r m[r*width + j]`, rows summed in increasing order (bias gradients).
pub(crate) fn column_sums<T: Copy + Add<Output = T> + num_traits::Zero>(m: &[T], width: usize, out: &mut [T]) {
    out.fill(T::zero());
    if width == 0 {
        return;
    }
    for row in m.chunks_exact(width) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = *o + v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_the_documented_ones() {
        let v: Vec<f32> = (0..19).map(|i| 1.0 / (i as f32 + 1.0) * if i % 3 == 0 { -1e4 } else { 1.0 }).collect();
        let mut l = [0.0f32; 8];
        for (i, &x) in v.iter().enumerate() {
            l[i % 8] += x;
        }
        let want = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        assert_eq!(sum8(&v).to_bits(), want.to_bits());
        assert_eq!(max8(&v), 0.5);
        let mut out = [0.0f32; 3];
        column_sums(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, &mut out);
        assert_eq!(out, [5.0, 7.0, 9.0]);
    }
}
