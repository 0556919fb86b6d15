/**
 * Windows of continuous data: the plan (length, stride, whole sequences) and the windows of a set of segments.
 */

import { DataError } from '../core/errors.js';
import type { ContinuousInput, Segment } from '../data/series.js';
import { windowStarts } from '../data/windows.js';

export interface Windowed {
  x: { data: Float32Array; shape: [number, number, number] };
  /** Segment index of each window. */
  segment: Int32Array;
  /** Start point of each window within its segment. */
  start: Int32Array;
  length: number;
  stride: number;
  /** First window index of each segment (length = segments + 1). */
  offsets: number[];
}

/**
 * The window plan for an input: `--window` given → windows of that length every `stride` points in each
 * segment; otherwise a CSV uses `defaultLength`, and JSON sequences of one common length are taken whole.
 */
export function planWindows(
  input: ContinuousInput,
  window: number | undefined,
  stride: number | undefined,
  defaultLength = 100,
  defaultStride = 10,
): { length: number; stride: number; whole: boolean } {
  if (window !== undefined) return { length: window, stride: stride ?? Math.max(1, Math.min(defaultStride, window)), whole: false };
  if (input.kind === 'csv') {
    const n = input.segments[0].n;
    if (n < defaultLength) {
      throw new DataError(`${input.file} has ${n} rows, fewer than the default window of ${defaultLength} points; pass a smaller --window`);
    }
    return { length: defaultLength, stride: stride ?? defaultStride, whole: false };
  }
  const lengths = new Set(input.segments.map((s) => s.n));
  if (lengths.size === 1) {
    const len = input.segments[0].n;
    return { length: len, stride: len, whole: true };
  }
  const sorted = [...lengths].sort((a, b) => a - b);
  throw new DataError(
    `${input.file}: the sequences have different lengths (${sorted.slice(0, 5).join(', ')}${sorted.length > 5 ? ', …' : ''}); pass --window to cut them into windows of one length`,
  );
}

export function makeWindows(segments: Segment[], features: number, length: number, stride: number, whole = false): Windowed {
  const perSeg: number[][] = segments.map((s) => {
    if (whole) {
      if (s.n !== length) {
        throw new DataError(`${s.name} has ${s.n} steps; the model was trained on whole sequences of ${length} steps`);
      }
      return [0];
    }
    if (s.n < length) {
      throw new DataError(`${s.name} has ${s.n} points, fewer than one window of ${length}; use a smaller --window (at training time)`);
    }
    return windowStarts(s.n, length, stride);
  });
  const w = perSeg.reduce((a, p) => a + p.length, 0);
  const block = length * features;
  const data = new Float32Array(w * block);
  const segment = new Int32Array(w);
  const start = new Int32Array(w);
  const offsets: number[] = [0];
  let k = 0;
  segments.forEach((s, i) => {
    for (const st of perSeg[i]) {
      data.set(s.data.subarray(st * features, st * features + block), k * block);
      segment[k] = i;
      start[k] = st;
      k++;
    }
    offsets.push(k);
  });
  return { x: { data, shape: [w, length, features] }, segment, start, length, stride, offsets };
}
