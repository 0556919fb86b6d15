// Everything the package exports, whatever the platform.
export {
  init,
  backendInfo,
  dispose,
  setThreads,
  memoryBytes,
  type InitOptions,
  type BackendInfo,
  type BuildName,
} from './backend/index.js';
export { matmul, lstm, lstmGradients, type LstmWeights, type LstmOptions, type LstmResult, type LstmGradResult } from './nn/ops.js';
export type { Tensor } from './core/tensor.js';
export * from './core/errors.js';
export {
  LstmVae,
  parameterShapes,
  type LstmVaeConfig,
  type ModelInput,
  type SequenceInput,
  type TokenInput,
  type LossOptions,
  type LossResult,
} from './model/index.js';
export { Optimizer, WeightAverage, type OptimizerName, type OptimizerOptions } from './train/index.js';
export type {
  FitOptions,
  History,
  Diagnostics,
  BatchStats,
  EpochStats,
  Schedule,
  KlAnnealing,
  TrainerState,
  CheckpointInfo,
} from './train/index.js';
export { readCheckpoint } from './train/index.js';
export { CharTokenizer, PAD, BOS, EOS, UNK, type TokenBatch } from './data/tokenizer.js';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors.js';
export { rocAuc, averagePrecision, bestF1, percentileThreshold, overlappingSegmentF1 } from './eval/metrics.js';
export { windows, windowScoresToPoints } from './data/windows.js';
export { MinMaxNormalizer, ZScoreNormalizer } from './data/normalize.js';
export {
  modelToBlob,
  modelFromBlob,
  modelFromFile,
  saveToIndexedDB,
  loadFromIndexedDB,
  listModels,
  deleteModel,
  type StoredModelInfo,
  type Saveable,
} from './io/browser-storage.js';
export { fromKerasWeights, type KerasLayers, type KerasLayer, type KerasTensor, type KerasLayerConfig } from './io/keras.js';
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
} from './detect/detector.js';
export { explainRows, type ScoreSource } from './detect/explain.js';
export { findAnomalies, findAnomaliesDetailed, type FindAnomaliesOptions, type AnomalyDetails } from './detect/find-anomalies.js';
export { diagnose } from './detect/diagnostics.js';
