/**
 * A stack of LSTM layers (layer l reads layer l − 1's hidden states), forward and backward: the one
 * loop over layers, used by the model's encoder and decoder and by the `lstm` / `lstmGradients` ops.
 */

import { type LstmLayerWeights, lstmBackward, lstmForward } from '../backend/kernels.js';

/** The buffers of one layer (pointers; 0 or undefined = none). */
export interface StackLayer {
  weights: LstmLayerWeights;
  /** Parameter gradients (backward only), accumulated into. */
  grads?: LstmLayerWeights;
  /** `[B, T, H]` hidden and cell states and `[B, T, 4H]` gates, written forward, read backward. */
  hSeq: number;
  cSeq: number;
  gates: number;
  /** Initial states `[B, H]`. */
  h0?: number;
  c0?: number;
  /** Final states `[B, H]`, when wanted. */
  hLast?: number;
  cLast?: number;
  /** Backward: upstream gradients of the final states, and where the initial states' gradients go. */
  dhLast?: number;
  dcLast?: number;
  dh0?: number;
  dc0?: number;
}

export interface StackDims {
  B: number;
  T: number;
  /** Input size of the first layer; every layer has H hidden units. */
  I: number;
  H: number;
}

/** Forward through every layer of `layers` from `x` `[B, T, I]`; returns the top layer's hSeq. */
export function stackForward({ B, T, I, H }: StackDims, x: number, lengths: number, layers: StackLayer[]): number {
  let inp = x;
  layers.forEach((ly, l) => {
    lstmForward(
      { B, T, I: l === 0 ? I : H, H },
      {
        x: inp,
        lengths,
        weights: ly.weights,
        h0: ly.h0,
        c0: ly.c0,
        hSeq: ly.hSeq,
        cSeq: ly.cSeq,
        gates: ly.gates,
        hLast: ly.hLast,
        cLast: ly.cLast,
      },
    );
    inp = ly.hSeq;
  });
  return inp;
}

/**
 * Backward through the stack, from the top: `dTop` is the gradient of the top layer's hSeq (0 = none);
 * `dInputs[l]` receives the gradient of layer l's input (for l > 0 a `[B, T, H]` buffer, the next
 * layer down's upstream gradient; for l = 0 the gradient of `x`, or 0 when not wanted). `dInputSum` (0 = not
 * wanted) receives layer 0's `Σ_t` of the input gradient `[B, I]` (an input repeated at every step).
 */
export function stackBackward(
  { B, T, I, H }: StackDims,
  x: number,
  lengths: number,
  layers: StackLayer[],
  dTop: number,
  dInputs: number[],
  dInputSum = 0,
): void {
  let dh = dTop;
  for (let l = layers.length - 1; l >= 0; l--) {
    const ly = layers[l];
    if (!ly.grads) throw new Error('stackBackward needs the gradient buffers of every layer');
    lstmBackward(
      { B, T, I: l === 0 ? I : H, H },
      {
        x: l === 0 ? x : layers[l - 1].hSeq,
        lengths,
        weights: ly.weights,
        h0: ly.h0,
        c0: ly.c0,
        hSeq: ly.hSeq,
        cSeq: ly.cSeq,
        gates: ly.gates,
        dhSeq: dh,
        dhLast: ly.dhLast,
        dcLast: ly.dcLast,
        dx: dInputs[l],
        dxSum: l === 0 ? dInputSum : 0,
        dh0: ly.dh0,
        dc0: ly.dc0,
        grads: ly.grads,
      },
    );
    dh = dInputs[l];
  }
}
