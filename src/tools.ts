/**
 * Internal helpers for the repository's scripts (demo, benchmarks), bundled as dist/tools.js.
 * Not part of the package's public API: anything here that users need should move to index.node.ts.
 */
export { loadSensorNetwork, loadNames, loadEcg5000, loadNabFile, listNab, dataRoot, SENSOR_FEATURES } from './data/datasets.js';
export { zScoreScores, rollingZScores, pcaReconstructionScores } from './eval/baselines.js';
export { findAnomalies, findAnomaliesDetailed } from './detect/find-anomalies.js';
export { rocAuc, averagePrecision, bestF1, percentileThreshold, overlappingSegmentF1, sumSegmentCounts } from './eval/metrics.js';
export { windows, windowStarts, windowScoresToPoints } from './data/windows.js';
export { MinMaxNormalizer, ZScoreNormalizer, normalizerFromJSON } from './data/normalize.js';
export { windowsToPointScores, type Reduce } from './detect/scores.js';
export { labelRuns } from './detect/intervals.js';
export { writeFileAtomic, writeFileAtomicSync } from './io/atomic-write.js';
export * from './report/index.js';
export { synthetic, type SyntheticSeries, type SyntheticOptions, type AnomalyKind } from './data/synthetic.js';
