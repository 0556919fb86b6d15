// A fixed-seed training run, shared by the Node tests and the browser suite: the same build must give
// the same loss curve to the last bit in Node and in Chromium (and on 1 and 2 threads).
export const FIXED_RUN_BUILD = 'simd-mt';

export function fixedData(n = 48, T = 12, D = 3) {
  const data = new Float32Array(n * T * D);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++) data[(b * T + t) * D + d] = Math.fround(Math.sin(0.37 * t * (d + 1) + 0.11 * b) * (1 + 0.1 * d));
  return { data, shape: [n, T, D] };
}

/** Trains a small model with seed 7 and returns every batch loss and the final weights' bytes, hex-hashed. */
export async function fixedRun(lv) {
  const m = new lv.LstmVae({ features: 3, hidden: 20, latent: 4, layers: 2, seed: 7 });
  const losses = [];
  await m.fit(fixedData(), {
    epochs: 6,
    batchSize: 16,
    learningRate: 1e-2,
    onBatchEnd: (s) => {
      losses.push(s.loss);
    },
  });
  const sd = m.stateDict();
  let h = 2166136261 >>> 0;
  for (const k of Object.keys(sd).sort()) {
    const bytes = new Uint8Array(sd[k].data.buffer);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  }
  m.dispose();
  return { losses, weightsHash: h.toString(16) };
}
