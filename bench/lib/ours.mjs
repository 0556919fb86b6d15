// Our package's LSTM-VAE throughput (plain ES module: the caller passes the loaded package, so the
// same code runs in Node, Bun, Deno and a browser Worker).
import { summarize, timeSteps } from './stats.mjs';

/** x[i] = sin(0.01 i), the same signal as the TF.js baseline. */
export function inputData(B, T, D) {
  const x = new Float32Array(B * T * D);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.01);
  return x;
}

/**
 * Measures training (lossAndGradientsInPlace + Adam step) or inference (encode, then decode from the
 * posterior mean) of one configuration on the loaded build with `threads` threads.
 */
export async function runOurs({
  pkg,
  config,
  mode = 'train',
  threads = 1,
  steps,
  warmup = 1,
  budgetMs,
  minSteps,
  maxSteps,
  cpuNow,
  onStep,
}) {
  const info = pkg.backendInfo();
  if (info.threads > 1 || threads > 1) pkg.setThreads(threads);
  const { B, T, D, H, Z } = config;
  const model = new pkg.LstmVae({ features: D, hidden: H, latent: Z, seed: 1 });
  const opt = new pkg.Optimizer('adam');
  const x = { data: inputData(B, T, D), shape: [B, T, D] };
  const step =
    mode === 'train'
      ? () => {
          model.lossAndGradientsInPlace(x);
          opt.step(model);
        }
      : () => {
          const { mu } = model.encode(x);
          model.decode({ data: mu, shape: [B, Z] }, T);
        };
  let m;
  try {
    m = await timeSteps(step, { steps, warmup, budgetMs, minSteps, maxSteps, cpuNow, onStep });
  } finally {
    model.dispose();
    opt.dispose();
  }
  return {
    library: 'lstm-vae',
    build: info.build,
    threads,
    features: info.features,
    mode,
    config,
    ...summarize(m.times, B, m.cpu),
    wasmMemoryBytes: pkg.memoryBytes(),
  };
}

/**
 * Per-call cost of the package's entry points at a tiny size (B = 1, T = 1, D = H = Z = 1): what a
 * call costs besides the arithmetic (argument checks, copies, wasm calls, buffer look-ups).
 */
export async function callOverhead({ pkg, threads = 1 }) {
  const info = pkg.backendInfo();
  if (info.threads > 1 || threads > 1) pkg.setThreads(threads);
  const m = new pkg.LstmVae({ features: 1, hidden: 1, latent: 1, seed: 1 });
  const opt = new pkg.Optimizer('adam');
  const x = { data: new Float32Array([0.5]), shape: [1, 1, 1] };
  const z = { data: new Float32Array([0.1]), shape: [1, 1] };
  const a = { data: new Float32Array([1]), shape: [1, 1] };
  const per = (f, n = 2000) => {
    for (let i = 0; i < 200; i++) f();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    return ((performance.now() - t0) / n) * 1000; // µs per call
  };
  const out = {
    build: info.build,
    threads,
    lossAndGradientsInPlaceUs: per(() => m.lossAndGradientsInPlace(x)),
    optimizerStepUs: per(() => opt.step(m)),
    encodeUs: per(() => m.encode(x)),
    decodeUs: per(() => m.decode(z, 1)),
    matmul1x1Us: per(() => pkg.matmul(a, a)),
  };
  m.dispose();
  opt.dispose();
  return out;
}
