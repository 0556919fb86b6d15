/**
 * Continuous data through a loaded model: read, scale and window it as the model was trained, then score.
 */

import { DataError } from '../core/errors.js';
import type { ContinuousInput, Segment } from '../data/series.js';
import { normalizeSegments } from '../detect/scaling.js';
import { pointScores, type Reduce, scoreWindows, type WindowScores } from '../detect/scores.js';
import { makeWindows, planWindows, type Windowed } from '../detect/windows.js';
import { UsageError } from './errors.js';
import { kindOf, readInput } from './input.js';
import type { LoadedModel } from './shared.js';

export interface DataOptions {
  columns?: string[];
  timestamp?: string;
  window?: number;
  stride?: number;
  reduce?: Reduce;
}

export interface Scored {
  input: ContinuousInput;
  segments: Segment[];
  ws: Windowed;
  sc: WindowScores;
  pts: Float64Array[];
  reduce: Reduce;
}

export function prepareContinuous(
  lm: LoadedModel,
  dataFile: string,
  o: DataOptions,
  extra: { exclude?: string[] } = {},
): { input: ContinuousInput; segments: Segment[]; ws: Windowed } {
  const meta = lm.meta;
  const csv = kindOf(dataFile) === 'csv';
  const columns = o.columns ?? (csv && meta?.input.kind === 'csv' ? meta.input.columns : undefined);
  const timestamp = o.timestamp ?? (csv && meta?.input.timestamp ? meta.input.timestamp : undefined);
  const input = readInput(dataFile, { columns, timestamp, exclude: extra.exclude });
  if (input.kind === 'text') throw new UsageError(`${lm.file} is a continuous model but ${dataFile} is text (token) data`);
  const D = lm.model.config.features;
  if (input.features !== D) {
    throw new DataError(
      `${dataFile} has ${input.features} value column${input.features === 1 ? '' : 's'} (${input.columns.join(', ')}) but the model takes ${D}${columns ? '' : '; choose them with --columns'}`,
    );
  }
  const segments = normalizeSegments(input.segments, lm.normalizer);
  let length: number;
  let stride: number;
  let whole = false;
  if (o.window !== undefined) {
    length = o.window;
    stride = o.stride ?? Math.max(1, Math.min(10, o.window));
  } else if (meta?.window) {
    ({ length, stride, whole } = meta.window);
    if (o.stride !== undefined) stride = o.stride;
    if (whole && input.kind === 'csv') {
      whole = false;
      stride = o.stride ?? Math.max(1, Math.floor(length / 4));
    }
  } else {
    if (input.kind === 'csv')
      throw new UsageError(`${lm.file} has no saved window length (it was not trained by lstm-vae train): pass --window`);
    const plan = planWindows(input, undefined, undefined);
    ({ length, stride, whole } = plan);
  }
  return { input, segments, ws: makeWindows(segments, D, length, stride, whole) };
}

export function scoreContinuous(
  lm: LoadedModel,
  dataFile: string,
  o: DataOptions,
  want: { recon?: boolean; mu?: boolean },
  extra: { exclude?: string[] } = {},
): Scored {
  const { input, segments, ws } = prepareContinuous(lm, dataFile, o, extra);
  const reduce = o.reduce ?? lm.meta?.scoring.reduce ?? 'q10';
  const sc = scoreWindows(lm.model, ws.x, want);
  const pts = pointScores(ws, sc, segments, reduce);
  return { input, segments, ws, sc, pts, reduce };
}
