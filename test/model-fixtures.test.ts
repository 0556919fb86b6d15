// The whole model against PyTorch float64 fixtures (scripts/gen-fixtures), on every build.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { init, dispose, LstmVae, Optimizer, WeightAverage } from '../dist/index.node.js';
import { allclose, f32, modelFromFixture, type FixtureTensor } from './shared/numeric.js';
import { NATIVE_BUILDS } from './shared/native.js';

type T = FixtureTensor;
const load = (f: string) => JSON.parse(readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8'));
const cont = load('vae_continuous.json');
const toks = load('vae_tokens.json');
const optim = load('optim.json');

/** A scalar within the fixture tolerances (rtol 1e-4, atol 1e-5, allclose's defaults). */
const closeNum = (name: string, got: number, want: number) => allclose(name, [got], [want]);
const model = (c: { config: unknown; params: Record<string, T> }) => modelFromFixture(LstmVae, c);

/** Loss, recon, kl and every parameter gradient of a case against PyTorch's. */
function checkLossAndGradients(
  c: { name: string; loss: number; recon: number; kl: number; grads: Record<string, T> },
  r: { loss: number; recon: number; kl: number; gradients: Record<string, Float32Array> },
) {
  closeNum(`${c.name} loss`, r.loss, c.loss);
  closeNum(`${c.name} recon`, r.recon, c.recon);
  closeNum(`${c.name} kl`, r.kl, c.kl);
  expect(Object.keys(r.gradients).sort()).toEqual(Object.keys(c.grads).sort());
  for (const [k, [, flat]] of Object.entries(c.grads)) allclose(`${c.name} grad ${k}`, r.gradients[k], flat);
}

describe.each(['simd', 'simd-mt', 'relaxed-mt', ...NATIVE_BUILDS] as const)('model vs PyTorch on %s', (build) => {
  afterAll(() => dispose());
  it('continuous VAE: loss, recon, kl, mu, logvar, decoder output and every gradient', async () => {
    await dispose();
    await init({ build });
    for (const c of cont.cases) {
      const m = model(c);
      const [xs, xf] = c.x as T;
      const x = { data: Float32Array.from(xf), shape: xs, lengths: c.lengths };
      checkLossAndGradients(c, m.lossAndGradients(x, { eps: f32(c.eps), beta: c.beta }));
      const { mu, logvar } = m.encode(x);
      allclose(`${c.name} mu`, mu, c.mu[1]);
      allclose(`${c.name} logvar`, logvar, c.logvar[1]);
      if (c.config.decoder === 'repeat') {
        allclose(`${c.name} y`, m.decode({ data: f32(c.z), shape: c.z[0] }, xs[1]), c.y[1]);
      }
      m.dispose();
    }
  });
  it('token VAE with padding: loss, recon, kl and every gradient', async () => {
    await init({ build });
    for (const c of toks.cases) {
      const m = model(c);
      const [is, iflat] = c.ids as T;
      const ids = { data: Int32Array.from(iflat), shape: is, lengths: c.lengths };
      checkLossAndGradients(c, m.lossAndGradients(ids, { eps: f32(c.eps), beta: c.beta }));
      m.dispose();
    }
  });
  it('5 optimizer steps of Adam, AdamW, SGD (momentum, Nesterov) and RMSProp on the whole model, and the averaged weights', async () => {
    await init({ build });
    const [xs, xf] = optim.x as T;
    for (const run of optim.optimizers) {
      const m = model({ config: optim.config, params: optim.params });
      const o = run.options;
      const name = run.name === 'sgd' ? 'sgd' : run.name;
      const opt = new Optimizer(name, {
        lr: o.lr,
        momentum: o.momentum,
        dampening: o.dampening,
        nesterov: o.nesterov,
        weightDecay: o.weightDecay,
        betas: o.betas,
        eps: o.eps,
        alpha: o.alpha,
      });
      // fit's averaged weights (emaDecay) against torch.lerp on the same steps, where the fixture has them
      const avg = run.ema ? new WeightAverage(m, run.ema.decay) : undefined;
      run.epsPerStep.forEach(([, eps]: T, i: number) => {
        const r = m.lossAndGradients({ data: Float32Array.from(xf), shape: xs }, { eps: Float32Array.from(eps), beta: optim.beta });
        closeNum(`${run.id} loss ${i}`, r.loss, run.losses[i]);
        opt.step(m);
        avg?.update();
      });
      const sd = m.stateDict();
      for (const [k, [, flat]] of Object.entries(run.final as Record<string, T>)) {
        allclose(`${run.id} final ${k}`, sd[k].data, flat);
      }
      if (avg) {
        expect(avg.updates).toBe(run.ema.decays.length);
        avg.copyTo(m);
        const averaged = m.stateDict();
        for (const [k, [, flat]] of Object.entries(run.ema.final as Record<string, T>))
          allclose(`${run.id} ema ${k}`, averaged[k].data, flat);
        avg.dispose();
      }
      m.dispose();
      opt.dispose();
    }
  });
});
