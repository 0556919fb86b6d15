/** Anomaly detection on continuous data: windows, scaling, window and point scores, thresholds, intervals. */

export * from './find-anomalies.js';
export * from './windows.js';
export * from './scaling.js';
export * from './scores.js';
export * from './intervals.js';
export * from './thresholds.js';
export * from './preprocess.js';
export * from './postprocess.js';
export {
  AnomalyDetector,
  DetectorStream,
  type DetectorOptions,
  type DetectorBatchStats,
  type DetectorEpochStats,
  type DetectorPlan,
  type DetectorScores,
  type SeriesInput,
  type StreamPoint,
  type StreamEvent,
  type StreamOptions,
  type IntervalExplanation,
} from './detector.js';
export { explainRows, type ScoreSource } from './explain.js';
export * from './diagnostics.js';
