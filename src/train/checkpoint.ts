/**
 * Checkpoints: writing them, reading them back, resuming a run from one.
 */

import { ConfigError, FormatError } from '../core/errors.js';
import { Optimizer, type OptimizerName, type OptimizerOptions } from './optim/index.js';
import { decodeSafetensors } from '../io/safetensors.js';
import type { Trainable } from './trainable.js';
import type { FitOptions, TrainerState } from './types.js';

export type Tensors = Record<string, { shape: number[]; data: Float32Array }>;

/** Writes checkpoint files (set by the Node entry to its atomic writer). */
let fileWriter: ((path: string, bytes: Uint8Array) => Promise<void>) | undefined;

/** The writer of checkpoint files, if this runtime has one. */
export function checkpointWriter(): ((path: string, bytes: Uint8Array) => Promise<void>) | undefined {
  return fileWriter;
}

/** @internal */
export function setCheckpointWriter(w: (path: string, bytes: Uint8Array) => Promise<void>): void {
  fileWriter = w;
}

/** @internal The bytes of `model.checkpoint(optimizer, state)`. */
export function makeCheckpoint(model: Trainable, optimizer: Optimizer, state?: TrainerState): Uint8Array {
  if (!(optimizer instanceof Optimizer))
    throw new ConfigError('checkpoint() needs the Optimizer that trains the model', {
      argument: 'optimizer',
      expected: 'Optimizer',
      actual: (optimizer as object)?.constructor?.name ?? typeof optimizer,
    });
  const extra: Tensors = optimizer.stateTensors(model);
  const meta: Record<string, string> = { optimizer: JSON.stringify(optimizer.toJSON()) };
  if (state !== undefined) {
    if (state === null || typeof state !== 'object' || state.version !== 1)
      throw new ConfigError('trainerState must be the trainerState of a History', {
        argument: 'trainerState',
        expected: '{ version: 1, epoch, batch, ... }',
        actual: state,
      });
    const { bestWeights, emaWeights, ...json } = state;
    for (const [name, w, prefix] of [
      ['bestWeights', bestWeights, 'trainer.best.'],
      ['emaWeights', emaWeights, 'trainer.ema.'],
    ] as const) {
      if (!w) continue;
      if (!(w instanceof Float32Array) || w.length !== model.size)
        throw new ConfigError(`trainerState.${name} does not fit this model`, {
          argument: `trainerState.${name}`,
          expected: `Float32Array of ${model.size}`,
          actual: w?.length,
        });
      for (const s of model.specs) extra[`${prefix}${s.key}`] = { shape: [...s.shape], data: w.slice(s.offset, s.offset + s.size) };
    }
    meta.trainer = JSON.stringify(json);
  }
  return model.toSafetensors(extra, meta);
}

export interface CheckpointInfo {
  /** The optimizer's name, hyperparameters and step. */
  optimizer?: { name: OptimizerName; options: OptimizerOptions; step: number };
  /** The training position (absent in a checkpoint made without one). */
  trainerState?: TrainerState;
  /** @internal */
  tensors: Tensors;
  /** @internal */
  config?: Record<string, unknown>;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

const isU32s = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length === 4 && v.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32) && v.some((x) => x !== 0);

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function parseJson(meta: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(meta[key]);
  } catch {
    throw new FormatError(`the ${key} entry of the checkpoint is not valid JSON`, {
      argument: `__metadata__.${key}`,
      expected: 'JSON object',
      actual: meta[key].slice(0, 80),
    });
  }
}

/**
 * Reads the optimizer and trainer parts of a checkpoint (the model itself loads with
 * `LstmVae.fromSafetensors`). Throws FormatError on a malformed file.
 */
export function readCheckpoint(bytes: Uint8Array): CheckpointInfo {
  const { metadata, tensors } = decodeSafetensors(bytes, { maxHeaderBytes: 16 << 20 });
  const bad = (what: string, actual?: unknown) => new FormatError(`the checkpoint's ${what} is malformed`, { argument: what, actual });
  const out: CheckpointInfo = { tensors };
  if (metadata.config !== undefined) {
    const c = parseJson(metadata, 'config');
    if (!isObj(c)) throw bad('__metadata__.config', c);
    out.config = c;
  }
  if (metadata.optimizer !== undefined) {
    const o = parseJson(metadata, 'optimizer');
    if (!isObj(o) || typeof o.name !== 'string' || !isObj(o.options) || !isNat(o.step)) throw bad('__metadata__.optimizer', o);
    out.optimizer = { name: o.name as OptimizerName, options: o.options as OptimizerOptions, step: o.step };
  }
  if (metadata.trainer !== undefined) {
    const t = parseJson(metadata, 'trainer');
    if (!isObj(t)) throw bad('__metadata__.trainer', t);
    if (t.version !== 1)
      throw new FormatError(`the checkpoint's trainer state has version ${String(t.version)}, this package reads version 1`, {
        argument: '__metadata__.trainer.version',
        expected: 1,
        actual: t.version,
      });
    const sums = t.sums as Record<string, unknown>;
    const es = t.earlyStopping as Record<string, unknown> | undefined;
    const ok =
      isNat(t.epoch) &&
      isNat(t.batch) &&
      isNat(t.step) &&
      typeof t.samples === 'number' &&
      Number.isSafeInteger(t.samples) &&
      t.samples >= -1 &&
      isNat(t.batchSize) &&
      t.batchSize >= 1 &&
      typeof t.shuffle === 'boolean' &&
      isNum(t.validationSplit) &&
      isU32s(t.epochRng) &&
      isU32s(t.rng) &&
      isObj(sums) &&
      isNum(sums.loss) &&
      isNum(sums.recon) &&
      isNum(sums.kl) &&
      isNat(sums.seen) &&
      isNum(t.learningRate) &&
      isNum(t.beta) &&
      Array.isArray(t.history) &&
      t.history.every((e) => isObj(e) && isNat(e.epoch) && isNum(e.loss)) &&
      (es === undefined ||
        (isObj(es) &&
          (es.best === null || isNum(es.best)) &&
          typeof es.bestEpoch === 'number' &&
          Number.isInteger(es.bestEpoch) &&
          isNat(es.bad))) &&
      (t.emaDecay === undefined || (isNum(t.emaDecay) && t.emaDecay > 0 && t.emaDecay < 1)) &&
      (t.plateau === undefined ||
        (isObj(t.plateau) && isNum(t.plateau.scale) && t.plateau.scale > 0 && t.plateau.scale <= 1 && isNat(t.plateau.wait)));
    if (!ok) throw bad('__metadata__.trainer', t);
    const state = t as unknown as TrainerState;
    // flattened later against the model's parameter order (see resume)
    const under = (prefix: string) => {
      const keys = Object.keys(tensors).filter((k) => k.startsWith(prefix));
      return keys.length ? Object.fromEntries(keys.map((k) => [k.slice(prefix.length), tensors[k]])) : undefined;
    };
    const st = state as TrainerState & { bestTensors?: Tensors; emaTensors?: Tensors };
    st.bestTensors = under('trainer.best.');
    st.emaTensors = under('trainer.ema.');
    if (!st.bestTensors) delete st.bestTensors;
    if (!st.emaTensors) delete st.emaTensors;
    out.trainerState = state;
  }
  return out;
}

/** The model's architecture keys (what must match to load weights and optimizer state). */
function architecture(c: Record<string, unknown>): string {
  const keys = ['mode', 'features', 'hidden', 'latent', 'layers', 'decoder', 'vocabSize', 'embedding', 'wordDropout'];
  return JSON.stringify(keys.map((k) => [k, c[k] ?? null]));
}

/** Restores weights and optimizer from a checkpoint; returns the optimizer and the trainer state. */
export function resume(model: Trainable, info: CheckpointInfo, options: FitOptions): { opt: Optimizer; state?: TrainerState } {
  if (!info.optimizer)
    throw new FormatError(
      'resumeFrom is not a checkpoint: it has no __metadata__.optimizer (a plain model file? load it with LstmVae.fromSafetensors and train it without resumeFrom)',
      { argument: 'options.resumeFrom', expected: 'a checkpoint from checkpointEvery / onCheckpoint / model.checkpoint()' },
    );
  const mine = model.toConfigJSON() as unknown as Record<string, unknown>;
  if (info.config && architecture(info.config) !== architecture(mine)) {
    throw new ConfigError('the checkpoint is of a different model', {
      argument: 'options.resumeFrom',
      expected: architecture(mine),
      actual: architecture(info.config),
    });
  }
  const ck = info.optimizer;
  const o = options.optimizer;
  if (o !== undefined && (o instanceof Optimizer ? o.name : o) !== ck.name) {
    throw new ConfigError(`the checkpoint continues a '${ck.name}' optimizer`, {
      argument: 'options.optimizer',
      expected: ck.name,
      actual: o instanceof Optimizer ? o.name : o,
    });
  }
  let opt: Optimizer;
  try {
    opt = new Optimizer(ck.name, ck.options);
  } catch (e) {
    throw new FormatError(`the checkpoint's optimizer configuration is invalid: ${(e as Error).message}`, {
      argument: '__metadata__.optimizer',
    });
  }
  if (options.learningRate !== undefined && options.learningRate !== opt.options.lr) {
    throw new ConfigError("resuming continues the checkpoint's learning rate; leave learningRate out or pass the same value", {
      argument: 'options.learningRate',
      expected: opt.options.lr,
      actual: options.learningRate,
    });
  }
  const wanted = o instanceof Optimizer ? o.options : (options.optimizerOptions ?? {});
  for (const [k, v] of Object.entries(wanted)) {
    const have = (opt.options as Record<string, unknown>)[k];
    if (v !== undefined && JSON.stringify(v) !== JSON.stringify(have)) {
      throw new ConfigError(`resuming continues the checkpoint's optimizer; its ${k} differs`, {
        argument: o instanceof Optimizer ? `options.optimizer.options.${k}` : `options.optimizerOptions.${k}`,
        expected: have,
        actual: v,
      });
    }
  }
  if (o instanceof Optimizer) opt = o;
  const own: Tensors = {};
  for (const [k, v] of Object.entries(info.tensors)) if (!k.startsWith('optimizer.') && !k.startsWith('trainer.')) own[k] = v;
  model.loadStateDict(own);
  try {
    opt.loadState(model, ck.step, info.tensors);
  } catch (e) {
    throw new FormatError(`the checkpoint's optimizer state is incomplete: ${(e as Error).message}`, { argument: 'options.resumeFrom' });
  }
  const state = info.trainerState as (TrainerState & { bestTensors?: Tensors; emaTensors?: Tensors }) | undefined;
  const flatten = (tensors: Tensors, prefix: string): Float32Array => {
    const flat = new Float32Array(model.size);
    for (const s of model.specs) {
      const t = tensors[s.key];
      if (!t || t.data.length !== s.size)
        throw new FormatError(`the checkpoint lacks ${prefix}${s.key}`, {
          argument: `${prefix}${s.key}`,
          expected: `${s.size} values`,
          actual: t ? t.data.length : 'missing',
        });
      flat.set(t.data, s.offset);
    }
    return flat;
  };
  if (state?.bestTensors) {
    state.bestWeights = flatten(state.bestTensors, 'trainer.best.');
    delete state.bestTensors;
  }
  if (state?.emaTensors) {
    state.emaWeights = flatten(state.emaTensors, 'trainer.ema.');
    delete state.emaTensors;
  }
  if (state?.emaDecay !== undefined && !state.emaWeights)
    throw new FormatError('the checkpoint was made with averaged weights (emaDecay) but lacks them (trainer.ema.*)', {
      argument: 'trainer.ema',
      expected: 'the averaged weights',
      actual: 'missing',
    });
  return { opt, state };
}
