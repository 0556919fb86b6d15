// Numeric helpers shared by the Node tests (vitest) and the browser suites (Chromium loads this file as
// /test/shared/numeric.js, without a bundler): so it is plain JavaScript, typed by numeric.d.ts beside it.
// Every check throws an Error with a report; a thrown Error fails a test in both harnesses.

/** How many differing elements a failure report lists. */
const LISTED = 5;

/** `1.234e-5`-style number for reports. */
const num = (v) => (Number.isFinite(v) && v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6) ? v.toExponential(3) : String(v));

/**
 * Checks |got[i] - want[i]| <= atol + rtol * |want[i]| for every element (NaN or a length mismatch
 * fails). The error says how many elements differ out of how many, the worst absolute and relative
 * differences with their indices, and the first few differing indices with both values.
 * @param {string} what  name used in the report
 * @param {ArrayLike<number>} got
 * @param {ArrayLike<number>} want
 * @param {{ rtol?: number, atol?: number }} [tol]  default rtol 1e-4, atol 1e-5 (the fixture tolerances)
 */
export function allclose(what, got, want, { rtol = 1e-4, atol = 1e-5 } = {}) {
  if (got.length !== want.length) throw new Error(`${what}: got ${got.length} elements, want ${want.length}`);
  let bad = 0;
  let worstAbs = 0,
    worstAbsAt = -1,
    worstRel = 0,
    worstRelAt = -1;
  const listed = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i],
      w = want[i];
    const abs = Math.abs(g - w);
    if (abs <= atol + rtol * Math.abs(w)) continue;
    bad++;
    const a = Number.isNaN(abs) ? Infinity : abs;
    const rel = a / Math.abs(w);
    if (a > worstAbs || worstAbsAt < 0) {
      worstAbs = a;
      worstAbsAt = i;
    }
    if (rel > worstRel || worstRelAt < 0) {
      worstRel = rel;
      worstRelAt = i;
    }
    if (listed.length < LISTED) listed.push(`[${i}] got ${g}, want ${w}`);
  }
  if (bad === 0) return;
  throw new Error(
    `${what}: ${bad} of ${want.length} elements differ (rtol ${rtol}, atol ${atol}); ` +
      `worst absolute difference ${num(worstAbs)} at [${worstAbsAt}], worst relative ${num(worstRel)} at [${worstRelAt}]; ` +
      `first: ${listed.join('; ')}${bad > LISTED ? '; …' : ''}`,
  );
}

/** True when two typed arrays hold the same bytes (bit-identical floats: -0 ≠ 0, NaN payloads count). */
export function sameBits(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Throws unless `got` and `want` are bit-identical; names the first differing element. */
export function assertSameBits(what, got, want) {
  if (sameBits(got, want)) return;
  if (got.length !== want.length) throw new Error(`${what}: got ${got.length} elements, want ${want.length}`);
  let i = 0;
  const x = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  const y = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
  while (x[i] === y[i]) i++;
  const e = Math.floor(i / (got.BYTES_PER_ELEMENT ?? 1));
  const show = (v) => (Object.is(v, -0) ? '-0' : String(v));
  throw new Error(`${what}: not bit-identical; first difference at [${e}]: ${show(got[e])} vs ${show(want[e])}`);
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` seeded uniform floats in [-1, 1) (xorshift32; the matmul tests' inputs). */
export function randomFloats(n, seed) {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Reference GEMM in float64: row-major `a [m, k]` · `b [k, n]`. */
export function referenceMatmul(a, b, m, n, k) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[p * n + j];
    }
  return c;
}

/** max |c - ref| / (Σ_p |a_ip b_pj|): the error relative to the magnitude of the terms summed. */
export function matmulRelError(c, a, b, m, n, k) {
  const ref = referenceMatmul(a, b, m, n, k);
  const mag = referenceMatmul(a.map(Math.abs), b.map(Math.abs), m, n, k);
  let worst = 0;
  for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(c[i] - ref[i]) / Math.max(mag[i], 1e-30));
  return worst;
}

/** A fixture tensor `[shape, flat]` (as scripts/gen-fixtures writes them) as a Float32Array. */
export const f32 = (t) => Float32Array.from(t[1]);

/** A model of `LstmVae` (the class of the package under test) with the fixture's config and weights. */
export function modelFromFixture(LstmVae, c) {
  const m = new LstmVae(c.config);
  const sd = Object.fromEntries(Object.entries(c.params).map(([k, [shape, flat]]) => [k, { shape, data: Float32Array.from(flat) }]));
  m.loadStateDict(sd);
  return m;
}
