/**
 * Diagnostics of a trained continuous model: did it learn the shape of its windows, or only their level?
 */

import type { LstmVae } from '../model/index.js';
import type { Diagnostics } from '../train/index.js';

/**
 * Whether a continuous model learnt more than trivial reconstructions of windows `x` `[B, T, D]`: its error
 * (posterior-mean reconstruction) against each window's own mean and against the last value carried forward,
 * and the KL of each latent dimension. `notLearnt` when the model is no better than 90 % of the window mean's
 * error, or when every latent dimension carries less than 0.01 nats.
 */
export function diagnose(
  model: Pick<LstmVae, 'reconstruct' | 'encode'>,
  val: { data: Float32Array; shape: [number, number, number] },
): Diagnostics {
  const [b, t, d] = val.shape;
  const y = model.reconstruct(val);
  let modelError = 0,
    meanError = 0,
    lastValueError = 0;
  for (let k = 0; k < b; k++) {
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let s = 0; s < t; s++) m += val.data[(k * t + s) * d + j];
      m /= t;
      for (let s = 0; s < t; s++) {
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
  const { mu, logvar } = model.encode(val);
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
    message = looksLikeNoise(lastValueError, meanError, t)
      ? `${head}; the windows look like noise around their level (the last value carried forward does no better than the window's mean: ${((100 * lastValueError) / meanError).toFixed(0)}% of its error), so there may be no shape to learn: the scores then flag changes of level and spread, as a moving average would`
      : `${head}; train longer (maxSteps / --max-steps) or try another window (--window)`;
  } else if (collapsed) {
    message =
      'the latent has collapsed (every dimension carries less than 0.01 nats): the decoder ignores the input; lower beta or train longer';
  } else {
    message = `learnt: reconstruction error ${(100 * ratio).toFixed(0)}% of the window mean's (last value carried forward: ${meanError > 0 ? ((100 * lastValueError) / meanError).toFixed(0) : '–'}%), ${activeDimensions} of ${z} latent dimensions active`;
  }
  return { modelError, meanError, lastValueError, klPerDimension, activeDimensions, notLearnt: noBetter || collapsed, message };
}

/**
 * Whether windows of `t` steps look like noise around their level: the last value carried forward (summed over the
 * `t − 1` steps it predicts) does no better than the window's mean (over `t`). For independent noise of variance σ² the
 * two are 2σ²(t − 1) and σ²(t − 1); for a smooth shape the last value is far closer.
 */
export function looksLikeNoise(lastValueError: number, meanError: number, t: number): boolean {
  return meanError > 0 && t > 1 && lastValueError / (t - 1) >= meanError / t;
}

/** Share of a series' rows at or above which `coverageWarning` speaks (no development series came near it: at most 37%). */
export const COVERAGE_WARNING = 0.5;

/**
 * A one-line warning when the anomalous rows (`anomalies`, 0/1 per row) are at least half of the series: a threshold
 * meant for rare events that flags most of a series does not single them out. `training`: the series the detector
 * was fitted on (the window or the columns are then the suspects); otherwise a scored series (which may also differ
 * from the training series for most of its length). Undefined below the share.
 */
export function coverageWarning(anomalies: ArrayLike<number>, training: boolean): string | undefined {
  let flagged = 0;
  for (let i = 0; i < anomalies.length; i++) if (anomalies[i]) flagged++;
  const share = anomalies.length ? flagged / anomalies.length : 0;
  if (share < COVERAGE_WARNING) return undefined;
  const pct = `${(100 * share).toFixed(0)}%`;
  return training
    ? `the anomalous intervals cover ${pct} of the training series (${flagged} of ${anomalies.length} rows): the threshold does not single out rare events here; try another window (--window) or fewer columns (--columns)`
    : `the anomalous intervals cover ${pct} of the scored rows (${flagged} of ${anomalies.length}): most of this series differs from the series the detector was trained on, or the detector does not fit it`;
}
