// The package in one JavaScript runtime (Node, Bun or Deno), run by test/runtimes/run.mjs:
//
//   <node | bun | deno run --allow-all> test/runtimes/check.mjs
//
// Plain ESM that imports the built package the way users do, through its name ('lstm-vae' resolves to
// this repository's own package.json exports: the "node" condition, dist/index.node.js). It checks:
// 1. `await init()` and backendInfo() (the build and threads this runtime gets, and why);
// 2. on every build (native included when built): the PyTorch fixtures (test/fixtures/vae_continuous.json: loss, recon, kl and every
//    gradient of the continuous model; test/fixtures/lstm.json: the LSTM forward), with the tolerances
//    of test/model-fixtures.test.ts and test/lstm-fixtures.test.ts (allclose: rtol 1e-4, atol 1e-5);
// 3. on every build: the fixed-seed training run of test/shared/fixed-run.js (its batch losses and a hash
//    of the final weights are printed; the runner compares them bit for bit with its own Node's run);
// 4. LstmVae toSafetensors → fromSafetensors: the same config, weights, bytes and loss;
// 5. AnomalyDetector.fit (maxSteps 30) and score on a short generated series: finite scores, and the
//    detector's own file round trip scores the same.
// The last line of stdout is `@@runtime {json}`; any failed check also makes the exit code 1.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import process from 'node:process';
import * as lv from 'lstm-vae';
import { fixedRun } from '../shared/fixed-run.js';
import { allclose, f32, modelFromFixture, sameBits } from '../shared/numeric.js';

// 'native' too when its binary is built for this platform (docs/native.md): Node, Bun and Deno load it through Node-API
const NATIVE = existsSync(new URL(`../../dist/native/${process.platform}-${process.arch}/lstm_vae_native.node`, import.meta.url));
const BUILDS = ['simd', 'simd-mt', 'relaxed-mt', ...(NATIVE ? ['native'] : [])];
const fixture = (name) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

function runtime() {
  if (globalThis.Deno) return { name: 'deno', version: globalThis.Deno.version.deno };
  if (process.versions.bun) return { name: 'bun', version: process.versions.bun };
  return { name: 'node', version: process.versions.node };
}

const out = { runtime: runtime(), cores: availableParallelism(), checks: [], backend: null, fixedRuns: {} };

async function check(name, fn) {
  const t = performance.now();
  try {
    const detail = await fn();
    out.checks.push({ name, ok: true, ms: Math.round(performance.now() - t), ...(detail ? { detail } : {}) });
  } catch (e) {
    out.checks.push({ name, ok: false, error: String(e?.stack ?? e).slice(0, 2000) });
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** Every case of vae_continuous.json: loss, recon, kl and every gradient against PyTorch's. */
function continuousFixtures(cont) {
  const close = (what, got, want) => allclose(what, [got], [want]);
  for (const c of cont.cases) {
    const m = modelFromFixture(lv.LstmVae, c);
    try {
      const [xs, xf] = c.x;
      const r = m.lossAndGradients({ data: Float32Array.from(xf), shape: xs, lengths: c.lengths }, { eps: f32(c.eps), beta: c.beta });
      close(`${c.name} loss`, r.loss, c.loss);
      close(`${c.name} recon`, r.recon, c.recon);
      close(`${c.name} kl`, r.kl, c.kl);
      const got = Object.keys(r.gradients).sort().join(',');
      const want = Object.keys(c.grads).sort().join(',');
      assert(got === want, `${c.name}: gradient keys ${got}, want ${want}`);
      for (const [k, [, flat]] of Object.entries(c.grads)) allclose(`${c.name} grad ${k}`, r.gradients[k], flat);
    } finally {
      m.dispose();
    }
  }
  return `${cont.cases.length} cases`;
}

/** Every case of lstm.json: the forward (h_n, c_n, and the output when the batch has no lengths). */
function lstmFixtures(fx) {
  for (const c of fx.cases) {
    const weights = Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, f32(v)]));
    const r = lv.lstm({ data: f32(c.x), shape: c.x[0] }, weights, { h0: c.h0 && f32(c.h0), c0: c.c0 && f32(c.c0), lengths: c.lengths });
    allclose(`${c.name} h_n`, r.hN, c.h_n[1]);
    allclose(`${c.name} c_n`, r.cN, c.c_n[1]);
    if (!c.lengths) allclose(`${c.name} out`, r.output, c.out[1]);
  }
  return `${fx.cases.length} cases`;
}

/** A short univariate series: a noisy sine (period 24) with a burst at 300–309. */
function series(n = 480) {
  let s = 12345;
  const noise = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296 - 0.5;
  };
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin((2 * Math.PI * i) / 24) + 0.05 * noise() + (i >= 300 && i < 310 ? 2.5 : 0);
  return { data, shape: [n, 1] };
}

async function main() {
  const cont = fixture('vae_continuous.json');
  const lstmFx = fixture('lstm.json');

  await check('init() and backendInfo()', async () => {
    await lv.init();
    out.backend = lv.backendInfo();
    assert(out.backend.runtime === 'node', `the "node" entry was not loaded (backendInfo().runtime is ${out.backend.runtime})`);
  });

  for (const build of BUILDS) {
    await lv.dispose();
    await check(`init({ build: '${build}' })`, async () => {
      const info = await lv.init({ build });
      assert(info.build === build, `init({ build: '${build}' }) loaded ${info.build}`);
      return `${info.threads} thread(s)`;
    });
    if (!out.checks.at(-1).ok) continue;
    await check(`${build}: vae_continuous.json (loss, recon, kl, gradients)`, () => continuousFixtures(cont));
    await check(`${build}: lstm.json (LSTM forward)`, () => lstmFixtures(lstmFx));
    await check(`${build}: fixed-seed fit (test/shared/fixed-run.js)`, async () => {
      const r = await fixedRun(lv);
      assert(r.losses.length > 0 && r.losses.every(Number.isFinite), `losses ${r.losses.slice(0, 5)}`);
      out.fixedRuns[build] = r;
      return `${r.losses.length} steps, last loss ${r.losses.at(-1)}`;
    });
  }
  await lv.dispose();
  await lv.init();

  await check('LstmVae toSafetensors → fromSafetensors', () => {
    const c = cont.cases[0];
    const m = modelFromFixture(lv.LstmVae, c);
    const bytes = m.toSafetensors();
    const back = lv.LstmVae.fromSafetensors(bytes);
    try {
      assert(
        JSON.stringify(back.config) === JSON.stringify(m.config),
        `config ${JSON.stringify(back.config)} vs ${JSON.stringify(m.config)}`,
      );
      const a = m.stateDict();
      const b = back.stateDict();
      assert(Object.keys(a).sort().join() === Object.keys(b).sort().join(), 'state dict keys differ');
      for (const k of Object.keys(a)) {
        assert(a[k].shape.join('x') === b[k].shape.join('x'), `${k}: shape ${b[k].shape} vs ${a[k].shape}`);
        assert(sameBits(a[k].data, b[k].data), `${k}: weights differ after the round trip`);
      }
      assert(sameBits(back.toSafetensors(), bytes), 'saving the loaded model gives other bytes');
      const x = { data: f32(c.x), shape: c.x[0], lengths: c.lengths };
      const o = { eps: f32(c.eps), beta: c.beta };
      assert(Object.is(back.lossAndGradients(x, o).loss, m.lossAndGradients(x, o).loss), 'the loaded model computes another loss');
      return `${bytes.length} bytes`;
    } finally {
      m.dispose();
      back.dispose();
    }
  });

  await check('AnomalyDetector.fit (maxSteps 30) and score', async () => {
    const s = series();
    const det = await lv.AnomalyDetector.fit(s, { seed: 1, maxSteps: 30 });
    const r = det.score(s);
    assert(r.scores.length === s.shape[0], `${r.scores.length} scores for ${s.shape[0]} rows`);
    assert(r.scores.every(Number.isFinite), 'a score is not finite');
    assert(Number.isFinite(r.threshold), `threshold ${r.threshold}`);
    const again = lv.AnomalyDetector.fromSafetensors(det.toSafetensors());
    assert(sameBits(again.score(s).scores, r.scores), 'the detector loaded from its file scores differently');
    const detail = `${det.plan.training.steps} steps, window ${det.plan.window}, ${r.intervals.length} interval(s), max score ${Math.max(...r.scores).toPrecision(4)}`;
    det.dispose();
    again.dispose();
    return detail;
  });
  await lv.dispose();
}

try {
  await main();
} catch (e) {
  out.checks.push({ name: 'check script', ok: false, error: String(e?.stack ?? e) });
}
console.log(`@@runtime ${JSON.stringify(out)}`);
process.exit(out.checks.every((c) => c.ok) ? 0 : 1);
