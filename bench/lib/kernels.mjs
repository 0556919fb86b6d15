// Kernel benchmarks in this (Node) process:
// - matmul GFLOP/s at 256³ and 512³ for a scalar build of the same code (built for the comparison
//   only), simd on 1 thread, simd-mt and relaxed-mt on 1 and 2 threads (through the package's
//   matmul, copies included), and the register-only multiply-add ceiling (peak loop) on 1 and 2 threads;
// - sgemm GFLOP/s at the LSTM's gate-product shapes (M = B, N = 4H, K = I + H; C = A·Wᵀ with W
//   [4H, K] as the weights are stored), calling the kernel directly on buffers in wasm memory (no
//   copies), for every build and thread count, beside TF.js wasm's matMul at the same shapes.
// The peak loop and ndarray's matmul are not in the shipped builds: the sections that call them load
// `<build>-bench` (the same kernels with the crate's `bench` feature; scalar always has it), built
// on first use by scripts/build-wasm.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { lstmGemmShapes } from './configs.mjs';
import { median } from './stats.mjs';

const STACK = 1 << 20;

const raw = new Map();

/** Builds (or finds up to date) the named wasm variants, e.g. `simd-bench` (scripts/build-wasm skips fresh ones). */
function ensureBuilds(root, builds, log = () => {}) {
  const missing = builds.filter((b) => !existsSync(`${root}/build/wasm/${b}/lstm_vae_kernels_bg.wasm`));
  if (missing.length) log(`building ${missing.join(', ')} (once)`);
  execFileSync('bash', [`${root}/scripts/build-wasm`, ...builds], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * A build loaded directly (its wasm-bindgen glue), with a pool of 2 threads for the threaded builds;
 * loaded once per process (the glue module instantiates once), `set_threads` picks 1 or 2.
 */
export function loadRaw(root, build) {
  if (!raw.has(build)) raw.set(build, loadRawOnce(root, build, /-mt(-bench)?$/.test(build) ? 2 : 1));
  return raw.get(build);
}

/** Ends the pools of every build loaded with loadRaw. */
export async function disposeRaw() {
  for (const p of raw.values()) (await p).dispose();
  raw.clear();
}

async function loadRawOnce(root, build, threads) {
  const glue = await import(`${root}/build/wasm/${build}/lstm_vae_kernels.js`);
  const module = await WebAssembly.compile(readFileSync(`${root}/build/wasm/${build}/lstm_vae_kernels_bg.wasm`));
  const threaded = /-mt(-bench)?$/.test(build);
  const ex = threaded ? glue.initSync({ module, thread_stack_size: STACK }) : glue.initSync({ module });
  const workers = [];
  if (threaded) {
    // the package's kernel-thread script (dist/worker.node.js) instantiates the same module over the
    // memory; a -bench build (not in the package) has its own glue, loaded by ./worker.mjs
    const script = build.endsWith('-bench') ? new URL('./worker.mjs', import.meta.url) : `${root}/dist/worker.node.js`;
    for (let i = 1; i < threads; i++) {
      workers.push(
        await new Promise((ok, fail) => {
          const w = new Worker(script, { workerData: { root, build, module, memory: ex.memory, stackSize: STACK } });
          w.once('error', fail);
          w.once('message', (m) => (m === 'ready' ? ok(w) : fail(new Error(String(m)))));
        }),
      );
    }
    glue.pool_prepare(threads);
  }
  return {
    glue,
    memory: ex.memory,
    dispose: () => {
      for (const w of workers) w.terminate();
    },
  };
}

/** GFLOP/s of C = op(A)·op(B) with the kernel on wasm buffers, median of `reps` timings of ≥ 20 ms. */
function sgemmRate(glue, { M, N, K, tb = false }, { reps }) {
  const a = glue.alloc_f32(M * K),
    b = glue.alloc_f32(K * N),
    c = glue.alloc_f32(M * N);
  const f = () => glue.sgemm(false, tb, M, N, K, 1, a, K, b, tb ? K : N, 0, c, N);
  const rates = Array.from({ length: reps }, () => (2 * M * N * K) / timeCall(f, 20) / 1e9);
  glue.free_f32(a, M * K);
  glue.free_f32(b, K * N);
  glue.free_f32(c, M * N);
  return median(rates);
}

function peakRate(glue, tasks, reps) {
  const iters = 2_000_000;
  const times = [];
  let flops = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    flops = tasks > 1 ? glue.peak_loop_parallel(iters, tasks) : glue.peak_loop(iters, 0.5);
    times.push(performance.now() - t0);
  }
  return flops / median(times) / 1e6;
}

/** The matmul / peak-loop section (as before this benchmark grew): rows per build and threads. */
export async function matmulSection(root, pkg, { quick, log = () => {} }) {
  const reps = quick ? 3 : 15;
  ensureBuilds(root, ['scalar', 'simd-bench', 'simd-mt-bench', 'relaxed-mt-bench'], log);
  const rows = [];
  for (const build of ['scalar', 'simd']) {
    const { glue } = await loadRaw(root, build === 'simd' ? 'simd-bench' : build);
    rows.push({
      build,
      threads: 1,
      gemm256: sgemmRate(glue, { M: 256, N: 256, K: 256 }, { reps }),
      gemm512: sgemmRate(glue, { M: 512, N: 512, K: 512 }, { reps }),
      peak: peakRate(glue, 1, reps),
    });
  }
  for (const build of ['simd-mt', 'relaxed-mt']) {
    await pkg.dispose();
    const info = await pkg.init({ build, threads: 2 });
    for (const t of [1, 2]) {
      pkg.setThreads(t);
      const rate = (n) => {
        const A = { data: new Float32Array(n * n).fill(0.5), shape: [n, n] };
        const times = [];
        for (let r = 0; r < reps + 2; r++) {
          const t0 = performance.now();
          pkg.matmul(A, A);
          times.push(performance.now() - t0);
        }
        return (2 * n ** 3) / median(times.slice(2)) / 1e6;
      };
      rows.push({ build, threads: t, gemm256: rate(256), gemm512: rate(512), peak: null, features: info.features });
    }
  }
  await pkg.dispose();
  // peak loop of the threaded builds, on the raw kernels (their -bench builds) with a pool of 2
  for (const build of ['simd-mt', 'relaxed-mt']) {
    const { glue } = await loadRaw(root, `${build}-bench`);
    for (const t of [1, 2]) {
      glue.set_threads(t);
      const row = rows.find((r) => r.build === build && r.threads === t);
      row.peak = peakRate(glue, t, reps);
    }
  }
  return { reps, rows };
}

/** sgemm at the LSTM shapes for each build and thread count (raw kernels), and TF.js wasm matMul. */
export async function lstmGemmSection(root, { quick, tfjs }) {
  const reps = quick ? 3 : 9;
  const shapes = lstmGemmShapes();
  const rows = shapes.map((s) => ({ ...s, rates: {} }));
  for (const [build, threads] of [
    ['simd', [1]],
    ['simd-mt', [1, 2]],
    ['relaxed-mt', [1, 2]],
  ]) {
    const { glue } = await loadRaw(root, build);
    for (const r of rows) {
      const { M, N, K } = r;
      const a = glue.alloc_f32(M * K),
        b = glue.alloc_f32(K * N),
        c = glue.alloc_f32(M * N);
      // timings of ≥ 15–40 ms: a sub-millisecond one mostly measures how fast a sleeping worker wakes
      const [got] = interleaved(glue, threads, [() => glue.sgemm(false, true, M, N, K, 1, a, K, b, K, 0, c, N)], {
        pairs: reps,
        minMs: quick ? 15 : 40,
        warmMs: quick ? 30 : 100,
      });
      for (const t of threads) r.rates[`${build}/${t}`] = median(got[t].map((sec) => (2 * M * N * K) / sec / 1e9));
      glue.free_f32(a, M * K);
      glue.free_f32(b, K * N);
      glue.free_f32(c, M * N);
    }
  }
  if (tfjs) {
    // TF.js wasm (one thread in Node): tf.matMul(a, w, false, true) with the result read back
    const { tf } = await tfjs.loadTfjs();
    await tf.setBackend('wasm');
    await tf.ready();
    const rate = (r, f) => {
      const inner = Math.max(1, Math.round(2e7 / (2 * r.M * r.N * r.K)));
      const times = [];
      for (let i = 0; i < reps + 2; i++) {
        const t0 = performance.now();
        for (let j = 0; j < inner; j++) {
          const c = f();
          c.dataSync();
          c.dispose();
        }
        times.push((performance.now() - t0) / inner);
      }
      return (2 * r.M * r.N * r.K) / median(times.slice(2)) / 1e6;
    };
    for (const r of rows) {
      const a = tf.randomNormal([r.M, r.K]),
        w = tf.randomNormal([r.N, r.K]),
        wt = tf.transpose(w);
      r.rates['tfjs-wasm/1'] = rate(r, () => tf.matMul(a, w, false, true));
      r.ratesNN = { 'tfjs-wasm/1': rate(r, () => tf.matMul(a, wt)) };
      tf.dispose([a, w, wt]);
    }
  }
  return { reps, rows };
}

/** Runs `fn` until `ms` milliseconds have passed (warms up both threads' code and caches). */
function warm(ms, fn) {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) fn();
}

/** Seconds per call of `fn`, repeated until at least `minMs` elapse. */
function timeCall(fn, minMs) {
  fn();
  let n = 0;
  const t0 = performance.now();
  let dt = 0;
  do {
    fn();
    n++;
    dt = performance.now() - t0;
  } while (dt < minMs);
  return dt / 1000 / n;
}

/**
 * Seconds per call of each of `fns` on each thread count, measured in `pairs` rounds that visit the
 * thread counts in turn (a neighbour taking a core then hits every count of a round alike), after
 * `warmMs` of warm-up on the most threads. Returns times[fnIndex][threads] = seconds[].
 */
function interleaved(glue, threads, fns, { pairs, minMs, warmMs }) {
  glue.set_threads(Math.max(...threads));
  warm(warmMs, () => fns.forEach((f) => f()));
  const times = fns.map(() => Object.fromEntries(threads.map((t) => [t, []])));
  for (let i = 0; i < pairs; i++) {
    for (const t of threads) {
      glue.set_threads(t);
      fns.forEach((f, k) => times[k][t].push(timeCall(f, minMs)));
    }
  }
  return times;
}

/**
 * Thread scaling measured in interleaved pairs, so that a neighbour taking a core hits both halves
 * of a pair: for each threaded build, after a warm-up on 2 threads, `pairs` times: sgemm 512³ on 1
 * and on 2 threads, then the peak loop on 1 and 2 threads. Reports median GFLOP/s and the median of
 * the per-pair 2-thread/1-thread ratios for both, and the sgemm's scaling as a share of the peak
 * loop's own. The single-threaded simd build gives the 1-thread sgemm / peak share.
 */
export async function scalingSection(root, { quick }) {
  const pairs = quick ? 7 : 21;
  const n = 512,
    flop = 2 * n ** 3;
  const rows = [];
  ensureBuilds(root, ['simd-bench', 'simd-mt-bench', 'relaxed-mt-bench']);
  for (const build of ['simd', 'simd-mt', 'relaxed-mt']) {
    // the -bench build: the same sgemm, plus the peak loop
    const { glue } = await loadRaw(root, `${build}-bench`);
    const threads = build.endsWith('-mt') ? [1, 2] : [1];
    const a = glue.alloc_f32(n * n),
      b = glue.alloc_f32(n * n),
      c = glue.alloc_f32(n * n);
    const gemm = () => glue.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
    // the peak loop on every thread the kernels may use now (1M iterations of 96 flops each)
    const peak = () => (threads.length > 1 ? glue.peak_loop_parallel(1_000_000, glue.threads()) : glue.peak_loop(1_000_000, 0.5));
    const [s, p] = interleaved(glue, threads, [gemm, peak], { pairs, minMs: quick ? 40 : 80, warmMs: quick ? 500 : 1500 });
    glue.free_f32(a, n * n);
    glue.free_f32(b, n * n);
    glue.free_f32(c, n * n);
    const gf = (sec, x) => x / sec / 1e9;
    const row = { build, sgemm1: median(s[1].map((x) => gf(x, flop))), peak1: median(p[1].map((x) => gf(x, 96e6))) };
    row.share1 = row.sgemm1 / row.peak1;
    if (threads.length > 1) {
      Object.assign(row, {
        sgemm2: median(s[2].map((x) => gf(x, flop))),
        peak2: median(p[2].map((x) => gf(x, 2 * 96e6))),
        sgemmScaling: median(s[1].map((x, i) => x / s[2][i])),
        peakScaling: median(p[1].map((x, i) => (2 * x) / p[2][i])),
      });
      row.scalingShare = row.sgemmScaling / row.peakScaling;
    }
    rows.push(row);
  }
  return { pairs, rows };
}

/**
 * ndarray's `general_mat_mul` (the matrixmultiply crate) beside our sgemm, single thread (simd
 * build), C = A·B with both in row-major [M,K]·[K,N], at the LSTM shapes and 512³.
 */
export async function matrixmultiplySection(root, { quick }) {
  ensureBuilds(root, ['simd-bench']);
  const { glue } = await loadRaw(root, 'simd-bench');
  const minMs = quick ? 20 : 60,
    reps = quick ? 3 : 7;
  const shapes = [...lstmGemmShapes(), { M: 512, N: 512, K: 512 }];
  const rows = [];
  for (const { M, N, K, B, H } of shapes) {
    const a = glue.alloc_f32(M * K),
      b = glue.alloc_f32(K * N),
      c = glue.alloc_f32(M * N);
    const ours = () => glue.sgemm(false, false, M, N, K, 1, a, K, b, N, 0, c, N);
    const mm = () => glue.sgemm_matrixmultiply(M, N, K, a, b, c);
    const o = [],
      m = [];
    for (let r = 0; r < reps; r++) {
      o.push((2 * M * N * K) / timeCall(ours, minMs) / 1e9);
      m.push((2 * M * N * K) / timeCall(mm, minMs) / 1e9);
    }
    glue.free_f32(a, M * K);
    glue.free_f32(b, K * N);
    glue.free_f32(c, M * N);
    rows.push({ M, N, K, B, H, ours: median(o), matrixmultiply: median(m) });
  }
  return { reps, rows };
}

/** The LSTM layer: B = 64, T = 64, I = 8, H = 128, forward + backward (BPTT), all gradients. */
export const LSTM_LAYER = { B: 64, T: 64, I: 8, H: 128 };

/**
 * One LSTM layer forward + backward on the raw kernels (buffers in wasm memory, no copies), per
 * build and thread count (1 and 2 interleaved in pairs). GFLOP/s counts the products only: forward
 * 2·B·T·4H·(I + H), backward twice that (input/recurrent gradients and weight gradients).
 */
export async function lstmLayerSection(root, { quick }) {
  const { B, T, I, H } = LSTM_LAYER;
  const flop = 3 * 2 * B * T * 4 * H * (I + H);
  const pairs = quick ? 5 : 15;
  const rows = [];
  for (const build of ['simd', 'simd-mt', 'relaxed-mt']) {
    const { glue, memory } = await loadRaw(root, build);
    const sizes = {
      x: B * T * I,
      wih: 4 * H * I,
      whh: 4 * H * H,
      bih: 4 * H,
      bhh: 4 * H,
      hs: B * T * H,
      cs: B * T * H,
      g: B * T * 4 * H,
      hl: B * H,
      cl: B * H,
      dhs: B * T * H,
      dx: B * T * I,
      dwih: 4 * H * I,
      dwhh: 4 * H * H,
      dbih: 4 * H,
      dbhh: 4 * H,
    };
    const p = Object.fromEntries(Object.entries(sizes).map(([k, len]) => [k, glue.alloc_f32(len)]));
    // small random weights and inputs, so the gates are not saturated
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.2;
    for (const k of ['x', 'wih', 'whh', 'bih', 'bhh', 'dhs'])
      new Float32Array(memory.buffer, p[k], sizes[k]).forEach((_, j, arr) => {
        arr[j] = rnd();
      });
    const step = () => {
      glue.lstm_forward(B, T, I, H, p.x, 0, p.wih, p.whh, p.bih, p.bhh, 0, 0, p.hs, p.cs, p.g, p.hl, p.cl);
      glue.lstm_backward(B, T, I, H, p.x, 0, p.wih, p.whh, 0, 0, p.hs, p.cs, p.g, p.dhs, 0, 0, p.dx, 0, 0, p.dwih, p.dwhh, p.dbih, p.dbhh);
    };
    const threads = build.endsWith('-mt') ? [1, 2] : [1];
    const [s] = interleaved(glue, threads, [step], { pairs, minMs: quick ? 60 : 150, warmMs: quick ? 300 : 1000 });
    for (const [k, len] of Object.entries(sizes)) glue.free_f32(p[k], len);
    for (const t of threads) {
      const sec = median(s[t]);
      rows.push({
        build,
        threads: t,
        seqPerS: B / sec,
        gflops: flop / sec / 1e9,
        ...(t === 2 ? { scaling: median(s[1].map((x, i) => x / s[2][i])) } : {}),
      });
    }
  }
  return { ...LSTM_LAYER, pairs, flop, rows };
}
