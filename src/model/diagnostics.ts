/**
 * Diagnostics of a trained continuous model: did it learn the shape of its windows, or only their level?
 * `AnomalyDetector.fit` runs them on its validation windows, `LstmVae.fit` on its validation sequences.
 */

import type { ModelInput } from '../core/tensor.js';
import type { Diagnostics } from '../train/index.js';

/** What the diagnostics call of a model (an `LstmVae`). */
interface Reconstructs {
  readonly config: { readonly mode: 'continuous' | 'tokens' };
  reconstruct(x: Sequences): Float32Array;
  encode(x: Sequences): { mu: Float32Array; logvar: Float32Array };
}

/** Continuous sequences `[B, T, D]`; with `lengths`, sequence b holds its first `lengths[b]` steps (the rest padding). */
type Sequences = { data: Float32Array; shape: [number, number, number]; lengths?: ArrayLike<number> };

/** What to do about a model no better than the window mean: the anomaly detector's options. */
export const DETECTOR_HINT = 'train longer (maxSteps / --max-steps) or try another window (--window)';
/** The same for a model trained with `fit`. */
export const FIT_HINT = 'train longer (a larger maxSteps, or more epochs)';

/**
 * `LstmVae.fit`'s diagnostics of a continuous model on its validation sequences `[B, T, D]` (each over its own
 * length); undefined for a token model.
 */
export function sequenceDiagnostics(model: Reconstructs, x: ModelInput, hint = FIT_HINT): Diagnostics | undefined {
  if (model.config.mode !== 'continuous') return undefined;
  const { data, shape, lengths } = x as { data: Float32Array; shape: number[]; lengths?: ArrayLike<number> };
  if (!(data instanceof Float32Array) || shape.length !== 3 || shape[0] < 1) return undefined;
  return diagnose(model, { data, shape: shape as [number, number, number], lengths }, hint);
}

/**
 * Whether a continuous model learnt more than trivial reconstructions of windows `x` `[B, T, D]` (with `lengths`,
 * each over its first `lengths[b]` steps): its error
 * (posterior-mean reconstruction) against each window's own mean and against the last value carried forward,
 * and the KL of each latent dimension. `notLearnt` when the model is no better than 90 % of the window mean's
 * error, or when every latent dimension carries less than 0.01 nats. `hint`: what to do when the model is no
 * better than the window mean (the anomaly detector's options by default). At most 4,096 windows, evenly spaced, are
 * measured, 512 at a time.
 */
export function diagnose(model: Omit<Reconstructs, 'config'>, windows: Sequences, hint = DETECTOR_HINT): Diagnostics {
  const val = evenlySpaced(windows, MAX_SEQUENCES);
  const [b, t, d] = val.shape;
  const { y, mu, logvar } = inChunks(model, val);
  let modelError = 0,
    meanError = 0,
    lastValueError = 0,
    steps = 0;
  for (let k = 0; k < b; k++) {
    const len = val.lengths ? val.lengths[k] : t;
    steps += len;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let s = 0; s < len; s++) m += val.data[(k * t + s) * d + j];
      m /= Math.max(1, len);
      for (let s = 0; s < len; s++) {
        const i = (k * t + s) * d + j;
        modelError += (val.data[i] - y[i]) ** 2;
        meanError += (val.data[i] - m) ** 2;
        if (s > 0) lastValueError += (val.data[i] - val.data[i - d]) ** 2;
      }
    }
  }
  modelError /= b;
  meanError /= b;
  lastValueError /= b;
  const z = mu.length / b;
  const klPerDimension = Array.from({ length: z }, (_, j) => {
    let s = 0;
    for (let i = 0; i < b; i++) s += -0.5 * (1 + logvar[i * z + j] - mu[i * z + j] ** 2 - Math.exp(logvar[i * z + j]));
    return s / b;
  });
  const activeDimensions = klPerDimension.filter((k) => k >= 0.01).length;
  const noBetter = !(modelError < 0.9 * meanError);
  const collapsed = activeDimensions === 0;
  const ratio = meanError > 0 ? modelError / meanError : 1;
  let message: string;
  if (noBetter) {
    const head = `the model has not learnt the shape of the windows: its reconstruction error is ${(100 * ratio).toFixed(0)}% of the window mean's (${modelError.toPrecision(3)} vs ${meanError.toPrecision(3)}), so its scores are those of a moving-average detector`;
    // Consecutive values no more alike than the window's mean predicts (the last value carried forward does not beat
    // the mean): the windows look like noise around their level, and there may be no shape to learn at all.
    message = looksLikeNoise(lastValueError, meanError, steps / b)
      ? `${head}; the windows look like noise around their level (the last value carried forward does no better than the window's mean: ${((100 * lastValueError) / meanError).toFixed(0)}% of its error), so there may be no shape to learn: the scores then flag changes of level and spread, as a moving average would`
      : `${head}; ${hint}`;
  } else if (collapsed) {
    message =
      'the latent has collapsed (every dimension carries less than 0.01 nats): the decoder ignores the input; lower beta or train longer';
  } else {
    message = `learnt: reconstruction error ${(100 * ratio).toFixed(0)}% of the window mean's (last value carried forward: ${meanError > 0 ? ((100 * lastValueError) / meanError).toFixed(0) : '–'}%), ${activeDimensions} of ${z} latent dimensions active`;
  }
  return { modelError, meanError, lastValueError, klPerDimension, activeDimensions, notLearnt: noBetter || collapsed, message };
}

/** At most this many sequences are diagnosed (evenly spaced), so that a large validation set costs little. */
const MAX_SEQUENCES = 4096;
/** Sequences reconstructed and encoded at a time (bounded WebAssembly memory, as the window scores are). */
const CHUNK = 512;

/** `max` sequences of `x` taken evenly spaced (x itself when it has no more). */
function evenlySpaced(x: Sequences, max: number): Sequences {
  const [b, t, d] = x.shape;
  if (b <= max) return x;
  const pick = Array.from({ length: max }, (_, i) => Math.floor((i * b) / max));
  const data = new Float32Array(max * t * d);
  pick.forEach((k, i) => data.set(x.data.subarray(k * t * d, (k + 1) * t * d), i * t * d));
  const lengths = x.lengths;
  return { data, shape: [max, t, d], lengths: lengths ? Int32Array.from(pick, (k) => lengths[k]) : undefined };
}

/** The reconstructions `[B, T, D]` and posterior `mu`, `logvar` `[B, Z]` of `x`, CHUNK sequences at a time. */
function inChunks(model: Omit<Reconstructs, 'config'>, x: Sequences): { y: Float32Array; mu: Float32Array; logvar: Float32Array } {
  const [b, t, d] = x.shape;
  const y = new Float32Array(b * t * d);
  let mu = new Float32Array(0);
  let logvar = new Float32Array(0);
  const lengths = x.lengths;
  for (let a = 0; a < b; a += CHUNK) {
    const e = Math.min(b, a + CHUNK);
    const part: Sequences = {
      data: x.data.subarray(a * t * d, e * t * d),
      shape: [e - a, t, d],
      lengths: lengths ? Int32Array.from({ length: e - a }, (_, i) => lengths[a + i]) : undefined,
    };
    y.set(model.reconstruct(part), a * t * d);
    const enc = model.encode(part);
    const z = enc.mu.length / (e - a);
    if (a === 0) {
      mu = new Float32Array(b * z);
      logvar = new Float32Array(b * z);
    }
    mu.set(enc.mu, a * z);
    logvar.set(enc.logvar, a * z);
  }
  return { y, mu, logvar };
}

/**
 * Whether windows of `t` steps look like noise around their level: the last value carried forward (summed over the
 * `t − 1` steps it predicts) does no better than the window's mean (over `t`). For independent noise of variance σ² the
 * two are 2σ²(t − 1) and σ²(t − 1); for a smooth shape the last value is far closer. Windows of several lengths: `t`
 * their mean length (the sums then run over Σ(len − 1) and Σ len steps).
 */
export function looksLikeNoise(lastValueError: number, meanError: number, t: number): boolean {
  return meanError > 0 && t > 1 && lastValueError / (t - 1) >= meanError / t;
}
