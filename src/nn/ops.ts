import { at } from '../backend/kernels.js';
import { wasm } from '../backend/index.js';
import { type StackLayer, stackBackward, stackForward } from './lstm-stack.js';
import { ShapeError } from '../core/errors.js';
import { withBuffers } from '../backend/memory.js';
import { checkTensor, type Tensor } from '../core/tensor.js';

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
      argument: 'b.shape[0]',
      expected: k,
      actual: k2,
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

/** Weights of a (stacked) LSTM with PyTorch's `nn.LSTM` names: `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`. */
export type LstmWeights = Record<string, Float32Array>;

export interface LstmOptions {
  /** Initial states `[L, B, H]` (zeros if absent), as PyTorch. */
  h0?: Float32Array;
  c0?: Float32Array;
  /** Real lengths `[B]` in 1..T: steps past them keep the state (final state at the last real step). */
  lengths?: ArrayLike<number>;
}

export interface LstmResult {
  /** Top layer's h for every step `[B, T, H]`. */
  output: Float32Array;
  /** Final states `[L, B, H]`. */
  hN: Float32Array;
  cN: Float32Array;
}

export interface LstmGradResult extends LstmResult {
  /** Gradients of `Σ dOutput·output + Σ dhN·hN + Σ dcN·cN`. */
  dx: Float32Array;
  dh0: Float32Array;
  dc0: Float32Array;
  grads: LstmWeights;
}

function lstmDims(x: Tensor, w: LstmWeights): { B: number; T: number; I: number; H: number; L: number } {
  checkTensor(x, 'x', 3);
  const [B, T, I] = x.shape;
  if (!w || typeof w !== 'object' || !(w.weight_hh_l0 instanceof Float32Array))
    throw new ShapeError('weights must hold weight_hh_l0 (a Float32Array)', {
      argument: 'weights.weight_hh_l0',
      expected: 'Float32Array [4H, H]',
      actual: typeof w?.weight_hh_l0,
    });
  const H = Math.round(Math.sqrt(w.weight_hh_l0.length / 4));
  if (4 * H * H !== w.weight_hh_l0.length)
    throw new ShapeError('weight_hh_l0 must be [4H, H]', {
      argument: 'weights.weight_hh_l0.length',
      expected: '4H²',
      actual: w.weight_hh_l0.length,
    });
  let L = 0;
  while (w[`weight_ih_l${L}`]) L++;
  if (L === 0)
    throw new ShapeError('weights must hold weight_ih_l0', {
      argument: 'weights.weight_ih_l0',
      expected: 'Float32Array [4H, I]',
      actual: undefined,
    });
  for (let k = 0; k < L; k++) {
    const want: [string, number][] = [
      [`weight_ih_l${k}`, 4 * H * (k === 0 ? I : H)],
      [`weight_hh_l${k}`, 4 * H * H],
      [`bias_ih_l${k}`, 4 * H],
      [`bias_hh_l${k}`, 4 * H],
    ];
    for (const [key, n] of want) {
      const v = w[key];
      if (!(v instanceof Float32Array) || v.length !== n)
        throw new ShapeError(`weights.${key} must be a Float32Array of ${n}`, {
          argument: `weights.${key}`,
          expected: n,
          actual: v instanceof Float32Array ? v.length : typeof v,
        });
    }
  }
  return { B, T, I, H, L };
}

function runLstm(
  x: Tensor,
  w: LstmWeights,
  o: LstmOptions,
  up?: { dOutput?: Float32Array; dhN?: Float32Array; dcN?: Float32Array },
): LstmResult | LstmGradResult {
  const { B, T, I, H, L } = lstmDims(x, w);
  wasm(); // throws BackendError before init (before the shape checks)
  const need = (v: Float32Array | undefined, name: string, n: number) => {
    if (v !== undefined && (!(v instanceof Float32Array) || v.length !== n))
      throw new ShapeError(`${name} must be a Float32Array of ${n}`, {
        argument: name,
        expected: n,
        actual: v instanceof Float32Array ? v.length : typeof v,
      });
  };
  need(o.h0, 'options.h0', L * B * H);
  need(o.c0, 'options.c0', L * B * H);
  need(up?.dOutput, 'upstream.dOutput', B * T * H);
  need(up?.dhN, 'upstream.dhN', L * B * H);
  need(up?.dcN, 'upstream.dcN', L * B * H);
  if (o.lengths !== undefined) {
    if (o.lengths.length !== B)
      throw new ShapeError('lengths must give one length per sequence', {
        argument: 'options.lengths',
        expected: B,
        actual: o.lengths.length,
      });
    for (let b = 0; b < B; b++)
      if (!(Number.isInteger(o.lengths[b]) && o.lengths[b] >= 1 && o.lengths[b] <= T))
        throw new ShapeError(`lengths[${b}] = ${o.lengths[b]} is outside 1..T`, {
          argument: `options.lengths[${b}]`,
          expected: `1..${T}`,
          actual: o.lengths[b],
        });
  }
  if (B * T === 0)
    throw new ShapeError('x must have at least one sequence and one step', {
      argument: 'x.shape',
      expected: 'B >= 1, T >= 1',
      actual: x.shape,
    });
  return withBuffers((alloc) => {
    const xb = alloc(x.data);
    const lens = o.lengths ? alloc(Int32Array.from(o.lengths as ArrayLike<number>), 'i32').ptr : 0;
    const W = (key: string) => alloc(w[key]).ptr;
    const ws = Array.from({ length: L }, (_, l) => ({
      ih: W(`weight_ih_l${l}`),
      hh: W(`weight_hh_l${l}`),
      bih: W(`bias_ih_l${l}`),
      bhh: W(`bias_hh_l${l}`),
    }));
    const h0 = o.h0 ? alloc(o.h0) : undefined;
    const c0 = o.c0 ? alloc(o.c0) : undefined;
    const hs = ws.map(() => alloc(B * T * H)),
      cs = ws.map(() => alloc(B * T * H)),
      gs = ws.map(() => alloc(B * T * 4 * H));
    const hN = alloc(L * B * H),
      cN = alloc(L * B * H);
    const layers: StackLayer[] = ws.map((w, l) => ({
      weights: { wIh: w.ih, wHh: w.hh, bIh: w.bih, bHh: w.bhh },
      hSeq: hs[l].ptr,
      cSeq: cs[l].ptr,
      gates: gs[l].ptr,
      h0: h0 ? at(h0.ptr, l * B * H) : 0,
      c0: c0 ? at(c0.ptr, l * B * H) : 0,
      hLast: at(hN.ptr, l * B * H),
      cLast: at(cN.ptr, l * B * H),
    }));
    stackForward({ B, T, I, H }, xb.ptr, lens, layers);
    const res: LstmResult = { output: hs[L - 1].toFloat32Array(), hN: hN.toFloat32Array(), cN: cN.toFloat32Array() };
    if (!up) return res;
    const dTop = up.dOutput ? alloc(up.dOutput) : undefined;
    const dhN = up.dhN ? alloc(up.dhN) : undefined;
    const dcN = up.dcN ? alloc(up.dcN) : undefined;
    const dx = alloc(B * T * I),
      dh0 = alloc(L * B * H),
      dc0 = alloc(L * B * H);
    const g = layers.map((_, l) => {
      const iSize = l === 0 ? I : H;
      return { ih: alloc(4 * H * iSize), hh: alloc(4 * H * H), bih: alloc(4 * H), bhh: alloc(4 * H) };
    });
    layers.forEach((ly, l) => {
      ly.grads = { wIh: g[l].ih.ptr, wHh: g[l].hh.ptr, bIh: g[l].bih.ptr, bHh: g[l].bhh.ptr };
      ly.dhLast = dhN ? at(dhN.ptr, l * B * H) : 0;
      ly.dcLast = dcN ? at(dcN.ptr, l * B * H) : 0;
      ly.dh0 = at(dh0.ptr, l * B * H);
      ly.dc0 = at(dc0.ptr, l * B * H);
    });
    const dInputs = layers.map((_, l) => (l === 0 ? dx.ptr : alloc(B * T * H).ptr));
    stackBackward({ B, T, I, H }, xb.ptr, lens, layers, dTop ? dTop.ptr : 0, dInputs);
    const grads: LstmWeights = {};
    for (let l = L - 1; l >= 0; l--) {
      grads[`weight_ih_l${l}`] = g[l].ih.toFloat32Array();
      grads[`weight_hh_l${l}`] = g[l].hh.toFloat32Array();
      grads[`bias_ih_l${l}`] = g[l].bih.toFloat32Array();
      grads[`bias_hh_l${l}`] = g[l].bhh.toFloat32Array();
    }
    return { ...res, dx: dx.toFloat32Array(), dh0: dh0.toFloat32Array(), dc0: dc0.toFloat32Array(), grads };
  });
}

/** A stacked LSTM over `x: [B, T, I]` with `nn.LSTM` weights (gate order i, f, g, o; logistic sigmoid). */
export function lstm(x: Tensor, weights: LstmWeights, options: LstmOptions = {}): LstmResult {
  return runLstm(x, weights, options);
}

/** `lstm` and the gradients of `Σ dOutput·output + Σ dhN·hN + Σ dcN·cN` (inputs, initial states, weights). */
export function lstmGradients(
  x: Tensor,
  weights: LstmWeights,
  upstream: { dOutput?: Float32Array; dhN?: Float32Array; dcN?: Float32Array },
  options: LstmOptions = {},
): LstmGradResult {
  return runLstm(x, weights, options, upstream ?? {}) as LstmGradResult;
}
