// The whole model against PyTorch float64 fixtures (scripts/gen-fixtures), on every build.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { init, dispose, LstmVae, Optimizer } from '../dist/index.node.js';

type T = [number[], number[]];
const load = (f: string) => JSON.parse(readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8'));
const cont = load('vae_continuous.json');
const toks = load('vae_tokens.json');
const optim = load('optim.json');

const RTOL = 1e-4, ATOL = 1e-5;
function allclose(name: string, got: ArrayLike<number>, want: ArrayLike<number>) {
  expect(got.length, `${name} length`).toBe(want.length);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (ATOL + RTOL * Math.abs(want[i]));
    if (excess > worst) { worst = excess; at = i; }
  }
  expect(worst, `${name}[${at}]: got ${got[at]}, want ${want[at]}`).toBe(0);
}
function closeNum(name: string, got: number, want: number) {
  expect(Math.abs(got - want), `${name}: got ${got}, want ${want}`).toBeLessThanOrEqual(ATOL + RTOL * Math.abs(want));
}
function model(c: { config: object; params: Record<string, T> }) {
  const m = new LstmVae(c.config as never);
  m.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, [shape, flat]]) => [k, { shape, data: Float32Array.from(flat) }])));
  return m;
}

for (const build of ['simd', 'simd-mt', 'relaxed-mt'] as const) {
  describe(`model vs PyTorch on ${build}`, () => {
    afterAll(() => dispose());
    it('continuous VAE: loss, recon, kl, mu, logvar, decoder output and every gradient', async () => {
      await dispose();
      await init({ build });
      for (const c of cont.cases) {
        const m = model(c);
        const [xs, xf] = c.x as T;
        const x = { data: Float32Array.from(xf), shape: xs, lengths: c.lengths };
        const r = m.lossAndGradients(x, { eps: Float32Array.from(c.eps[1]), beta: c.beta });
        closeNum(`${c.name} loss`, r.loss, c.loss);
        closeNum(`${c.name} recon`, r.recon, c.recon);
        closeNum(`${c.name} kl`, r.kl, c.kl);
        expect(Object.keys(r.gradients).sort()).toEqual(Object.keys(c.grads).sort());
        for (const [k, [, flat]] of Object.entries(c.grads as Record<string, T>)) allclose(`${c.name} grad ${k}`, r.gradients[k], flat);
        const { mu, logvar } = m.encode(x);
        allclose(`${c.name} mu`, mu, c.mu[1]);
        allclose(`${c.name} logvar`, logvar, c.logvar[1]);
        if (c.config.decoder === 'repeat') allclose(`${c.name} y`, m.decode({ data: Float32Array.from(c.z[1]), shape: c.z[0] }, xs[1]), c.y[1]);
        m.dispose();
      }
    });
    it('token VAE with padding: loss, recon, kl and every gradient', async () => {
      await init({ build });
      for (const c of toks.cases) {
        const m = model(c);
        const [is, iflat] = c.ids as T;
        const r = m.lossAndGradients({ data: Int32Array.from(iflat), shape: is, lengths: c.lengths }, { eps: Float32Array.from(c.eps[1]), beta: c.beta });
        closeNum(`${c.name} loss`, r.loss, c.loss);
        closeNum(`${c.name} recon`, r.recon, c.recon);
        closeNum(`${c.name} kl`, r.kl, c.kl);
        for (const [k, [, flat]] of Object.entries(c.grads as Record<string, T>)) allclose(`${c.name} grad ${k}`, r.gradients[k], flat);
        m.dispose();
      }
    });
    it('5 optimizer steps of Adam, AdamW, SGD (momentum, Nesterov) and RMSProp on the whole model', async () => {
      await init({ build });
      const [xs, xf] = optim.x as T;
      for (const run of optim.optimizers) {
        const m = model({ config: optim.config, params: optim.params });
        const o = run.options;
        const name = run.name === 'sgd' ? 'sgd' : run.name;
        const opt = new Optimizer(name, { lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weightDecay, betas: o.betas, eps: o.eps, alpha: o.alpha });
        run.epsPerStep.forEach(([, eps]: T, i: number) => {
          const r = m.lossAndGradients({ data: Float32Array.from(xf), shape: xs }, { eps: Float32Array.from(eps), beta: optim.beta });
          closeNum(`${run.id} loss ${i}`, r.loss, run.losses[i]);
          opt.step(m);
        });
        const sd = m.stateDict();
        for (const [k, [, flat]] of Object.entries(run.final as Record<string, T>)) allclose(`${run.id} final ${k}`, sd[k].data, flat);
        m.dispose();
        opt.dispose();
      }
    });
  });
}
