//! Dense layers, embedding, the VAE's latent plumbing and the losses.
//!
//! Conventions: tensors are row-major; `B` batch, `T` steps, `Z` latent size. Backward
//! functions OVERWRITE their outputs, except where stated: `embedding_backward` and the
//! gradients of `gaussian_kl` ADD into theirs. Losses are accumulated in `f64` in a fixed order
//! and returned as `f64`; their gradients are `scale · ∂loss/∂input` (pass the loss weight, e.g.
//! `β` for the KL, as `scale`).
//!
//! Files: `linear` (dense and tanh layers), `embedding`, `latent` (reparameterisation, latent
//! repeated or concatenated over time), `kl` (the Gaussian KL), `recon` (reconstruction losses:
//! squared error, softmax cross-entropy; per batch and per sequence).

mod embedding;
mod kl;
mod latent;
mod linear;
mod recon;
#[cfg(test)]
mod tests;

pub use embedding::{embedding_backward, embedding_forward};
pub use kl::{gaussian_kl, gaussian_kl_per_sequence};
pub use latent::{
    concat_time_latent, concat_time_latent_backward, reparameterize, reparameterize_backward, repeat_time, repeat_time_backward,
};
pub use linear::{linear_backward, linear_forward, tanh_backward, tanh_forward};
pub use recon::{mse_per_sequence, mse_recon, softmax_xent, xent_per_sequence};
