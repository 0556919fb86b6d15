// The first kernel end to end: matmul in every build, against a float64 reference.
import { describe, expect, it, afterAll } from 'vitest';
import fc from 'fast-check';
import { init, dispose, backendInfo, matmul, ShapeError, ConfigError, BackendError, setThreads } from '../dist/index.node.js';

const builds = ['simd', 'simd-mt', 'relaxed-mt'] as const;
// Node 20 needs --experimental-wasm-relaxed-simd for relaxed-mt; vitest's workers get it via execArgv (see vitest.config.ts).

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[p * n + j];
    }
  return c;
}

/** max |c - ref| / (Σ_p |a_ip b_pj|): relative to the magnitude of the terms summed. */
function relError(c: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, k: number): number {
  const ref = reference(a, b, m, n, k);
  const absA = a.map(Math.abs), absB = b.map(Math.abs);
  const mag = reference(absA, absB, m, n, k);
  let worst = 0;
  for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(c[i] - ref[i]) / Math.max(mag[i], 1e-30));
  return worst;
}

for (const build of builds) {
  describe(`matmul on the ${build} build`, () => {
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
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 300 }), fc.integer(), (m, n, k, seed) => {
          const a = rand(m * k, seed), b = rand(k * n, seed + 1);
          const c = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
          expect(c.shape).toEqual([m, n]);
          expect(relError(c.data, a, b, m, n, k)).toBeLessThan(1e-5);
        }),
        { numRuns: 60, seed: 42 },
      );
      for (const [m, n, k] of [[1, 1, 1], [1, 9, 5], [9, 1, 5], [130, 257, 129], [256, 256, 256]]) {
        const a = rand(m * k, m + n), b = rand(k * n, k);
        const c = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
        expect(relError(c.data, a, b, m, n, k)).toBeLessThan(1e-5);
      }
    });

    it('gives bit-identical results on 1 and on all threads', async () => {
      const info = await init({ build });
      const [m, n, k] = [96, 300, 200];
      const a = rand(m * k, 5), b = rand(k * n, 6);
      setThreads(1);
      const one = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
      setThreads(info.threads);
      const all = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
      expect(Buffer.from(all.data.buffer).equals(Buffer.from(one.data.buffer))).toBe(true);
    });

    it('handles empty dimensions by design: empty result, or zeros when k = 0', async () => {
      await init({ build });
      expect(matmul({ data: new Float32Array(0), shape: [0, 3] }, { data: new Float32Array(6), shape: [3, 2] })).toEqual({ data: new Float32Array(0), shape: [0, 2] });
      expect(matmul({ data: new Float32Array(0), shape: [2, 0] }, { data: new Float32Array(0), shape: [0, 3] })).toEqual({ data: new Float32Array(6), shape: [2, 3] });
    });

    it('rejects bad input with a typed error naming the argument, and keeps working', async () => {
      await init({ build });
      const a = { data: new Float32Array(6), shape: [2, 3] };
      expect(() => matmul(a, { data: new Float32Array(8), shape: [4, 2] })).toThrowError(ShapeError);
      expect(() => matmul(a, { data: new Float32Array(8), shape: [4, 2] })).toThrowError(/argument: b\.shape\[0\]; expected: 3; got: 4/);
      expect(() => matmul({ data: [1, 2, 3, 4, 5, 6] as unknown as Float32Array, shape: [2, 3] }, a)).toThrowError(/a\.data must be a Float32Array.*got: Array/);
      expect(() => matmul({ data: new Float64Array(6) as unknown as Float32Array, shape: [2, 3] }, a)).toThrowError(/got: Float64Array/);
      expect(() => matmul({ data: new Float32Array(5), shape: [2, 3] }, a)).toThrowError(/a\.data has 5 elements but its shape \[2, 3\] needs 6/);
      expect(() => matmul({ data: new Float32Array(6), shape: [2, -3] }, a)).toThrowError(ShapeError);
      expect(() => matmul(null as never, a)).toThrowError(ShapeError);
      const ok = matmul({ data: Float32Array.from([1, 2]), shape: [1, 2] }, { data: Float32Array.from([3, 4]), shape: [2, 1] });
      expect(Array.from(ok.data)).toEqual([11]);
    });
  });
}

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
    expect(() => matmul({ data: new Float32Array(1), shape: [1, 1] }, { data: new Float32Array(1), shape: [1, 1] })).toThrowError(/not initialised/);
  });
});
