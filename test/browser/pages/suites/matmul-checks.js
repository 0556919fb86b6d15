// matmul checks shared by the suites: float64 reference, thread determinism, typed errors.
import { assert, assertEq, assertThrows } from '../harness.js';
import { assertSameBits, matmulRelError, randomFloats } from '/test/shared/numeric.js';

/** 1×1, sizes that are not multiples of 4 or 8, 130×257×129, and a few seeded random shapes. */
export function shapes() {
  const list = [
    [1, 1, 1],
    [1, 9, 5],
    [9, 1, 5],
    [3, 5, 7],
    [13, 17, 31],
    [33, 65, 9],
    [130, 257, 129],
  ];
  const r = randomFloats(12, 2024);
  const size = (u, max) => 1 + Math.floor((u + 1) * (max / 2));
  for (let i = 0; i < 4; i++) list.push([size(r[3 * i], 70), size(r[3 * i + 1], 70), size(r[3 * i + 2], 300)]);
  return list;
}

export function checkAccuracy(lv) {
  for (const [m, n, k] of shapes()) {
    const a = randomFloats(m * k, m * 31 + n),
      b = randomFloats(k * n, k * 7 + 1);
    const c = lv.matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
    assertEq(c.shape.join('x'), `${m}x${n}`, `shape of [${m},${k}]·[${k},${n}]`);
    assert(c.data instanceof Float32Array, 'result data is a Float32Array');
    const err = matmulRelError(c.data, a, b, m, n, k);
    assert(err < 1e-5, `[${m},${k}]·[${k},${n}]: relative error ${err} ≥ 1e-5`);
  }
}

export function checkDeterminism(lv) {
  const info = lv.backendInfo();
  const [m, n, k] = [96, 300, 200];
  const a = randomFloats(m * k, 5),
    b = randomFloats(k * n, 6);
  lv.setThreads(1);
  const one = lv.matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
  lv.setThreads(info.threads);
  const all = lv.matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
  assertSameBits(`1 vs ${info.threads} threads`, all.data, one.data);
}

export function checkErrors(lv) {
  const a = { data: new Float32Array(6), shape: [2, 3] };
  assertThrows(
    () => lv.matmul(a, { data: new Float32Array(8), shape: [4, 2] }),
    'ShapeError',
    /argument: b\.shape\[0\]; expected: 3; got: 4/,
  );
  assertThrows(() => lv.matmul({ data: [1, 2, 3, 4, 5, 6], shape: [2, 3] }, a), 'ShapeError', /a\.data must be a Float32Array.*got: Array/);
  assertThrows(() => lv.matmul({ data: new Float64Array(6), shape: [2, 3] }, a), 'ShapeError', /got: Float64Array/);
  assertThrows(() => lv.matmul({ data: new Float32Array(5), shape: [2, 3] }, a), 'ShapeError', /a\.data has 5 elements/);
  assertThrows(() => lv.matmul({ data: new Float32Array(6), shape: [2, -3] }, a), 'ShapeError');
  assertThrows(() => lv.matmul(null, a), 'ShapeError');
  let caught;
  try {
    lv.matmul(a, { data: new Float32Array(1), shape: [1, 1] });
  } catch (e) {
    caught = e;
  }
  assert(
    caught instanceof lv.ShapeError && caught instanceof lv.LstmVaeError && caught instanceof Error,
    `the error is an instance of ShapeError, LstmVaeError and Error (got ${caught})`,
  );
  const ok = lv.matmul({ data: Float32Array.from([1, 2]), shape: [1, 2] }, { data: Float32Array.from([3, 4]), shape: [2, 1] });
  assertEq(Array.from(ok.data).join(','), '11', 'the next call after the errors');
}

/** Registers the matmul tests for whatever backend is initialised when they run. */
export function matmulTests(test, lv, label) {
  test(`${label}: matmul equals a float64 reference (relative error < 1e-5), 1×1 … 130×257×129`, () => checkAccuracy(lv));
  test(`${label}: bit-identical on 1 thread and on all threads`, () => checkDeterminism(lv));
  test(`${label}: bad input throws ShapeError, and the next call works`, () => checkErrors(lv));
}
