/**
 * The metadata `lstm-vae train` saves with a model (window plan, normalizer, threshold, training), built once here.
 */

import { basename } from 'node:path';
import { FormatError } from '../core/errors.js';
import { type Normalizer, normalizerFromJSON, type NormalizerJSON } from '../data/normalize.js';
import type { Reduce } from '../detect/scores.js';
import type { EpochStats, History } from '../train/index.js';

export interface CliMetadata {
  /** Layout version of this object. */
  cli: 1;
  input: {
    kind: 'csv' | 'json' | 'ndjson' | 'text';
    columns?: string[];
    features?: number;
    timestamp?: string | null;
  };
  /** Windows (continuous data): `whole` = each sequence is one window of `length` steps. */
  window?: { length: number; stride: number; whole: boolean };
  normalizer?: NormalizerJSON;
  scoring: {
    /** How per-step errors become per-point scores. */
    reduce: Reduce;
    /** Scores above this are anomalies (per point; per sequence for text). */
    threshold: number;
    /** The training-score percentile the threshold was set at. */
    percentile: number;
    /** Threshold for per-window scores (`score --windows`). */
    windowThreshold?: number;
  };
  training: {
    file: string;
    trainedAt: string;
    seconds: number;
    sequences: number;
    points?: number;
    options: Record<string, unknown>;
    history: Array<{ epoch: number; loss: number; recon: number; kl: number; valLoss?: number; seqPerSec?: number }>;
    /** Continuous window models: whether the model learnt more than each window's mean (`train`'s diagnostics line). */
    diagnostics?: { notLearnt: boolean; message: string };
  };
}

export function readCliMetadata(metadata: Record<string, unknown> | undefined, file: string): CliMetadata | undefined {
  const m = metadata?.lstmVaeCli ?? metadata?.['lstm-vae-cli'];
  if (m === undefined) return undefined;
  if (!m || typeof m !== 'object' || (m as { cli?: unknown }).cli !== 1) {
    throw new FormatError(`${file}: the model's CLI metadata is not readable by this version`);
  }
  return m as CliMetadata;
}

export function normalizerOf(meta: CliMetadata | undefined, file: string): Normalizer | undefined {
  if (!meta?.normalizer) return undefined;
  try {
    return normalizerFromJSON(meta.normalizer);
  } catch (e) {
    throw new FormatError(`${file}: the saved normalizer is invalid: ${(e as Error).message}`);
  }
}

export function historySummary(h: History): CliMetadata['training']['history'] {
  return h.epochs.map((e: EpochStats) => {
    const r: CliMetadata['training']['history'][number] = { epoch: e.epoch, loss: e.loss, recon: e.recon, kl: e.kl };
    if (e.valLoss !== undefined) r.valLoss = e.valLoss;
    if (e.seqPerSec !== undefined) r.seqPerSec = Math.round(e.seqPerSec);
    return r;
  });
}

/** The `training` part of the metadata saved with a model (continuous and token models alike). */
export function trainingMetadata(
  dataFile: string,
  seconds: number,
  sequences: number,
  points: number | undefined,
  o: { epochs: number; batchSize: number; lr: number; beta?: number; seed: number },
  history: History,
): CliMetadata['training'] {
  return {
    file: basename(dataFile),
    trainedAt: new Date().toISOString(),
    seconds: Math.round(seconds * 10) / 10,
    sequences,
    ...(points !== undefined ? { points } : {}),
    options: { epochs: o.epochs, batchSize: o.batchSize, learningRate: o.lr, beta: o.beta ?? 1, seed: o.seed, stopped: history.stopped },
    history: historySummary(history),
  };
}
