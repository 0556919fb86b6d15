// The first kernel end to end: matmul in every build, against a float64 reference.
import { describe, expect, it, afterAll } from 'vitest';
import fc from 'fast-check';
import { init, dispose, backendInfo, matmul, ShapeError, ConfigError, BackendError, setThreads } from '../dist/index.node.js';
import { matmulRelError, randomFloats, sameBits } from './shared/numeric.js';

const builds = ['simd', 'simd-mt', 'relaxed-mt'] as const;
// Node 20 needs --experimental-wasm-relaxed-simd for relaxed-mt; vitest's workers get it via execArgv (see vitest.config.ts).

/** Bad input: [what, a, b, the message the ShapeError must match (if any)]. */
const A = { data: new Float32Array(6), shape: [2, 3] };
const BAD: [string, unknown, unknown, RegExp?][] = [
  ['inner sizes differ', A, { data: new Float32Array(8), shape: [4, 2] }, /argument: b\.shape\[0\]; expected: 3; got: 4/],
  ['a plain Array', { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] }, A, /a\.data must be a Float32Array.*got: Array/],
  ['a Float64Array', { data: new Float64Array(6), shape: [2, 3] }, A, /got: Float64Array/],
  ['too few elements', { data: new Float32Array(5), shape: [2, 3] }, A, /a\.data has 5 elements but its shape \[2, 3\] needs 6/],
  ['a negative size', { data: new Float32Array(6), shape: [2, -3] }, A],
  ['null', null, A],
];

describe.each(builds)('matmul on the %s build', (build) => {
  afterAll(() => dispose());
  it('loads the build with the expected features and threads', async () => {
    await dispose();
    const info = await init({ build });
    expect(info.build).toBe(build);
    expect(info.features).toContain('simd128');
    if (build === 'simd') expect(info.threads).toBe(1);
    else expect(info.threads).toBeGreaterThanOrEqual(2);
    if (build === 'relaxed-mt') expect(info.features).toContain('relaxed-simd');
    expect(backendInfo().build).toBe(build);
  });

  it('equals a float64 reference (relative error < 1e-5) on random shapes, including tile edges', async () => {
    await init({ build });
    const size = (max: number) => fc.integer({ min: 1, max });
    fc.assert(
      fc.property(size(70), size(70), size(300), fc.integer(), (m, n, k, seed) => {
        const a = randomFloats(m * k, seed),
          b = randomFloats(k * n, seed + 1);
        const c = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
        expect(c.shape).toEqual([m, n]);
        expect(matmulRelError(c.data, a, b, m, n, k)).toBeLessThan(1e-5);
      }),
      { numRuns: 60, seed: 42 },
    );
    for (const [m, n, k] of [
      [1, 1, 1],
      [1, 9, 5],
      [9, 1, 5],
      [130, 257, 129],
      [256, 256, 256],
    ]) {
      const a = randomFloats(m * k, m + n),
        b = randomFloats(k * n, k);
      const c = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
      expect(matmulRelError(c.data, a, b, m, n, k)).toBeLessThan(1e-5);
    }
  });

  it('gives bit-identical results on 1 and on all threads', async () => {
    const info = await init({ build });
    const [m, n, k] = [96, 300, 200];
    const a = randomFloats(m * k, 5),
      b = randomFloats(k * n, 6);
    setThreads(1);
    const one = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
    setThreads(info.threads);
    const all = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
    expect(sameBits(all.data, one.data)).toBe(true);
  });

  it('handles empty dimensions by design: empty result, or zeros when k = 0', async () => {
    await init({ build });
    const zeros = (...shape: number[]) => ({ data: new Float32Array(shape[0] * shape[1]), shape });
    expect(matmul(zeros(0, 3), zeros(3, 2))).toEqual(zeros(0, 2));
    expect(matmul(zeros(2, 0), zeros(0, 3))).toEqual(zeros(2, 3));
  });

  it.each(BAD)('rejects bad input with a ShapeError naming the argument: %s', async (_what, a, b, message) => {
    await init({ build });
    expect(() => matmul(a as never, b as never)).toThrowError(ShapeError);
    if (message) expect(() => matmul(a as never, b as never)).toThrowError(message);
  });

  it('keeps working after bad input', async () => {
    await init({ build });
    for (const [, a, b] of BAD) expect(() => matmul(a as never, b as never)).toThrowError(ShapeError);
    const ok = matmul({ data: Float32Array.from([1, 2]), shape: [1, 2] }, { data: Float32Array.from([3, 4]), shape: [2, 1] });
    expect(Array.from(ok.data)).toEqual([11]);
  });
});

describe('init', () => {
  it('is idempotent and safe to call twice at once', async () => {
    await dispose();
    const [a, b] = await Promise.all([init(), init()]);
    expect(a).toBe(b);
    expect(await init()).toBe(a);
    expect(a.runtime).toBe('node');
    expect(a.reasons.length).toBeGreaterThan(0);
  });
  it('rejects bad options and conflicting re-initialisation with typed errors', async () => {
    await expect(init({ build: 'avx' as never })).rejects.toThrowError(ConfigError);
    await expect(init({ threads: 0 })).rejects.toThrowError(/threads must be a whole number/);
    const info = await init();
    const other = info.build === 'simd' ? 'simd-mt' : 'simd';
    await expect(init({ build: other })).rejects.toThrowError(/already initialised/);
    await dispose();
    expect(() => backendInfo()).toThrowError(BackendError);
    const one = { data: new Float32Array(1), shape: [1, 1] };
    expect(() => matmul(one, one)).toThrowError(/not initialised/);
  });
});
