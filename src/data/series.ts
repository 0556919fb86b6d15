/**
 * The shapes of data read from files: continuous series (CSV, JSON / NDJSON sequences) and text lines.
 */

/** One continuous series `[n, D]` (a CSV file, or one sequence of a JSON file). */
export interface Segment {
  name: string;
  /** Row-major `[n, D]`, in the data's units. */
  data: Float32Array;
  n: number;
  timestamps?: string[];
}

export interface ContinuousInput {
  kind: 'csv' | 'json' | 'ndjson';
  file: string;
  columns: string[];
  features: number;
  timestampColumn?: string;
  segments: Segment[];
  /** CSV only: the header, to resolve a `--labels` column. */
  header?: string[];
  /** CSV only: the text, to read a `--labels` column from. */
  text?: string;
  /** CSV only: columns of 0/1 labels that were left out of the features (`findLabels`). */
  labelColumns?: string[];
  /** CSV only: columns of text (ids, names, categories) that were left out of the features (`findLabels`). */
  textColumns?: string[];
  /** Columns set aside as components of the `value` column (trend, noise, seasonality…; see `componentColumns`). */
  componentColumns?: string[];
}

export interface TokenInput {
  kind: 'text';
  file: string;
  lines: string[];
}

export type Input = ContinuousInput | TokenInput;
