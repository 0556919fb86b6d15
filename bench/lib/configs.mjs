// The benchmark's model sizes (the S, M, L) and their floating-point work.

export const CONFIGS = {
  S: { name: 'S', B: 32, T: 32, D: 4, H: 64, Z: 8 },
  M: { name: 'M', B: 64, T: 64, D: 8, H: 128, Z: 16 },
  L: { name: 'L', B: 128, T: 128, D: 16, H: 256, Z: 32 },
};

/**
 * Multiply-add work of one LSTM-VAE batch (one layer each side, repeat decoder), in FLOPs (2 per
 * multiply-add), counting the matrix products only (gates, heads, output layer):
 * forward = 2·B·T·4H·((D + H) + (Z + H)) + 2·B·H·2Z + 2·B·T·H·D; a training step is forward plus the
 * backward products (input and weight gradients, 2× forward), so 3× forward. Inference (encode +
 * decode through the mean) is the forward without the reparameterisation.
 */
export function flops({ B, T, D, H, Z }) {
  const forward = 2 * B * T * 4 * H * (D + H + (Z + H)) + 2 * B * H * 2 * Z + 2 * B * T * H * D;
  return { forward, train: 3 * forward, infer: forward };
}

/** GEMM shapes of the LSTM gate products: M = B, N = 4H, K = I + H (I = D of the configuration with that H). */
export function lstmGemmShapes() {
  const out = [];
  for (const B of [32, 64, 128])
    for (const [H, I] of [
      [64, 4],
      [128, 8],
      [256, 16],
    ])
      out.push({ M: B, N: 4 * H, K: I + H, B, H, I });
  return out;
}
