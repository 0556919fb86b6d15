#!/usr/bin/env node
// Benchmarks, in one run on this machine: matmul GFLOP/s at 256³ and 512³ for a scalar build of the
// same code (built for the comparison only), simd on 1 thread, simd-mt and relaxed-mt on 2 threads;
// the register-only multiply-add ceiling on 1 and 2 threads; LSTM-VAE training throughput (seq/s).
// Usage: node bench/run.mjs [--quick]. Writes bench/results/latest.json and prints a Markdown table.
// relaxed-mt on Node 20 needs --experimental-wasm-relaxed-simd: this script re-runs itself with it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const relaxedFlag = '--experimental-wasm-relaxed-simd';
if (process.versions.node.startsWith('20.') && !process.execArgv.includes(relaxedFlag)) {
  const r = spawnSync(process.execPath, [relaxedFlag, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
if (!existsSync(`${root}/build/wasm/scalar/lstm_vae_kernels_bg.wasm`)) {
  console.error('bench: building the scalar comparison build (once)');
  execFileSync('bash', [`${root}/scripts/build-wasm`, 'scalar'], { stdio: 'inherit' });
}
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const reps = quick ? 5 : 15;

async function loadRaw(build) {
  const glue = await import(`${root}/build/wasm/${build}/lstm_vae_kernels.js`);
  const module = await WebAssembly.compile(readFileSync(`${root}/build/wasm/${build}/lstm_vae_kernels_bg.wasm`));
  const ex = glue.initSync({ module });
  return { glue, mem: ex.memory };
}

function gemmRate(glue, n) {
  const a = glue.alloc_f32(n * n), b = glue.alloc_f32(n * n), c = glue.alloc_f32(n * n);
  const times = [];
  for (let r = 0; r < reps + 2; r++) {
    const t0 = performance.now();
    glue.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
    times.push(performance.now() - t0);
  }
  glue.free_f32(a, n * n); glue.free_f32(b, n * n); glue.free_f32(c, n * n);
  return (2 * n ** 3) / median(times.slice(2)) / 1e6;
}

function peakRate(glue, tasks) {
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

const rows = [];
// scalar and simd: single-threaded builds, loaded directly
for (const build of ['scalar', 'simd']) {
  const { glue } = await loadRaw(build);
  rows.push({ build, threads: 1, gemm256: gemmRate(glue, 256), gemm512: gemmRate(glue, 512), peak: peakRate(glue, 1) });
}
// threaded builds through the package (pool of 2)
const pkg = await import(`${root}/dist/index.node.js`);
for (const build of ['simd-mt', 'relaxed-mt']) {
  await pkg.dispose();
  const info = await pkg.init({ build, threads: 2 });
  for (const t of [1, 2]) {
    pkg.setThreads(t);
    const rate = (n) => {
      const A = { data: new Float32Array(n * n).fill(0.5), shape: [n, n] };
      const times = [];
      for (let r = 0; r < reps + 2; r++) { const t0 = performance.now(); pkg.matmul(A, A); times.push(performance.now() - t0); }
      return (2 * n ** 3) / median(times.slice(2)) / 1e6;
    };
    rows.push({ build, threads: t, gemm256: rate(256), gemm512: rate(512), peak: NaN, info: info.features });
  }
}
// LSTM-VAE training throughput through the package on the default build (config S and M of the issue)
await pkg.dispose();
const info = await pkg.init();
const train = [];
for (const [name, B, T, D, H, Z] of quick ? [['S', 32, 32, 4, 64, 8], ['M', 64, 64, 8, 128, 16]] : [['S', 32, 32, 4, 64, 8], ['M', 64, 64, 8, 128, 16], ['L', 128, 128, 16, 256, 32]]) {
  for (const t of [1, info.threads]) {
    pkg.setThreads(t);
    const m = new pkg.LstmVae({ features: D, hidden: H, latent: Z, seed: 1 });
    const opt = new pkg.Optimizer('adam');
    const x = { data: Float32Array.from({ length: B * T * D }, (_, i) => Math.sin(i * 0.01)), shape: [B, T, D] };
    const times = [];
    for (let r = 0; r < (quick ? 4 : 8) + 1; r++) {
      const t0 = performance.now();
      m.lossAndGradientsInPlace(x); opt.step(m);
      times.push(performance.now() - t0);
    }
    train.push({ config: name, B, T, D, H, Z, build: info.build, threads: t, seqPerSec: B / (median(times.slice(1)) / 1000) });
    m.dispose(); opt.dispose();
  }
}
await pkg.dispose();

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const out = { date: new Date().toISOString(), cpu, cores: cpus().length, node: process.version, quick, matmul: rows, training: train };
mkdirSync(`${root}/bench/results`, { recursive: true });
writeFileSync(`${root}/bench/results/latest.json`, JSON.stringify(out, null, 2));
const f = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');
const scalar = rows[0], simd1 = rows[1];
console.log(`\n${cpu}, ${cpus().length} cores, Node ${process.version}, medians of ${reps} runs\n`);
console.log('| build | threads | 256³ GFLOP/s | 512³ GFLOP/s | 512³ vs scalar | 512³ vs simd 1 thread | peak loop GFLOP/s |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.build} | ${r.threads} | ${f(r.gemm256)} | ${f(r.gemm512)} | ${(r.gemm512 / scalar.gemm512).toFixed(2)}× | ${(r.gemm512 / simd1.gemm512).toFixed(2)}× | ${f(r.peak)} |`);
console.log('\n| config (B, T, D, H, Z) | build | threads | training seq/s |');
console.log('|---|---|---|---|');
for (const r of train) console.log(`| ${r.config} (${r.B}, ${r.T}, ${r.D}, ${r.H}, ${r.Z}) | ${r.build} | ${r.threads} | ${f(r.seqPerSec)} |`);
