import { wasm } from './backend/index.js';
import { ShapeError } from './errors.js';
import { withBuffers } from './memory.js';
import { checkTensor, type Tensor } from './tensor.js';

/**
 * Matrix product `a · b` of `a: [m, k]` and `b: [k, n]` (Float32Array, row-major), computed by the
 * WebAssembly GEMM kernel (SIMD, and threaded in the -mt builds).
 *
 * Empty dimensions are allowed: `m = 0` or `n = 0` gives an empty `[m, n]` result, and `k = 0` gives
 * an `[m, n]` matrix of zeros (the empty sum). Mismatched shapes, a non-Float32Array, or data whose
 * length does not match its shape throw a ShapeError that names the argument.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor(a, 'a', 2);
  checkTensor(b, 'b', 2);
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2) {
    throw new ShapeError(`matmul: a is [${m}, ${k}] and b is [${k2}, ${n}]: a's columns must equal b's rows`, {
      argument: 'b.shape[0]', expected: k, actual: k2,
    });
  }
  const out = new Float32Array(m * n);
  if (out.length === 0) return { data: out, shape: [m, n] };
  const w = wasm();
  withBuffers((alloc) => {
    const A = alloc(a.data);
    const B = alloc(b.data);
    const C = alloc(m * n);
    w.sgemm(false, false, m, n, k, 1, A.ptr, k, B.ptr, n, 0, C.ptr, n);
    out.set(C.f32());
  });
  return { data: out, shape: [m, n] };
}
