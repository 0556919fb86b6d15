// Messages between the page (main.ts) and the Worker (worker.ts), which owns the data, the detector
// (`AnomalyDetector` with its defaults) and all computation. Requests carry an id and get one reply; training also streams events.

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

/** What the page may pass to `AnomalyDetector.fit` besides the series: the seed and, under "advanced", the training budget. */
export interface TrainOptions {
  seed: number;
  maxSteps?: number;
  maxSeconds?: number;
}

export interface EpochEvent {
  /** Which of the detector's models is training (0-based), and how many it trains. */
  member: number;
  members: number;
  epoch: number;
  /** Optimizer steps so far, and the budget. */
  step: number;
  maxSteps: number;
  loss: number;
  recon: number;
  kl: number;
  valLoss?: number;
  seconds: number;
  seqPerSec: number;
}

export interface BatchEvent {
  step: number;
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
}

/** The detector's plan, as the page shows it. */
export interface DetectorSummary {
  /** Short description (model sizes, parameters). */
  description: string;
  parameters: number;
  /** Window in rows of the input (window × aggregate), and why it was chosen. */
  window: number;
  windowReason: string;
  threshold: number;
  thresholdRule: string;
  /** The diagnostics of training: whether the model learnt more than each window's mean. */
  diagnostics: string;
  notLearnt: boolean;
  columns: string[];
  trainedOn: string;
  steps: number;
  stopped: string;
  /** Models whose point errors the detector averages. */
  members: number;
}

export interface TrainResult {
  stopped: string;
  epochs: number;
  steps: number;
  firstLoss: number;
  finalLoss: number;
  seconds: number;
  detector: DetectorSummary;
}

export interface ScoreResult {
  /** `det.score(series).scores`: one smoothed score per point. */
  scores: Float32Array;
  /** The detector's reconstruction `[n, D]`, in the display units of the data set (z-scored per feature). */
  reconstruction: Float32Array;
  threshold: number;
  /** Detected intervals (inclusive point indices). */
  intervals: Region[];
  /** Points inside a detected interval. */
  flagged: number;
  topScore: number;
  topIndex: number;
  /** Indices of the highest-scoring points, best first. */
  topIndices: number[];
  seconds: number;
}

/** The start of a live replay (`det.stream()` fed the chosen series row by row in the Worker). */
export interface LiveStart {
  /** Rows of the series. */
  n: number;
  /** `live.delay`: rows between a pushed row and the row whose score it reports. */
  delay: number;
  threshold: number;
  /** Feature names (of the detector, else of the data set), for the top feature of each point. */
  columns: string[];
  /** Rows per second asked for (0: as fast as it goes). */
  speed: number;
}

/** An alarm that opened or closed during the replay (`event` of a pushed point). */
export type LiveAlarmEvent =
  | { type: 'open'; start: number; at: number }
  | {
      type: 'close';
      start: number;
      end: number;
      /** The point whose score closed it. */
      at: number;
      /** The features with the largest shares of the interval's squared error (at most 3), largest first. */
      features: { name: string; share: number }[];
      /** The row with the most error. */
      peak: number;
    };

/** Points of a live replay, posted in batches at a steady pace. */
export interface LiveBatch {
  /** Rows pushed so far. */
  rows: number;
  /** Index of the first score in this batch; the scores are of consecutive rows (none while warming up). */
  from: number;
  scores: Float32Array;
  /** Each point above the threshold (1) or not (0). */
  anomaly: Uint8Array;
  /** Each point's top feature (largest share of its squared error, from `contributions`) and that share. */
  top: Int16Array;
  topShare: Float32Array;
  events: LiveAlarmEvent[];
  /** Since the replay started; rows pushed per second of wall-clock time; mean milliseconds per push. */
  seconds: number;
  rowsPerSec: number;
  pushMs: number;
}

export interface ReplayResult {
  /** Rows pushed, of n; whether Stop ended the replay. */
  rows: number;
  n: number;
  stopped: boolean;
  delay: number;
  seconds: number;
  rowsPerSec: number;
  pushMs: number;
  /** Alarms opened and closed. */
  opened: number;
  closed: number;
  /** Live scores compared with `det.score` of the same rows, and the largest absolute difference (NaN: not compared). */
  compared: number;
  maxDiff: number;
  /** Closed alarms equal to an interval of `det.score` of the same rows. */
  closedMatching: number;
  /** Why the comparison was not made, if it was not. */
  note?: string;
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
  | { type: 'score' }
  | { type: 'replay'; speed: number }
  | { type: 'replaySpeed'; speed: number }
  | { type: 'stopReplay' }
  | { type: 'exportModel' }
  | { type: 'importModel'; file: File }
  | { type: 'save'; name: string }
  | { type: 'load'; name: string }
  | { type: 'list' }
  | { type: 'delete'; name: string };

export type Event =
  | { type: 'event'; event: 'epoch'; data: EpochEvent }
  | { type: 'event'; event: 'batch'; data: BatchEvent }
  | { type: 'event'; event: 'progress'; data: { what: string; done: number; total: number } }
  | { type: 'event'; event: 'liveStart'; data: LiveStart }
  | { type: 'event'; event: 'live'; data: LiveBatch };

export type Reply = { type: 'reply'; id: number; ok: true; result: unknown } | { type: 'reply'; id: number; ok: false; error: string };
