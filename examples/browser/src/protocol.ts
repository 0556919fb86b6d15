// Messages between the page (main.ts) and the Worker (worker.ts), which owns the data, the model and
// all computation. Requests carry an id and get one reply; training also streams events.

/** Inclusive point-index interval [start, end]. */
export type Region = [number, number];

export interface BackendSummary {
  build: string;
  threads: number;
  features: string;
  reasons: string[];
  /** crossOriginIsolated as the Worker sees it. */
  isolated: boolean;
}

export interface DatasetSummary {
  /** Human-readable description. */
  name: string;
  /** Points. */
  n: number;
  /** Feature (column) names. */
  columns: string[];
  /** The series, z-scored per feature for display, row-major [n, D]. */
  display: Float32Array;
  /** Labelled / planted anomalous intervals (may be empty). */
  regions: Region[];
  /** A good first point for the reconstruction preview (before a labelled region, if any). */
  previewStart: number;
}

export interface CsvSummary {
  fileName: string;
  rows: number;
  columns: string[];
  /** Whether each column looks numeric. */
  numeric: boolean[];
  /** Numeric columns worth modelling by default (not id, label or time columns; not constant or binary). */
  suggested: boolean[];
  /** A label column found by name, if any. */
  label?: string;
}

export interface TrainOptions {
  windowLength: number;
  stride: number;
  hidden: number;
  latent: number;
  layers: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  beta: number;
  validationSplit: number;
  seed: number;
  previewStart: number;
}

export interface Preview {
  start: number;
  /** Points in the preview (windows × windowLength). */
  length: number;
  features: number;
  /** [length, D] input and reconstruction, in normalised units. */
  input: Float32Array;
  recon: Float32Array;
}

export interface EpochEvent {
  epoch: number;
  epochs: number;
  loss: number;
  recon: number;
  kl: number;
  valLoss?: number;
  seconds: number;
  seqPerSec: number;
  preview?: Preview;
}

export interface BatchEvent {
  step: number;
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
}

export interface ModelSummary {
  /** Short description (sizes, parameters). */
  description: string;
  parameters: number;
  windowLength: number;
  columns: string[];
  trainedOn: string;
  epochs: number;
  finalLoss?: number;
}

export interface TrainResult {
  stopped: string;
  epochs: number;
  finalLoss: number;
  firstLoss: number;
  seconds: number;
  model: ModelSummary;
}

export interface ScoreResult {
  /** One score per point (mean over the windows containing it). */
  scores: Float32Array;
  threshold: number;
  k: number;
  flagged: number;
  topScore: number;
  topIndex: number;
  /** Indices of the highest-scoring points, best first. */
  topIndices: number[];
  seconds: number;
  windows: number;
}

export interface StoredEntry {
  name: string;
  savedAt: number;
  bytes: number;
  description: string;
}

export type Request =
  | { type: 'init' }
  | { type: 'loadBuiltin'; dataset: 'sine' | 'sensor'; mote?: number }
  | { type: 'loadCsv'; file: File }
  | { type: 'selectColumns'; columns: string[]; label?: string }
  | { type: 'train'; options: TrainOptions }
  | { type: 'stop' }
  | { type: 'preview'; start: number }
  | { type: 'score'; k: number }
  | { type: 'exportModel' }
  | { type: 'importModel'; file: File }
  | { type: 'save'; name: string }
  | { type: 'load'; name: string }
  | { type: 'list' }
  | { type: 'delete'; name: string };

export type Event =
  | { type: 'event'; event: 'epoch'; data: EpochEvent }
  | { type: 'event'; event: 'batch'; data: BatchEvent }
  | { type: 'event'; event: 'progress'; data: { what: string; done: number; total: number } };

export type Reply = { type: 'reply'; id: number; ok: true; result: unknown } | { type: 'reply'; id: number; ok: false; error: string };
