/**
 * Internal helpers for the repository's scripts (demo, benchmarks), bundled as dist/tools.js.
 * Not part of the package's public API: anything here that users need should move to index.node.ts.
 */
export { loadSensorNetwork, loadNames, loadEcg5000, loadNabFile, listNab, dataRoot, SENSOR_FEATURES } from './data/datasets.js';
export { zScoreScores, pcaReconstructionScores } from './baselines.js';
export { findAnomalies, findAnomaliesDetailed } from './detect.js';
export { rocAuc, averagePrecision, bestF1, percentileThreshold, overlappingSegmentF1, sumSegmentCounts } from './metrics.js';
export { windows, windowStarts, windowScoresToPoints } from './data/windows.js';
export { MinMaxNormalizer, ZScoreNormalizer, normalizerFromJSON } from './data/normalize.js';
export { windowsToPointScores, labelRuns, type Reduce } from './cli/pipeline.js';
export { writeFileAtomic, writeFileAtomicSync } from './node/atomic-write.js';
export * from './report/index.js';
