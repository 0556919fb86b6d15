/**
 * Typed wrappers of the WebAssembly kernels that take many pointers: named fields instead of long
 * positional lists, and the one place that turns float offsets into byte addresses.
 *
 * A pointer is a byte address in WebAssembly memory; 0 means "none" where a kernel allows it.
 */

import { wasm } from './index.js';

/** Bytes per float32 / int32 element. */
const BYTES = 4;

/** The address `floats` elements after `ptr` (a float32 buffer), or 0 when `ptr` is 0. */
export function at(ptr: number, floats: number): number {
  return ptr === 0 ? 0 : ptr + BYTES * floats;
}

export interface LstmDims {
  /** Batch size, steps, input size, hidden size. */
  B: number;
  T: number;
  I: number;
  H: number;
}

/** One LSTM layer's parameters (nn.LSTM layout, gate order i, f, g, o). */
export interface LstmLayerWeights {
  wIh: number;
  wHh: number;
  bIh: number;
  bHh: number;
}

export interface LstmForwardBuffers {
  /** Input `[B, T, I]`; per-sequence lengths (int32 `[B]`) or 0 for all T. */
  x: number;
  lengths: number;
  weights: LstmLayerWeights;
  /** Initial states `[B, H]` (0 = zeros). */
  h0?: number;
  c0?: number;
  /** Outputs: hidden and cell states `[B, T, H]`, gates `[B, T, 4H]` (kept for backward). */
  hSeq: number;
  cSeq: number;
  gates: number;
  /** Final states `[B, H]` (at each sequence's length), when wanted. */
  hLast?: number;
  cLast?: number;
}

/** One LSTM layer forward over a batch. */
export function lstmForward({ B, T, I, H }: LstmDims, b: LstmForwardBuffers): void {
  const w = b.weights;
  wasm().lstm_forward(
    B,
    T,
    I,
    H,
    b.x,
    b.lengths,
    w.wIh,
    w.wHh,
    w.bIh,
    w.bHh,
    b.h0 ?? 0,
    b.c0 ?? 0,
    b.hSeq,
    b.cSeq,
    b.gates,
    b.hLast ?? 0,
    b.cLast ?? 0,
  );
}

export interface LstmBackwardBuffers {
  /** What the forward pass read and wrote. */
  x: number;
  lengths: number;
  weights: Pick<LstmLayerWeights, 'wIh' | 'wHh'>;
  h0?: number;
  c0?: number;
  hSeq: number;
  cSeq: number;
  gates: number;
  /** Upstream gradients: of hSeq `[B, T, H]`, of the final states `[B, H]` (0 = none). */
  dhSeq?: number;
  dhLast?: number;
  dcLast?: number;
  /** Gradients out: of the input `[B, T, I]` and initial states `[B, H]` (0 = not wanted). */
  dx?: number;
  dh0?: number;
  dc0?: number;
  /** `[B, I]`: `Σ_t` of the input gradient, for an input repeated at every step (0 = not wanted). */
  dxSum?: number;
  /** Parameter gradients, accumulated into. */
  grads: LstmLayerWeights;
}

/** One LSTM layer backward (BPTT); accumulates parameter gradients. */
export function lstmBackward({ B, T, I, H }: LstmDims, b: LstmBackwardBuffers): void {
  const g = b.grads;
  wasm().lstm_backward(
    B,
    T,
    I,
    H,
    b.x,
    b.lengths,
    b.weights.wIh,
    b.weights.wHh,
    b.h0 ?? 0,
    b.c0 ?? 0,
    b.hSeq,
    b.cSeq,
    b.gates,
    b.dhSeq ?? 0,
    b.dhLast ?? 0,
    b.dcLast ?? 0,
    b.dx ?? 0,
    b.dh0 ?? 0,
    b.dc0 ?? 0,
    g.wIh,
    g.wHh,
    g.bIh,
    g.bHh,
    b.dxSum ?? 0,
  );
}

/**
 * Copies a `rows × cols` block of floats between two row-major float32 matrices: from column `srcCol`
 * of `src` (rows of `srcStride` floats) to column `dstCol` of `dst` (rows of `dstStride` floats).
 */
export function copyBlock(
  rows: number,
  cols: number,
  src: { ptr: number; col?: number; stride: number },
  dst: { ptr: number; col?: number; stride: number },
): void {
  wasm().copy_strided(rows, cols, at(src.ptr, src.col ?? 0), src.stride, at(dst.ptr, dst.col ?? 0), dst.stride);
}
