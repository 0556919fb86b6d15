// `npm run eval`: trains on real data with fixed seeds and reports against targets.
//
//   node scripts/run-ts.mjs scripts/eval.ts [--data DIR] [--only ecg|names] [--model-seeds 1,2,3]
//
// ECG5000 (continuous model): train on 80 % of the normal beats (class 1, seeded split), test on the other 20 %
//   plus every abnormal beat (140 samples each, already z-normalised per beat upstream); the model of the issue
//   (hidden 64, latent 8) trained by `fit(train)` with no options (convergent training: 10 % validation split,
//   batches of 16 at a constant learning rate, weights averaged (emaDecay 0.99), early stopping with the best
//   average restored, ≤ 20,000 steps; the time budget is only a safety net); score = squared reconstruction error through the posterior mean.
//   Targets: ROC-AUC ≥ 0.99 and no more than 0.005 below the PCA-reconstruction baseline on the same split and input
//   (the best number of components on the test set, an optimistic baseline, and the 90 %-variance choice).
// names (token model): 90 / 10 seeded split; held-out negative ELBO per character (EOS included; the single-sample
//   ELBO estimate averaged over 10 draws of z per name, β = 1, no free bits) ≤ 2.3 nats, KL ≥ 1 nat per name, and
//   ≥ 80 % of 1,000 prior samples (temperature 1) non-empty and not in the training set.
// `--model-seeds` also trains the ECG model from other seeds (its initial weights and batch order) and reports the
// spread; the targets are checked on the first seed, the issue's model (seed 1) by default.
// The process exits with code 1 when a target is missed.
import { backendInfo, CharTokenizer, init, LstmVae, rocAuc } from 'lstm-vae';
import { loadEcg5000, loadNamesFile } from '../src/data/datasets.js';
import { pcaReconstructionScores, symmetricEigen } from '../src/eval/baselines.js';
import { beatsTensor, ecgSplit, heldOutNelbo, novelFraction, splitList } from './lib/eval-common.js';

// ECG: the model of the issue (hidden 64, latent 8) and `fit(train)` with no options (convergent training).
/** The splits (seeds of the shuffle of the normal beats) the ECG figure is averaged over; fixed before any run. */
export const ECG_SPLITS = [42, 1, 2];
export const ECG_RECIPE = {
  downsample: 1,
  model: { mode: 'continuous' as const, features: 1, hidden: 64, latent: 8, layers: 1, seed: 1 },
  fit: {},
};
export const NAMES_RECIPE = {
  seed: 7, // split
  model: { mode: 'tokens' as const, embedding: 32, hidden: 64, latent: 16, layers: 1, wordDropout: 0.25, seed: 1 },
  fit: {
    epochs: 5,
    batchSize: 128,
    learningRate: 5e-3,
    clipNorm: 5,
    freeBits: 0.1,
    klAnnealing: { type: 'linear' as const, steps: 600 },
    schedule: { type: 'cosine' as const },
  },
  samples: 1000,
};

const misses: string[] = [];
function check(name: string, ok: boolean, text: string): void {
  console.log(`  ${ok ? 'PASS' : 'MISS'} ${name}: ${text}`);
  if (!ok) misses.push(name);
}
const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

function args(argv: string[]) {
  const o: { data?: string; only?: string; modelSeeds?: number[] } = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data') o.data = argv[++i];
    else if (argv[i] === '--only') o.only = argv[++i];
    else if (argv[i] === '--model-seeds') {
      const v = argv[++i] ?? '';
      o.modelSeeds = v.split(',').map(Number);
      if (!o.modelSeeds.length || !o.modelSeeds.every((x) => Number.isInteger(x) && x >= 0))
        throw new Error(`--model-seeds takes whole numbers separated by commas, got "${v}"`);
    } else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: eval [--data DIR] [--only ecg|names] [--model-seeds 1,2,3]   (DIR defaults to $LSTM_VAE_DATA or ../shared/data)');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

/** Smallest number of principal components explaining at least `fraction` of the training variance. */
function componentsFor(x: { data: Float32Array; shape: number[] }, fraction: number): number {
  const [n, f] = [x.shape[0], x.shape[1] * x.shape[2]];
  const mean = new Float64Array(f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j] += x.data[i * f + j] / n;
  const cov = new Float64Array(f * f);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < f; a++) {
      const da = x.data[i * f + a] - mean[a];
      for (let b = 0; b < f; b++) cov[a * f + b] += (da * (x.data[i * f + b] - mean[b])) / (n - 1);
    }
  }
  const { values } = symmetricEigen(cov, f);
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  let acc = 0;
  for (let k = 0; k < f; k++) {
    acc += Math.max(0, values[k]);
    if (acc >= fraction * total) return k + 1;
  }
  return f;
}

async function ecg(data?: string, splits = ECG_SPLITS, modelSeeds = [ECG_RECIPE.model.seed]): Promise<void> {
  const t0 = performance.now();
  console.log('\n== ECG5000: continuous LSTM-VAE, anomaly scores');
  console.log(`  recipe: ${JSON.stringify({ model: ECG_RECIPE.model, fit: ECG_RECIPE.fit })}; splits (seeds) ${splits.join(', ')}`);
  const beats = loadEcg5000(data);
  const bySeed = new Map<number, number[]>(modelSeeds.map((m) => [m, []]));
  const ours = bySeed.get(modelSeeds[0])!;
  const pcas: number[] = [];
  for (const seed of splits) {
    const split = ecgSplit(beats, seed);
    const train = beatsTensor(beats, split.train, ECG_RECIPE.downsample);
    const test = beatsTensor(beats, split.test, ECG_RECIPE.downsample);
    const abnormal = split.labels.reduce((a, b) => a + b, 0);
    console.log(
      `  split ${seed}: ${split.train.length} normal beats for training; test ${split.test.length - abnormal} normal + ${abnormal} abnormal; ${train.shape[1]} steps per beat`,
    );
    let auc = NaN;
    for (const modelSeed of modelSeeds) {
      const model = new LstmVae({ ...ECG_RECIPE.model, seed: modelSeed });
      const tf = performance.now();
      const h = await model.fit(train, ECG_RECIPE.fit);
      const last = h.epochs[h.epochs.length - 1];
      const a = rocAuc(model.anomalyScores(test), split.labels);
      model.dispose();
      bySeed.get(modelSeed)!.push(a);
      if (modelSeed === modelSeeds[0]) auc = a;
      const bestVal = h.bestEpoch !== undefined ? h.epochs[h.bestEpoch].valLoss : undefined;
      console.log(
        `    model seed ${modelSeed}: trained ${h.steps} steps (${h.epochs.length} epochs, stopped: ${h.stopped}) in ${secs(tf)} (final loss ${last.loss.toFixed(2)}, recon ${last.recon.toFixed(2)}, KL ${last.kl.toFixed(2)})`,
      );
      console.log(
        `      validation loss: best ${bestVal?.toFixed(2) ?? '-'} at epoch ${h.bestEpoch ?? '-'} (weights restored); learning rate at the end ${last.learningRate.toPrecision(3)}; ROC-AUC ${a.toFixed(4)}`,
      );
      if (h.diagnostics) console.log(`      diagnostics: ${h.diagnostics.message}`);
    }
    const pca: { k: number; auc: number }[] = [];
    for (const k of [1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 32])
      pca.push({ k, auc: rocAuc(pcaReconstructionScores(train, test, k), split.labels) });
    const best = pca.reduce((a, b) => (b.auc > a.auc ? b : a));
    const k90 = componentsFor(train, 0.9);
    const auc90 = rocAuc(pcaReconstructionScores(train, test, k90), split.labels);
    console.log(`    PCA reconstruction baseline (same split and input): ${pca.map((p) => `k=${p.k} ${p.auc.toFixed(4)}`).join(', ')}`);
    console.log(
      `    ROC-AUC: LSTM-VAE (model seed ${modelSeeds[0]}) ${auc.toFixed(4)} | PCA best k=${best.k} ${best.auc.toFixed(4)} (k chosen on the test labels: an upper bound) | PCA 90 % variance k=${k90} ${auc90.toFixed(4)}`,
    );
    pcas.push(auc90);
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const range = (v: number[]) => `${Math.min(...v).toFixed(4)}–${Math.max(...v).toFixed(4)}`;
  console.log(
    `  over ${splits.length} splits: LSTM-VAE ROC-AUC mean ${mean(ours).toFixed(4)} (${range(ours)}) | PCA 90 % variance mean ${mean(pcas).toFixed(4)} (${range(pcas)})`,
  );
  if (modelSeeds.length > 1) {
    const all = [...bySeed.values()].flat();
    for (const [m, v] of bySeed)
      console.log(`  model seed ${m}: ROC-AUC mean ${mean(v).toFixed(4)} (${v.map((a) => a.toFixed(4)).join(' / ')})`);
    console.log(
      `  over ${modelSeeds.length} model seeds × ${splits.length} splits: mean ${mean(all).toFixed(4)} (${range(all)}), ${all.filter((a) => a >= 0.99).length} of ${all.length} runs >= 0.99 (the targets below are checked on model seed ${modelSeeds[0]})`,
    );
  }
  check('ECG ROC-AUC >= 0.99 (mean over splits)', mean(ours) >= 0.99, mean(ours).toFixed(4));
  check(
    'ECG ROC-AUC >= PCA (90 % variance) - 0.005 (mean over splits)',
    mean(ours) >= mean(pcas) - 0.005,
    `${mean(ours).toFixed(4)} vs ${mean(pcas).toFixed(4)}`,
  );
  console.log(`  ECG wall time ${secs(t0)}`);
}

async function names(data?: string): Promise<void> {
  const t0 = performance.now();
  console.log('\n== names: token LSTM-VAE, held-out ELBO and samples');
  const all = loadNamesFile(data);
  const { train, test } = splitList(all, NAMES_RECIPE.seed, 0.9);
  const tok = CharTokenizer.fit(train);
  const trainBatch = tok.encodeBatch(train);
  const testBatch = tok.encodeBatch(test);
  console.log(
    `  split: ${train.length} training names, ${test.length} held out; vocabulary ${tok.vocabSize} (uniform: ${Math.log(tok.vocabSize).toFixed(3)} nats per token)`,
  );
  console.log(`  recipe: ${JSON.stringify({ model: NAMES_RECIPE.model, fit: NAMES_RECIPE.fit })}`);
  const model = new LstmVae({ ...NAMES_RECIPE.model, vocabSize: tok.vocabSize });
  model.tokenizer = tok;
  const tf = performance.now();
  const h = await model.fit(trainBatch, {
    ...NAMES_RECIPE.fit,
    onEpochEnd: (s) => {
      const r = heldOutNelbo(model, testBatch);
      console.log(
        `    epoch ${s.epoch + 1}: train loss ${s.loss.toFixed(3)} (β ${s.beta.toFixed(2)}) | held-out ${r.nelboPerToken.toFixed(4)} nats/char, KL ${r.klPerSequence.toFixed(2)} nats/name | ${s.seconds.toFixed(1)} s`,
      );
    },
  });
  console.log(`  trained ${h.epochs.length} epochs in ${secs(tf)}`);
  const r = heldOutNelbo(model, testBatch, 10);
  const seen = new Set(train);
  const samples = model.generate({ n: NAMES_RECIPE.samples, maxLength: 32 }).map((ids) => tok.decode(ids));
  const novel = novelFraction(samples, seen);
  console.log(
    `  held-out (10 draws of z per name): −ELBO ${r.nelboPerToken.toFixed(4)} nats/char (recon ${r.reconPerToken.toFixed(4)} + KL ${(r.nelboPerToken - r.reconPerToken).toFixed(4)}; ${r.tokens} chars incl. EOS over ${r.sequences} names), KL ${r.klPerSequence.toFixed(3)} nats/name`,
  );
  console.log(
    `  samples (prior, temperature 1): ${(100 * novel).toFixed(1)} % of ${samples.length} new (non-empty, not in the training set): ${samples.slice(0, 24).join(' ')}`,
  );
  check('names held-out −ELBO <= 2.3 nats/char', r.nelboPerToken <= 2.3, r.nelboPerToken.toFixed(4));
  check('names KL >= 1 nat/name', r.klPerSequence >= 1, r.klPerSequence.toFixed(3));
  check('names >= 80 % new samples', novel >= 0.8, `${(100 * novel).toFixed(1)} %`);
  model.dispose();
  console.log(`  names wall time ${secs(t0)}`);
}

async function main() {
  const o = args(process.argv.slice(2));
  const t0 = performance.now();
  await init();
  const info = backendInfo();
  console.log(`lstm-vae eval — Node ${process.versions.node}, build ${info.build}, ${info.threads} threads`);
  if (!o.only || o.only === 'ecg') await ecg(o.data, ECG_SPLITS, o.modelSeeds);
  if (!o.only || o.only === 'names') await names(o.data);
  console.log(`\ntotal ${secs(t0)}; ${misses.length ? `missed: ${misses.join('; ')}` : 'all targets met'}`);
  if (misses.length) process.exitCode = 1;
}

await main();
