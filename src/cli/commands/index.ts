/** The actions behind each `lstm-vae` command, one file per command. */

export { bench } from './bench.js';
export { evaluate, type EvalOptions, type EvalResult } from './eval.js';
export { exportModel, type ExportOptions } from './export.js';
export { generate, type GenerateOptions } from './generate.js';
export { importModel, type ImportOptions } from './import.js';
export { info } from './info.js';
export { recalibrate, type RecalibrateOptions } from './recalibrate.js';
export { reconstruct, type ReconstructOptions } from './reconstruct.js';
export { sample, type SampleOptions } from './sample.js';
export { score, type ScoreOptions } from './score.js';
export { train, type TrainOptions } from './train.js';
export { watch, type WatchOptions } from './watch.js';
export { Interrupted, setGlobalOptions, type GlobalOptions } from '../shared.js';
