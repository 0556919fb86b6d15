#!/usr/bin/env node
// `npm run demo` (after the build): two short demonstrations of lstm-vae on bundled data sets.
//
//  (a) Sensor network (Suthaharan et al. 2010, @stdlib): one continuous LSTM-VAE trained, without
//      labels, on windows of all four motes' humidity & temperature; per-point anomaly scores are
//      evaluated against the labels (ROC-AUC, average precision, best F1) beside the per-mote
//      z-score baseline computed in the same run. Report: demo-output/sensor-report.html (+ .svg).
//  (b) First names (@stdlib): a character-level token VAE trained for about a minute; 20 names
//      sampled from the prior, marked when they are not in the training set.
//
// Options: --part sensor|names|all (default all), --epochs N (sensor), --names-epochs N,
//          --names-seconds S (time cap of (b), default 110), --normalizer zscore|minmax (sensor),
//          --seed N, --threads N.
//
// Recipe of (a) and why (all unsupervised; the labels are used only by the evaluation):
//  - each mote is scaled on its own with a z-score (mean / standard deviation of that mote). A per-mote
//    min-max scaling (--normalizer minmax) lets each mote's anomaly set its range: the normal readings
//    are squeezed into a sliver, and a humidity that is anomalous for one mote sits mid-range for
//    another, so the one shared model learns it as normal; z-scores keep "unusual for this mote" far
//    from every mote's normal range;
//  - windows of 32 readings (2.7 min) every 4 readings train one model for all motes
//    (hidden 32, latent 4, 8 epochs, Adam 2e-3); every window (stride 1) is then scored by its
//    squared reconstruction error;
//  - a reading's score is the 10th percentile of the scores of the 32 windows that cover it: every
//    window that covers an anomalous reading contains the anomaly, while a normal reading next to
//    an anomaly is also covered by windows that miss it (the mean or max smear a short event over a
//    whole window length on both sides);
//  - the scores of each mote are standardised with its median and interquartile range, so that one
//    threshold suits the noisy outdoor motes and the quiet indoor ones (the same standardisation is
//    shown for the baseline).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'demo-output');

function usage(message) {
  console.error(`demo: ${message}`);
  console.error('usage: node scripts/demo.mjs [--part sensor|names|all] [--epochs N] [--names-epochs N] [--names-seconds S] [--normalizer zscore|minmax] [--seed N] [--threads N]');
  process.exit(2);
}

const args = { part: 'all', epochs: 8, namesEpochs: 12, namesSeconds: 110, normalizer: 'zscore', seed: 1, threads: undefined };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const v = process.argv[i + 1];
  const num = () => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0) usage(`${a} needs a positive number`);
    i++;
    return n;
  };
  if (a === '--part') {
    if (!['sensor', 'names', 'all'].includes(v)) usage('--part is sensor, names or all');
    args.part = v;
    i++;
  } else if (a === '--normalizer') {
    if (!['zscore', 'minmax'].includes(v)) usage('--normalizer is zscore or minmax');
    args.normalizer = v;
    i++;
  } else if (a === '--epochs') args.epochs = Math.round(num());
  else if (a === '--names-epochs') args.namesEpochs = Math.round(num());
  else if (a === '--names-seconds') args.namesSeconds = num();
  else if (a === '--seed') args.seed = Math.round(num());
  else if (a === '--threads') args.threads = Math.round(num());
  else if (a === '-h' || a === '--help') {
    console.log('node scripts/demo.mjs [--part sensor|names|all] [--epochs N] [--names-epochs N] [--names-seconds S] [--normalizer zscore|minmax] [--seed N] [--threads N]');
    process.exit(0);
  } else usage(`unknown argument ${a}`);
}

let lib, tools;
try {
  lib = await import('../dist/index.node.js');
  tools = await import('../dist/tools.js');
} catch (e) {
  console.error(`demo: cannot load the build (${e.message}); run \`npm run build\` first`);
  process.exit(1);
}
const { init, LstmVae, CharTokenizer, backendInfo } = lib;
const {
  loadSensorNetwork, loadNames, zScoreScores, windows, windowsToPointScores, ZScoreNormalizer, MinMaxNormalizer,
  rocAuc, averagePrecision, bestF1, findAnomalies, overlappingSegmentF1, sumSegmentCounts, labelRuns, renderReport,
} = tools;

const seconds = (t0) => (performance.now() - t0) / 1000;
const f4 = (v) => v.toFixed(4);

function median(sorted) {
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** (x − median) / IQR of each series, concatenated. */
function standardise(perSeries) {
  return perSeries.map((s) => {
    const sorted = Float64Array.from(s).sort();
    const q = (p) => sorted[Math.floor(p * (sorted.length - 1))];
    const med = median(sorted);
    const iqr = q(0.75) - q(0.25) || 1;
    return Float64Array.from(s, (v) => (v - med) / iqr);
  });
}

function concat(list) {
  const out = new Float64Array(list.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of list) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

function metrics(name, scores, labels) {
  const b = bestF1(scores, labels);
  return { name, rocAuc: rocAuc(scores, labels), ap: averagePrecision(scores, labels), f1: b.f1, precision: b.precision, recall: b.recall };
}

function segmentF1(perSeries, motes) {
  const counts = perSeries.map((s, i) => overlappingSegmentF1(findAnomalies(s), labelRuns(motes[i].labels)));
  return sumSegmentCounts(counts);
}

// -----------------------------------------------------------------------------------------------
// (a) sensor network
// -----------------------------------------------------------------------------------------------

async function sensorDemo() {
  const T = 32;
  const STRIDE = 4;
  const t0 = performance.now();
  const net = loadSensorNetwork();
  const motes = net.motes;
  console.log(`\n== (a) Sensor network: ${net.flat.shape[0]} readings of ${motes.length} motes (humidity, temperature), ${net.flat.labels.reduce((a, v) => a + v, 0)} labelled anomalous`);

  // Per-mote scaling, windows from every mote for one model.
  const scaled = motes.map((m) => {
    const norm = args.normalizer === 'minmax' ? new MinMaxNormalizer([-1, 1]) : new ZScoreNormalizer();
    return norm.fit(m.data, 2).transform(m.data);
  });
  const train = motes.map((m, i) => windows({ data: scaled[i], shape: m.shape }, T, STRIDE));
  const W = train.reduce((a, w) => a + w.shape[0], 0);
  const x = new Float32Array(W * T * 2);
  let o = 0;
  for (const w of train) {
    x.set(w.data, o);
    o += w.data.length;
  }

  const model = new LstmVae({ mode: 'continuous', features: 2, hidden: 32, latent: 4, layers: 1, decoder: 'repeat', seed: args.seed });
  console.log(`training one model on ${W} windows of ${T} readings (stride ${STRIDE}), ${args.normalizer} per mote; ${model.parameterCount} parameters, ${args.epochs} epochs`);
  const tTrain = performance.now();
  const history = await model.fit({ data: x, shape: [W, T, 2] }, {
    epochs: args.epochs,
    batchSize: 32,
    optimizer: 'adam',
    learningRate: 2e-3,
    shuffle: true,
    clipNorm: 5,
    onEpochEnd: (s) =>
      console.log(`  epoch ${String(s.epoch + 1).padStart(2)}/${args.epochs}  loss ${s.loss.toFixed(3)}  recon ${s.recon.toFixed(3)}  KL ${s.kl.toFixed(3)}  ${Math.round(s.seqPerSec)} seq/s  ${seconds(tTrain).toFixed(1)}s`),
  });
  const trainSeconds = seconds(tTrain);

  // Score every window (stride 1) of each mote; point score = 10th percentile of covering windows.
  const tScore = performance.now();
  const perMote = [];
  const recon = [];
  for (let i = 0; i < motes.length; i++) {
    const n = motes[i].shape[0];
    const w = windows({ data: scaled[i], shape: motes[i].shape }, T, 1);
    const nw = w.shape[0];
    const err = new Float64Array(nw);
    const y = new Float32Array(nw * T * 2);
    for (let a = 0; a < nw; a += 1024) {
      const b = Math.min(nw, a + 1024);
      const part = { data: w.data.subarray(a * T * 2, b * T * 2), shape: [b - a, T, 2] };
      const r = model.reconstruct(part);
      y.set(r, a * T * 2);
      for (let k = 0; k < b - a; k++) {
        let e = 0;
        for (let j = 0; j < T * 2; j++) e += (part.data[k * T * 2 + j] - r[k * T * 2 + j]) ** 2;
        err[a + k] = e;
      }
    }
    perMote.push(windowsToPointScores(err, w.starts, T, n, 'q10'));
    recon.push({ w, y, err });
  }
  const scoreSeconds = seconds(tScore);

  const labels = concat(motes.map((m) => m.labels));
  const vaeStd = standardise(perMote);
  const zRaw = motes.map((m) => zScoreScores(m.data, 2));
  const zStd = standardise(zRaw);
  const rows = [
    metrics('LSTM-VAE (per-mote standardised)', concat(vaeStd), labels),
    metrics('LSTM-VAE (raw scores)', concat(perMote), labels),
    metrics('z-score baseline (per mote)', concat(zRaw), labels),
    metrics('z-score baseline (per-mote standardised)', concat(zStd), labels),
  ];
  const segVae = segmentF1(vaeStd, motes);
  const segZ = segmentF1(zRaw, motes);
  console.log(`\n  ${'scores'.padEnd(42)} ROC-AUC  avg.prec  best F1  (P / R)`);
  for (const r of rows) console.log(`  ${r.name.padEnd(42)} ${f4(r.rocAuc)}   ${f4(r.ap)}   ${f4(r.f1)}  (${r.precision.toFixed(2)} / ${r.recall.toFixed(2)})`);
  console.log(`  overlapping-segment F1 (findAnomalies per mote): LSTM-VAE ${f4(segVae.f1)} (tp ${segVae.tp}, fp ${segVae.fp}, fn ${segVae.fn}); z-score ${f4(segZ.f1)} (tp ${segZ.tp}, fp ${segZ.fp}, fn ${segZ.fn})`);
  const ok = rows[0].rocAuc >= 0.98 && rows[0].ap >= 0.85;
  console.log(`  target ROC-AUC >= 0.98 and average precision >= 0.85: ${ok ? 'met' : 'NOT met'}`);

  // Report.
  const { mu } = (() => {
    const parts = [];
    for (let a = 0; a < W; a += 1024) {
      const b = Math.min(W, a + 1024);
      parts.push(model.encode({ data: x.subarray(a * T * 2, b * T * 2), shape: [b - a, T, 2] }).mu);
    }
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return { mu: out };
  })();
  const groups = new Uint8Array(W);
  let k = 0;
  train.forEach((w, i) => {
    for (const st of w.starts) {
      for (let t = 0; t < T; t++) if (motes[i].labels[st + t]) groups[k] = 1;
      k++;
    }
  });
  const series = motes.map((m, i) => ({
    name: `mote ${m.moteId} (${m.indoor ? 'indoor' : 'outdoor'})`,
    scores: vaeStd[i],
    labels: labelRuns(m.labels),
    detected: findAnomalies(vaeStd[i]),
    values: { columns: ['humidity %', 'temperature °C'], data: [0, 1].map((f) => Float64Array.from({ length: m.shape[0] }, (_, p) => m.data[2 * p + f])) },
  }));
  // Reconstructions: the worst window of each mote with an anomaly, and a typical window.
  const panels = [];
  for (const i of [0, 3, 2]) {
    const { w, y, err } = recon[i];
    let best = 0;
    if (i === 2) {
      const order = Array.from(err.keys()).sort((a, b) => err[a] - err[b]);
      best = order[Math.floor(order.length / 2)];
    } else for (let j = 1; j < err.length; j++) if (err[j] > err[best]) best = j;
    panels.push({
      title: `mote ${motes[i].moteId}, readings ${w.starts[best]}–${w.starts[best] + T - 1} (${i === 2 ? 'median' : 'highest'} error ${err[best].toFixed(2)})`,
      columns: ['humidity', 'temperature'],
      input: w.data.subarray(best * T * 2, (best + 1) * T * 2),
      output: y.subarray(best * T * 2, (best + 1) * T * 2),
      steps: T,
    });
  }
  const totalSeconds = seconds(t0);
  const report = renderReport({
    title: 'lstm-vae demo: single-hop sensor network',
    subtitle: 'One LSTM-VAE for four motes, trained without labels; labels used only for evaluation.',
    summary: [
      ['data', `${net.flat.shape[0]} readings (every 5 s, 4 motes), humidity & temperature, ${labels.reduce((a, v) => a + v, 0)} labelled anomalous`],
      ['recipe', `per-mote ${args.normalizer}; windows of ${T} (stride ${STRIDE}) → ${W} training windows; hidden 32, latent 4, ${args.epochs} epochs, Adam 2e-3; point score = 10th percentile of the covering windows' errors, standardised per mote (median / IQR)`],
      ...rows.map((r) => [r.name, `ROC-AUC ${f4(r.rocAuc)}, average precision ${f4(r.ap)}, best F1 ${f4(r.f1)}`]),
      ['overlapping-segment F1', `LSTM-VAE ${f4(segVae.f1)}, z-score ${f4(segZ.f1)}`],
      ['time', `training ${trainSeconds.toFixed(1)} s, scoring ${scoreSeconds.toFixed(1)} s, total ${totalSeconds.toFixed(1)} s (${backendInfo().build}, ${backendInfo().threads} threads)`],
    ],
    history: history.epochs,
    series,
    reconstructions: panels,
    latent: { mu, latent: 4, groups, groupNames: ['normal window', 'window with a labelled anomaly'] },
    main: 'scores',
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'sensor-report.html'), report.html);
  writeFileSync(join(outDir, 'sensor-report.svg'), report.svg);
  console.log(`  report: ${join('demo-output', 'sensor-report.html')} (+ .svg)`);
  console.log(`  wall time (a): ${totalSeconds.toFixed(1)} s (training ${trainSeconds.toFixed(1)} s, scoring ${scoreSeconds.toFixed(1)} s)`);
  model.dispose();
  return { ok, totalSeconds };
}

// -----------------------------------------------------------------------------------------------
// (b) names
// -----------------------------------------------------------------------------------------------

async function namesDemo() {
  const t0 = performance.now();
  const names = loadNames();
  const tok = CharTokenizer.fit(names);
  const enc = tok.encodeBatch(names);
  // word dropout, free bits and KL annealing keep the latent code in use (no posterior collapse; see npm run eval)
  const model = new LstmVae({ mode: 'tokens', vocabSize: tok.vocabSize, embedding: 32, hidden: 64, latent: 16, layers: 1, wordDropout: 0.25, seed: args.seed });
  model.tokenizer = tok;
  console.log(`\n== (b) Names: ${names.length} first names, ${tok.vocabSize} token ids, up to ${enc.shape[1]} tokens; ${model.parameterCount} parameters; ${args.namesEpochs} epochs (stops at ${args.namesSeconds} s)`);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), args.namesSeconds * 1000);
  const history = await model.fit(enc, {
    epochs: args.namesEpochs,
    batchSize: 64,
    optimizer: 'adam',
    learningRate: 3e-3,
    shuffle: true,
    clipNorm: 5,
    freeBits: 0.1,
    klAnnealing: { type: 'linear', steps: 600 },
    signal: ac.signal,
    onEpochEnd: (s) => console.log(`  epoch ${String(s.epoch + 1).padStart(2)}/${args.namesEpochs}  loss ${s.loss.toFixed(3)}  recon ${s.recon.toFixed(3)}  KL ${s.kl.toFixed(3)}  ${Math.round(s.seqPerSec)} seq/s  ${seconds(t0).toFixed(1)}s`),
  });
  clearTimeout(timer);
  if (history.stopped === 'aborted') console.log(`  (stopped at the ${args.namesSeconds} s time cap after ${history.epochs.length} epochs)`);
  const known = new Set(names);
  const generated = model.generate({ n: 20, temperature: 0.8, maxLength: 20 }).map((ids) => tok.decode(ids));
  const fresh = generated.filter((g) => !known.has(g)).length;
  console.log(`  20 names sampled from the prior (temperature 0.8); * = not in the training set (${fresh} of 20):`);
  for (let r = 0; r < 20; r += 5) console.log('   ' + generated.slice(r, r + 5).map((g) => (known.has(g) ? `  ${g}` : `* ${g}`).padEnd(16)).join(''));
  const report = renderReport({
    title: 'lstm-vae demo: first names',
    subtitle: 'Character-level token VAE; samples decoded from z ~ N(0, I).',
    summary: [
      ['data', `${names.length} names, vocabulary ${tok.vocabSize} (${tok.chars.join('')})`],
      ['model', `embedding 32, hidden 64, latent 16, word dropout 0.25, free bits 0.1, KL annealed over 600 steps; ${model.parameterCount} parameters; ${history.epochs.length} epochs`],
      ['new names', `${fresh} of ${generated.length}`],
    ],
    history: history.epochs,
    lists: [{ title: 'Samples (* = not in the training set)', items: generated.map((g) => (known.has(g) ? g : `${g} *`)) }],
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'names-report.html'), report.html);
  const total = seconds(t0);
  console.log(`  wall time (b): ${total.toFixed(1)} s`);
  model.dispose();
  return { total };
}

// -----------------------------------------------------------------------------------------------

const t0 = performance.now();
const info = await init(args.threads ? { threads: args.threads } : {});
console.log(`lstm-vae demo — backend ${info.build}, ${info.threads} thread${info.threads === 1 ? '' : 's'} (${availableParallelism()} cores), Node ${process.versions.node}`);
let failed = false;
if (args.part !== 'names') {
  const r = await sensorDemo();
  if (!r.ok) failed = true;
}
if (args.part !== 'sensor') await namesDemo();
console.log(`\ntotal wall time: ${seconds(t0).toFixed(1)} s`);
// DEMO_STRICT=1 turns a missed sensor target into exit code 1 (for CI).
process.exit(failed && process.env.DEMO_STRICT ? 1 : 0);
