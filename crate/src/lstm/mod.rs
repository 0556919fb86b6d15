//! One LSTM layer, forward and backward through time (PyTorch `nn.LSTM` convention, gate order
//! i, f, g, o; batch-major tensors). Stacked LSTMs chain layers: layer k's `h_seq` is layer
//! k+1's `x`, and layer k+1's `dx` is layer k's `dh_seq`.
//!
//! Shapes: `B` batch, `T` steps, `I` input size, `H` hidden size.
//!
//! Variable lengths (`lengths[b]` in `1..=T`): steps `t >= lengths[b]` freeze the state
//! (`h_t = h_{t-1}`, `c_t = c_{t-1}`), so `h_seq[b, t]` for those steps repeats the state of the
//! last real step, and the final state is the state at step `lengths[b] - 1` (what PyTorch's
//! `pack_padded_sequence` gives for `h_n`). In backward, gradients pass through frozen steps
//! unchanged and those steps contribute nothing to the weight gradients or to `dx`.
//!
//! Work per call: one GEMM for the input projections of all steps, one small GEMM per step for
//! the recurrence (on strided rows of `h_seq` and `gates`, no copies), and a fused elementwise
//! pass per step split over batch rows between threads. Backward does one small GEMM per step
//! and the weight and input gradients as three large GEMMs after the time loop. Results are
//! bit-identical for any number of threads. Nothing is allocated inside the time loop.
//!
//! Files: `types` (the argument and result structs, the backward workspace), `forward`,
//! `backward`, `row` (the recurrence of a batch of one).

mod backward;
mod forward;
mod row;
#[cfg(test)]
mod tests;
mod types;

pub use backward::lstm_backward;
pub use forward::lstm_forward;
pub use types::{LstmCache, LstmFwd, LstmGrads, LstmOut, LstmWorkspace};
