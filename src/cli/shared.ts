/**
 * What the commands share: global options, the backend, loading a model file, training with progress.
 */

import { FormatError } from '../core/errors.js';
import type { Normalizer } from '../data/normalize.js';
import type { Reduce } from '../detect/scores.js';
import { decodeSafetensors, init, LstmVae } from '../index.node.js';
import { readFileBytes } from '../io/atomic-write.js';
import { NOT_SAFETENSORS, TRUNCATED } from '../io/safetensors.js';
import type { History } from '../train/index.js';
import { type CliMetadata, normalizerOf, readCliMetadata } from './metadata.js';
import { TrainingProgress } from './progress.js';

export interface GlobalOptions {
  threads?: number;
}

let globalOptions: GlobalOptions = {};

export function setGlobalOptions(o: GlobalOptions): void {
  globalOptions = o;
}

export async function initBackend(): Promise<void> {
  await init(globalOptions.threads !== undefined ? { threads: globalOptions.threads } : {});
}

/** Exit code 130: the user interrupted training. */
export class Interrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbortError';
  }
}

export interface LoadedModel {
  model: LstmVae;
  file: string;
  bytes: number;
  meta?: CliMetadata;
  normalizer?: Normalizer;
  tensors: number;
}

export async function loadModel(file: string): Promise<LoadedModel> {
  const bytes = await readFileBytes(file);
  await initBackend();
  let model: LstmVae;
  let tensors = 0;
  try {
    tensors = Object.keys(decodeSafetensors(bytes, { maxHeaderBytes: 16 << 20 }).tensors).length;
    model = LstmVae.fromSafetensors(bytes);
  } catch (e) {
    if (e instanceof Error && /Error$/.test(e.name) && e.name !== 'Error' && e.name !== 'TypeError' && e.name !== 'RangeError') {
      // The kind of problem first, the technical detail after.
      if (e.message.startsWith(NOT_SAFETENSORS))
        throw new FormatError(`${file} is not a safetensors model file (${e.message.slice(NOT_SAFETENSORS.length)})`);
      if (e.message.startsWith(TRUNCATED))
        throw new FormatError(`${file} is truncated: it ends before its data does (${e.message.slice(TRUNCATED.length)})`);
      throw new FormatError(`${file} is not a valid lstm-vae model: ${e.message}`);
    }
    throw e;
  }
  const meta = readCliMetadata(model.metadata, file);
  return { model, file, bytes: bytes.length, meta, normalizer: normalizerOf(meta, file), tensors };
}

export function describeReduce(r: Reduce): string {
  if (r === 'step-mean' || r === 'step-max')
    return `${r === 'step-mean' ? 'mean' : 'max'} over the covering windows of the squared error at the point's step (${r})`;
  const what = r === 'q10' ? '10th percentile' : r === 'q25' ? '25th percentile' : r;
  return `${what} of the scores of the windows covering the point (${r})`;
}

export function modelMode(m: LstmVae): 'continuous' | 'tokens' {
  return m.config.mode;
}

/** Runs `fit` with the progress display and Ctrl-C handling. */
export async function fitWithProgress(
  model: LstmVae,
  x: Parameters<LstmVae['fit']>[0],
  o: { epochs: number; batchSize: number; lr: number; beta?: number; validationSplit: number; quiet?: boolean; clipNorm?: number },
): Promise<History> {
  const progress = new TrainingProgress({ epochs: o.epochs, quiet: o.quiet });
  const ac = new AbortController();
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  let history: History;
  try {
    history = await model.fit(x, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      optimizer: 'adam',
      learningRate: o.lr,
      shuffle: true,
      validationSplit: o.validationSplit,
      clipNorm: o.clipNorm ?? 5,
      ...(o.beta !== undefined ? { beta: o.beta } : {}),
      onBatchEnd: (s) => progress.onBatchEnd(s),
      onEpochEnd: (s) => progress.onEpochEnd(s),
      signal: ac.signal,
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
  }
  if (history.stopped === 'aborted' || ac.signal.aborted) throw new Interrupted('training interrupted; nothing was written');
  return history;
}
