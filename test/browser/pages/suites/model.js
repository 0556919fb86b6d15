// The model API in Chromium: PyTorch fixtures (a subset) and the fixed-seed run that must equal Node's bit for bit.
import * as lv from '/dist/index.js';
import { assert, assertEq } from '../harness.js';
import { fixedRun, FIXED_RUN_BUILD } from '/test/shared/fixed-run.js';
import { allclose, f32, modelFromFixture } from '/test/shared/numeric.js';

export const name = 'model';

const load = (c) => modelFromFixture(lv.LstmVae, c);

export default function (test, ctx) {
  for (const build of ['simd', 'simd-mt', 'relaxed-mt']) {
    test(`${build}: continuous and token VAEs match the PyTorch fixtures (loss, recon, kl, every gradient)`, async () => {
      await lv.dispose();
      await lv.init({ build });
      const cont = await ctx.fixture('vae_continuous');
      const toks = await ctx.fixture('vae_tokens');
      for (const c of cont.cases.slice(0, 3)) {
        const m = load(c);
        const x = { data: f32(c.x), shape: c.x[0], lengths: c.lengths };
        const r = m.lossAndGradients(x, { eps: f32(c.eps), beta: c.beta });
        allclose(`${c.name} loss`, [r.loss, r.recon, r.kl], [c.loss, c.recon, c.kl]);
        for (const [k, g] of Object.entries(c.grads)) allclose(`${c.name} grad ${k}`, r.gradients[k], g[1]);
        m.dispose();
      }
      const c = toks.cases[1];
      const m = load(c);
      const ids = { data: Int32Array.from(c.ids[1]), shape: c.ids[0], lengths: c.lengths };
      const r = m.lossAndGradients(ids, { eps: f32(c.eps), beta: c.beta });
      allclose(`${c.name} loss`, [r.loss, r.recon, r.kl], [c.loss, c.recon, c.kl]);
      for (const [k, g] of Object.entries(c.grads)) allclose(`${c.name} grad ${k}`, r.gradients[k], g[1]);
      m.dispose();
    });
  }
  test(`fixed-seed training on ${FIXED_RUN_BUILD} gives Node's loss curve to the last bit`, async () => {
    await lv.dispose();
    const info = await lv.init({ build: FIXED_RUN_BUILD, threads: 2 });
    assert(info.threads === 2, `threads ${info.threads}`);
    const res = await fetch('/test/browser/generated/node-fixed-run.json');
    if (!res.ok)
      throw new Error(
        'test/browser/generated/node-fixed-run.json is missing: run the Node tests (npx vitest run test/fixed-run.test.ts) first',
      );
    const node = await res.json();
    const here = await fixedRun(lv);
    assertEq(JSON.stringify(here.losses), JSON.stringify(node.losses), 'batch losses');
    assertEq(here.weightsHash, node.weightsHash, 'final weights hash');
  });
  test('training in this Worker: fit lowers the loss and anomalyScores rank a planted anomaly first', async () => {
    await lv.dispose();
    await lv.init();
    const n = 40,
      T = 16;
    const data = new Float32Array(n * T);
    for (let b = 0; b < n; b++) for (let t = 0; t < T; t++) data[b * T + t] = Math.sin(0.5 * t + 0.3 * b);
    const m = new lv.LstmVae({ features: 1, hidden: 16, latent: 3, seed: 2 });
    const h = await m.fit({ data, shape: [n, T, 1] }, { epochs: 40, batchSize: 10, learningRate: 2e-2, beta: 0.05 });
    assert(h.epochs[39].loss < h.epochs[0].loss * 0.3, `loss ${h.epochs[0].loss} → ${h.epochs[39].loss}`);
    const test = data.slice(0, 8 * T);
    for (let t = 4; t < 9; t++) test[3 * T + t] += 3;
    const s = m.anomalyScores({ data: test, shape: [8, T, 1] });
    const top = s.indexOf(Math.max(...s));
    assertEq(top, 3, 'most anomalous sequence');
    m.dispose();
    await lv.dispose();
  });
}
