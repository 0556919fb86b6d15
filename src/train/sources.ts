/**
 * Data sources: an in-memory data set as indexable sequences.
 */

import type { Trainable } from './trainable.js';
import type { ModelInput } from '../core/tensor.js';

export interface Source {
  n: number;
  slice(idx: Int32Array): ModelInput;
}

/** Splits an in-memory data set into indexable sequences. */
export function source(model: Trainable, data: ModelInput): Source {
  const bt = model.toBatch(data, 'data');
  const { B, T } = bt;
  if (model.config.mode === 'continuous') {
    const D = model.config.features;
    return {
      n: B,
      slice(idx) {
        const out = new Float32Array(idx.length * T * D);
        idx.forEach((i, j) => out.set(bt.floats!.subarray(i * T * D, (i + 1) * T * D), j * T * D));
        const lengths = bt.lengths ? Int32Array.from(idx, (i) => bt.lengths![i]) : undefined;
        return { data: out, shape: [idx.length, T, D], lengths };
      },
    };
  }
  return {
    n: B,
    slice(idx) {
      const out = new Int32Array(idx.length * T);
      idx.forEach((i, j) => out.set(bt.ids!.subarray(i * T, (i + 1) * T), j * T));
      return { data: out, shape: [idx.length, T], lengths: Int32Array.from(idx, (i) => bt.lengths![i]) };
    },
  };
}
