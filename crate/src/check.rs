//! Argument checks shared by the kernels. A failed check panics with a message naming the kernel
//! and the argument (the TypeScript side checks first and raises typed errors; these guard
//! against bugs there and against misuse from Rust).

/// Panics unless `got == want`: "`{name}: {arg} is {got:?}, expected {want:?}`".
pub(crate) fn dims_eq<D: PartialEq + std::fmt::Debug>(name: &str, arg: &str, got: D, want: D) {
    assert!(got == want, "{name}: {arg} is {got:?}, expected {want:?}");
}

/// Checks per-sequence lengths: `lengths` (when given) has `b` entries, each in `min_len..=t`.
/// The rule differs by caller, so each passes its own `min_len`: the LSTM needs `1` (a frozen
/// step repeats the state of a real one before it), the losses accept `0` (an empty sequence
/// adds nothing).
pub(crate) fn check_lengths(name: &str, lengths: Option<&[u32]>, b: usize, t: usize, min_len: u32) {
    if let Some(l) = lengths {
        assert_eq!(l.len(), b, "{name}: lengths has {} entries, the batch is {b}", l.len());
        for (i, &v) in l.iter().enumerate() {
            assert!(v >= min_len && v as usize <= t, "{name}: lengths[{i}] = {v} is not in {min_len}..={t}");
        }
    }
}

/// Panics unless a buffer has `n` elements: "`{name}: {arg} has {got} elements, the parameters have {n}`".
pub(crate) fn check_len(name: &str, arg: &str, n: usize, got: usize) {
    assert_eq!(got, n, "{name}: {arg} has {got} elements, the parameters have {n}");
}
