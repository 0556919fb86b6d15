/** `n` seeded sine/cosine pairs of `T` steps: `{ data, shape: [n, T, 2] }` (smooth data a model can learn). */
export function sines(n: number, T: number, seed = 1) {
  const data = new Float32Array(n * T * 2);
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let b = 0; b < n; b++) {
    const ph = r() * 6.28,
      f = 0.2 + 0.2 * r();
    for (let t = 0; t < T; t++) {
      data[(b * T + t) * 2] = Math.sin(f * t + ph);
      data[(b * T + t) * 2 + 1] = Math.cos(f * t + ph);
    }
  }
  return { data, shape: [n, T, 2] };
}
