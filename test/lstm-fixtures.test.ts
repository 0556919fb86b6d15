// The LSTM kernels (stacked, with initial states and lengths) against PyTorch nn.LSTM in float64, on every build.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { init, dispose, lstm, lstmGradients, ShapeError } from '../dist/index.node.js';
import { allclose, f32, type FixtureTensor } from './shared/numeric.js';
import { NATIVE_BUILDS } from './shared/native.js';

type T = FixtureTensor;
const fx = JSON.parse(readFileSync(new URL('./fixtures/lstm.json', import.meta.url), 'utf8'));

describe.each(['simd', 'simd-mt', 'relaxed-mt', ...NATIVE_BUILDS] as const)('nn.LSTM fixtures on %s', (build) => {
  afterAll(() => dispose());
  it(`matches outputs, final states and every gradient (${fx.cases.length} cases)`, async () => {
    await dispose();
    await init({ build });
    expect(fx.cases.length).toBeGreaterThanOrEqual(5);
    for (const c of fx.cases) {
      const weights = Object.fromEntries(Object.entries(c.params as Record<string, T>).map(([k, v]) => [k, f32(v)]));
      const x = { data: f32(c.x), shape: c.x[0] };
      const opts = { h0: c.h0 && f32(c.h0), c0: c.c0 && f32(c.c0), lengths: c.lengths };
      const r = lstmGradients(x, weights, { dOutput: f32(c.dout), dhN: f32(c.dh_n), dcN: f32(c.dc_n) }, opts);
      allclose(`${c.name} h_n`, r.hN, c.h_n[1]);
      allclose(`${c.name} c_n`, r.cN, c.c_n[1]);
      if (!c.lengths) allclose(`${c.name} out`, r.output, c.out[1]);
      allclose(`${c.name} dx`, r.dx, c.grads.x[1]);
      if (c.h0) {
        allclose(`${c.name} dh0`, r.dh0, c.grads.h0[1]);
        allclose(`${c.name} dc0`, r.dc0, c.grads.c0[1]);
      }
      for (const k of Object.keys(c.params)) allclose(`${c.name} grad ${k}`, r.grads[k], c.grads[k][1]);
      const fwd = lstm(x, weights, opts);
      expect(Array.from(fwd.hN)).toEqual(Array.from(r.hN));
    }
  });
  it('rejects bad weights and lengths before any kernel runs', async () => {
    await init({ build });
    const c = fx.cases[1];
    const weights = Object.fromEntries(Object.entries(c.params as Record<string, T>).map(([k, v]) => [k, f32(v)]));
    const x = { data: f32(c.x), shape: c.x[0] };
    expect(() => lstm(x, { ...weights, bias_hh_l0: new Float32Array(3) })).toThrowError(
      /weights\.bias_hh_l0 must be a Float32Array of \d+/,
    );
    expect(() => lstm(x, weights, { lengths: [99, 1] })).toThrowError(ShapeError);
    expect(() => lstm({ data: x.data, shape: [x.shape[0], x.shape[1], x.shape[2] + 1] }, weights)).toThrowError(ShapeError);
  });
});
