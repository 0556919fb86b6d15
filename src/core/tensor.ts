import { ShapeError } from './errors.js';

/** A dense float32 tensor: `data` in row-major order, `shape` its dimensions. */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

/** Continuous input: `data` `[B, T, D]` (or nested arrays), optional per-sequence `lengths`. */
export interface SequenceInput {
  data: Float32Array | number[][][];
  shape?: number[];
  lengths?: ArrayLike<number>;
}
/** Token input: ids `[B, T]` padded with 0, and per-sequence lengths. */
export interface TokenInput {
  data: Int32Array | number[][];
  shape?: number[];
  lengths?: ArrayLike<number>;
}
export type ModelInput = SequenceInput | TokenInput | number[][][];

export function product(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

/**
 * Checks that `t` is a `{ data: Float32Array, shape }` tensor of `rank` dimensions whose data length
 * matches its shape; throws ShapeError naming `name` otherwise.
 */
export function checkTensor(t: unknown, name: string, rank: number): asserts t is Tensor {
  if (t === null || typeof t !== 'object') {
    throw new ShapeError(`${name} must be a tensor`, {
      argument: name,
      expected: `{ data: Float32Array, shape: [${rank} dims] }`,
      actual: t === null ? 'null' : typeof t,
    });
  }
  const { data, shape } = t as { data?: unknown; shape?: unknown };
  if (!(data instanceof Float32Array)) {
    const actual = data === undefined ? 'undefined' : ((data as object)?.constructor?.name ?? typeof data);
    throw new ShapeError(`${name}.data must be a Float32Array`, { argument: `${name}.data`, expected: 'Float32Array', actual });
  }
  if (!Array.isArray(shape) || shape.length !== rank || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`${name}.shape must list ${rank} non-negative whole numbers`, {
      argument: `${name}.shape`,
      expected: `${rank} dims`,
      actual: shape,
    });
  }
  const n = product(shape);
  if (n !== data.length) {
    throw new ShapeError(`${name}.data has ${data.length} elements but its shape [${shape.join(', ')}] needs ${n}`, {
      argument: `${name}.data.length`,
      expected: n,
      actual: data.length,
    });
  }
}
