// Splits, tensors and held-out figures shared by scripts/eval.ts and test/eval-small.test.ts.
// Pure TypeScript over the package's data helpers: the model is passed in (from 'lstm-vae' or dist/).
import type { Ecg5000 } from '../../src/data/datasets.js';
import type { LstmVae } from '../../src/model/index.js';
import type { TokenBatch } from '../../src/data/tokenizer.js';
import { Rng } from '../../src/core/rng.js';

export interface EcgSplit {
  /** Beat indices of the training set (normal beats only). */
  train: number[];
  /** Beat indices of the test set: the held-out normal beats, then every abnormal beat. */
  test: number[];
  /** Per test beat: 1 = abnormal (class 2–5), 0 = normal (class 1). */
  labels: number[];
}

/** ECG5000: a seeded `trainFraction` of the normal beats (class 1) for training; the rest plus every abnormal beat for testing. */
export function ecgSplit(ecg: Ecg5000, seed: number, trainFraction = 0.8): EcgSplit {
  const normal: number[] = [],
    abnormal: number[] = [];
  for (let i = 0; i < ecg.shape[0]; i++) (ecg.labels[i] === 1 ? normal : abnormal).push(i);
  const order = Int32Array.from(normal);
  new Rng(seed).shuffle(order);
  const nTrain = Math.round(trainFraction * order.length);
  const train = Array.from(order.subarray(0, nTrain));
  const test = [...Array.from(order.subarray(nTrain)), ...abnormal];
  return { train, test, labels: test.map((i) => (ecg.labels[i] === 1 ? 0 : 1)) };
}

/** Beats `idx` as a continuous batch `[B, T / factor, 1]`, each step the mean of `factor` consecutive samples. */
export function beatsTensor(ecg: Ecg5000, idx: number[], factor = 1): { data: Float32Array; shape: [number, number, number] } {
  const T0 = ecg.shape[1];
  const T = Math.floor(T0 / factor);
  const out = new Float32Array(idx.length * T);
  idx.forEach((i, b) => {
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let j = 0; j < factor; j++) s += ecg.beats[i * T0 + t * factor + j];
      out[b * T + t] = s / factor;
    }
  });
  return { data: out, shape: [idx.length, T, 1] };
}

/** A seeded split of a list into a training part (`fraction`) and a held-out part. */
export function splitList<T>(items: T[], seed: number, fraction: number): { train: T[]; test: T[] } {
  const order = Int32Array.from(items.keys());
  new Rng(seed).shuffle(order);
  const n = Math.round(fraction * items.length);
  return { train: Array.from(order.subarray(0, n), (i) => items[i]), test: Array.from(order.subarray(n), (i) => items[i]) };
}

export interface HeldOut {
  /** Negative ELBO (recon + KL, β = 1, no free bits) summed over the sequences / number of tokens including EOS. */
  nelboPerToken: number;
  /** Reconstruction part alone, per token. */
  reconPerToken: number;
  /** KL(q(z|x) ‖ p(z)) per sequence, nats. */
  klPerSequence: number;
  tokens: number;
  sequences: number;
}

/**
 * Held-out figures of a token model on `batch`: the single-sample ELBO estimate (z drawn from q(z|x) with the
 * model's seeded generator; no word dropout), averaged over `samples` draws. Every sequence's length counts its EOS.
 */
export function heldOutNelbo(model: Pick<LstmVae, 'evaluate'>, batch: TokenBatch, samples = 1, chunk = 1000): HeldOut {
  const [N, T] = batch.shape;
  let recon = 0,
    kl = 0,
    tokens = 0;
  for (const l of batch.lengths) tokens += l;
  for (let k = 0; k < samples; k++) {
    for (let s = 0; s < N; s += chunk) {
      const n = Math.min(chunk, N - s);
      const lengths = batch.lengths.subarray(s, s + n);
      const r = model.evaluate({ data: batch.data.subarray(s * T, (s + n) * T), shape: [n, T], lengths }, { beta: 1, freeBits: 0 });
      recon += (r.recon * n) / samples; // recon and kl are batch means
      kl += (r.kl * n) / samples;
    }
  }
  return { nelboPerToken: (recon + kl) / tokens, reconPerToken: recon / tokens, klPerSequence: kl / N, tokens, sequences: N };
}

/** Fraction of `samples` that are non-empty and not in `seen`. */
export function novelFraction(samples: string[], seen: Set<string>): number {
  return samples.filter((s) => s.length > 0 && !seen.has(s)).length / samples.length;
}
