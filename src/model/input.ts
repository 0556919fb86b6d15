/**
 * Model inputs: checks and conversion to typed arrays.
 */

import { DataError, ShapeError } from '../core/errors.js';
import type { Resolved } from './config.js';

/** A normalized batch: continuous frames or token ids, with lengths. */
export interface Batch {
  B: number;
  T: number;
  /** continuous: [B,T,D] floats; tokens: [B,T] ids */
  floats?: Float32Array;
  ids?: Int32Array;
  lengths?: Int32Array;
}

/** Checks an input batch against the configuration and converts it to typed arrays. */
export function toBatch(c: Resolved, x: unknown, name = 'x'): Batch {
  if (Array.isArray(x)) x = { data: x };
  if (x === null || typeof x !== 'object' || !('data' in (x as object))) {
    throw new ShapeError(`${name} must be { data, shape }`, {
      argument: name,
      expected:
        c.mode === 'continuous'
          ? '{ data: Float32Array, shape: [B, T, D] } or number[][][]'
          : '{ data: Int32Array, shape: [B, T], lengths }',
      actual: x === null ? 'null' : typeof x,
    });
  }
  const { data, shape, lengths } = x as { data: unknown; shape?: unknown; lengths?: unknown };
  let B: number, T: number;
  let floats: Float32Array | undefined, ids: Int32Array | undefined;
  if (c.mode === 'continuous') {
    const D = c.features;
    if (Array.isArray(data)) {
      B = data.length;
      if (B === 0) throw new DataError(`${name} is empty`, { argument: name, expected: 'at least one sequence', actual: 0 });
      T = Array.isArray(data[0]) ? data[0].length : -1;
      floats = new Float32Array(B * Math.max(T, 0) * D);
      for (let b = 0; b < B; b++) {
        const seq = data[b];
        if (!Array.isArray(seq) || seq.length !== T)
          throw new ShapeError(`${name}[${b}] must be an array of ${T} steps`, {
            argument: `${name}[${b}]`,
            expected: `${T} steps`,
            actual: Array.isArray(seq) ? seq.length : typeof seq,
          });
        for (let t = 0; t < T; t++) {
          const f = seq[t];
          if (!Array.isArray(f) || f.length !== D)
            throw new ShapeError(`${name}[${b}][${t}] must have ${D} features`, {
              argument: `${name}[${b}][${t}]`,
              expected: D,
              actual: Array.isArray(f) ? f.length : typeof f,
            });
          for (let d = 0; d < D; d++) floats[(b * T + t) * D + d] = f[d];
        }
      }
    } else {
      if (!(data instanceof Float32Array))
        throw new ShapeError(`${name}.data must be a Float32Array or nested arrays`, {
          argument: `${name}.data`,
          expected: 'Float32Array',
          actual: (data as object)?.constructor?.name ?? typeof data,
        });
      if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((v) => Number.isSafeInteger(v) && v >= 0))
        throw new ShapeError(`${name}.shape must be [B, T, D]`, { argument: `${name}.shape`, expected: '[B, T, D]', actual: shape });
      [B, T] = shape;
      if (shape[2] !== D)
        throw new ShapeError(`${name} has ${shape[2]} features per step but the model takes ${D}`, {
          argument: `${name}.shape[2]`,
          expected: D,
          actual: shape[2],
        });
      if (data.length !== B * T * D)
        throw new ShapeError(`${name}.data has ${data.length} elements but its shape [${shape.join(', ')}] needs ${B * T * D}`, {
          argument: `${name}.data.length`,
          expected: B * T * D,
          actual: data.length,
        });
      floats = data;
    }
    if (B === 0) throw new DataError(`${name} is empty`, { argument: name, expected: 'at least one sequence', actual: 0 });
    if (T < 1) throw new ShapeError(`${name} has no time steps`, { argument: `${name}.shape[1]`, expected: 'T >= 1', actual: T });
    for (let i = 0; i < floats.length; i++) {
      if (!Number.isFinite(floats[i])) {
        const b = Math.floor(i / (T * D)),
          t = Math.floor(i / D) % T,
          d = i % D;
        throw new DataError(`${name} holds a non-finite value at [${b}, ${t}, ${d}]`, {
          argument: `${name}.data[${i}]`,
          expected: 'a finite number',
          actual: String(floats[i]),
        });
      }
    }
  } else {
    const V = c.vocabSize;
    if (Array.isArray(data)) {
      B = data.length;
      if (B === 0) throw new DataError(`${name} is empty`, { argument: name, expected: 'at least one sequence', actual: 0 });
      T = Math.max(...data.map((s) => (Array.isArray(s) ? s.length : 0)));
      ids = new Int32Array(B * T);
      data.forEach((s, b) => (s as number[]).forEach((v, t) => (ids![b * T + t] = v)));
    } else {
      if (!(data instanceof Int32Array))
        throw new ShapeError(`${name}.data must be an Int32Array of token ids`, {
          argument: `${name}.data`,
          expected: 'Int32Array',
          actual: (data as object)?.constructor?.name ?? typeof data,
        });
      if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((v) => Number.isSafeInteger(v) && v >= 0))
        throw new ShapeError(`${name}.shape must be [B, T]`, { argument: `${name}.shape`, expected: '[B, T]', actual: shape });
      [B, T] = shape;
      if (data.length !== B * T)
        throw new ShapeError(`${name}.data has ${data.length} ids but its shape [${shape.join(', ')}] needs ${B * T}`, {
          argument: `${name}.data.length`,
          expected: B * T,
          actual: data.length,
        });
      ids = data;
    }
    if (B === 0) throw new DataError(`${name} is empty`, { argument: name, expected: 'at least one sequence', actual: 0 });
    if (T < 1) throw new ShapeError(`${name} has no time steps`, { argument: `${name}.shape[1]`, expected: 'T >= 1', actual: T });
    for (let i = 0; i < ids.length; i++) {
      if (!(ids[i] >= 0 && ids[i] < V && Number.isInteger(ids[i])))
        throw new DataError(`${name} holds token id ${ids[i]} at [${Math.floor(i / T)}, ${i % T}], outside the vocabulary`, {
          argument: `${name}.data[${i}]`,
          expected: `0..${V - 1}`,
          actual: ids[i],
        });
    }
  }
  let lens: Int32Array | undefined;
  if (lengths !== undefined) {
    const l = lengths as ArrayLike<number>;
    if (typeof l !== 'object' || l === null || typeof l.length !== 'number' || l.length !== B)
      throw new ShapeError(`${name}.lengths must give one length per sequence`, {
        argument: `${name}.lengths`,
        expected: `${B} lengths`,
        actual: (l as { length?: number })?.length,
      });
    lens = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const v = l[b];
      if (!(Number.isInteger(v) && v >= 1 && v <= T))
        throw new DataError(`${name}.lengths[${b}] = ${v} is outside 1..T`, {
          argument: `${name}.lengths[${b}]`,
          expected: `1..${T}`,
          actual: v,
        });
      lens[b] = v;
    }
  } else if (c.mode === 'tokens') {
    throw new ShapeError(`${name}.lengths is required for token input`, {
      argument: `${name}.lengths`,
      expected: `${B} lengths`,
      actual: undefined,
    });
  }
  return { B, T, floats, ids, lengths: lens };
}
