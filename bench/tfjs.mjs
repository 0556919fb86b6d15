// The LSTM-VAE of the SPEC in TensorFlow.js, as a baseline for our package. Two ways to write it:
//
//   variant 'layers': the way the TF.js docs teach — tf.layers.lstm (recurrentActivation 'sigmoid'),
//     dense heads, repeatVector, a timeDistributed dense output, and a custom optimizer.minimize loop
//     computing the SPEC's loss (squared error summed over time and features, mean over batch, + KL).
//   variant 'fused': a hand-tuned step — one tf.tidy per step, one gate matmul per time step
//     ([x_t, h] · W with W = [kernel; recurrent_kernel]), and each LSTM layer is one tf.customGrad whose
//     gradient runs the recurrence backwards by hand (gate derivatives from the saved activations, one
//     dA·Wᵀ matmul per step) and computes dW with a single Xᵀ·dA matmul over all steps. Every product
//     in the backward pass (also the heads' and output layer's, through a custom-gradient matmul)
//     transposes explicitly and multiplies without transpose flags: the wasm backend's matMul with
//     transposeA/transposeB is 10–40× slower than tf.transpose + a plain matMul (measured here).
//
// Usable from Node, Bun, Deno (imports the installed @tensorflow/tfjs and -backend-wasm) and from a
// browser page or Worker (pass `tf` and `tfWasm`, e.g. from a bundle, and `wasmPath` as a URL).
//
//   import { runTfjs } from './bench/tfjs.mjs';
//   const r = await runTfjs({ backend: 'wasm', variant: 'fused', config: { B: 32, T: 32, D: 4, H: 64, Z: 8 }, steps: 10 });
//   r.seqPerSec   // median sequences/s over the measured steps (after warm-up)
//
// Options: backend 'wasm' | 'cpu'; variant 'layers' | 'fused'; mode 'train' (default) | 'infer'
// (encode + decode through the posterior mean); steps (measured steps, or the time budget decides with
// budgetMs); warmup (default 1); threads (wasm backend, browsers only: TF.js uses one thread in Node).

import { summarize, timeSteps } from './lib/stats.mjs';

let loaded;

/** Loads TF.js once (Node: from node_modules; browsers: pass the modules). */
export async function loadTfjs({ tf, tfWasm, wasmPath, threads } = {}) {
  if (loaded) return loaded;
  const pick = (m) => (m && typeof m.tensor === 'function' ? m : m?.default);
  if (!tf) {
    const log = console.log,
      warn = console.warn;
    console.log = console.warn = () => {}; // the "install tfjs-node" banner in Node
    try {
      tf = pick(await import('@tensorflow/tfjs'));
    } finally {
      console.log = log;
      console.warn = warn;
    }
  }
  if (!tfWasm) tfWasm = await import('@tensorflow/tfjs-backend-wasm');
  const setWasmPaths = tfWasm.setWasmPaths ?? tfWasm.default?.setWasmPaths;
  const setThreadsCount = tfWasm.setThreadsCount ?? tfWasm.default?.setThreadsCount;
  const getThreadsCount = tfWasm.getThreadsCount ?? tfWasm.default?.getThreadsCount;
  if (!wasmPath) {
    const u = new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url);
    wasmPath = u.protocol === 'file:' ? decodeURIComponent(u.pathname) : u.href;
  }
  setWasmPaths(wasmPath);
  if (threads && setThreadsCount) setThreadsCount(threads);
  loaded = { tf, getThreadsCount };
  return loaded;
}

/** Same test signal as our benchmark: x[i] = sin(0.01 i). */
function inputData(B, T, D) {
  const x = new Float32Array(B * T * D);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.01);
  return x;
}

// ---------------------------------------------------------------------------------------------
// variant 'layers'

function buildLayers(tf, { T, D, H, Z }) {
  const xin = tf.input({ shape: [T, D] });
  const hT = tf.layers.lstm({ units: H, recurrentActivation: 'sigmoid', returnSequences: false }).apply(xin);
  const mu = tf.layers.dense({ units: Z }).apply(hT);
  const logvar = tf.layers.dense({ units: Z }).apply(hT);
  const encoder = tf.model({ inputs: xin, outputs: [mu, logvar] });
  const zin = tf.input({ shape: [Z] });
  const rep = tf.layers.repeatVector({ n: T }).apply(zin);
  const hs = tf.layers.lstm({ units: H, recurrentActivation: 'sigmoid', returnSequences: true }).apply(rep);
  const y = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: D }) }).apply(hs);
  const decoder = tf.model({ inputs: zin, outputs: y });
  return { encoder, decoder };
}

/** The SPEC's loss: recon summed over time and features, averaged over the batch, + beta * KL. */
function vaeLoss(tf, x, y, mu, logvar, B, beta = 1) {
  const recon = tf.sum(tf.square(tf.sub(x, y))).div(B);
  const kl = tf.sum(tf.sub(tf.add(1, logvar), tf.add(tf.square(mu), tf.exp(logvar)))).mul(-0.5 / B);
  return tf.add(recon, tf.mul(beta, kl));
}

function layersRunner(tf, cfg, x) {
  const { B, Z } = cfg;
  const { encoder, decoder } = buildLayers(tf, cfg);
  const optimizer = tf.train.adam(1e-3);
  return {
    async train() {
      const loss = optimizer.minimize(() => {
        const [mu, logvar] = encoder.apply(x, { training: true });
        const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), tf.randomNormal([B, Z])));
        const y = decoder.apply(z, { training: true });
        return vaeLoss(tf, x, y, mu, logvar, B);
      }, true);
      const v = (await loss.data())[0];
      loss.dispose();
      return v;
    },
    async infer() {
      const [mu, logvar] = encoder.predict(x, { batchSize: B });
      const y = decoder.predict(mu, { batchSize: B });
      await y.data();
      tf.dispose([mu, logvar, y]);
    },
    dispose() {
      encoder.dispose();
      decoder.dispose();
      optimizer.dispose();
    },
    /** @internal for the equivalence check: weights in the fused layout */
    fusedWeights() {
      const w = (m) => m.getWeights().map((t) => t.clone());
      const [ek, er, eb, muk, mub, lvk, lvb] = w(encoder);
      const [dk, dr, db, ok, ob] = w(decoder);
      const out = {
        We: tf.concat([ek, er], 0),
        be: eb,
        Wmu: muk,
        bmu: mub,
        Wlv: lvk,
        blv: lvb,
        Wd: tf.concat([dk, dr], 0),
        bd: db,
        Wo: ok,
        bo: ob,
      };
      tf.dispose([ek, er, dk, dr]);
      return out;
    },
    lossWith(eps) {
      return tf.tidy(() => {
        const [mu, logvar] = encoder.apply(x);
        const y = decoder.apply(tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)));
        return vaeLoss(tf, x, y, mu, logvar, B).dataSync()[0];
      });
    },
    gradsWith(eps) {
      return tf.tidy(() => {
        const vars = [...encoder.trainableWeights, ...decoder.trainableWeights].map((v) => v.val);
        const { grads } = tf.variableGrads(() => {
          const [mu, logvar] = encoder.apply(x, { training: true });
          const y = decoder.apply(tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)), { training: true });
          return vaeLoss(tf, x, y, mu, logvar, B);
        }, vars);
        return vars.map((v) => Array.from(grads[v.name].dataSync()));
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// variant 'fused'

/**
 * One LSTM layer as a single custom-gradient op. `input` is 'sequence' (x [B,T,I] captured, not
 * differentiated; returns h_T [B,H]) or 'repeat' (z [B,I] fed at every step; returns h [B,T,H]).
 * W is [I+H, 4H] (gate blocks i, f, g, o), b is [4H].
 */
function fusedLstm(tf, { B, T, I, H, input }) {
  // Gate activations in one pass over a = [xh]·W + b: tanh(x) = 2σ(2x) − 1, so act = σ(a·s)·s − m
  // with s = 2 on the g block (1 elsewhere) and m = 1 on the g block (0 elsewhere). The local
  // derivative of every gate is then m + act·(k − act) with k = 1 on the sigmoid blocks, 0 on g.
  const block = (v, w) => tf.tidy(() => tf.concat([tf.fill([2 * H], v), tf.fill([H], w), tf.fill([H], v)]));
  const consts = [block(1, 2), block(0, 1), block(1, 0)];
  const [s, m, k] = consts.map((t) => tf.keep(t));
  const step = (xh, W, b, c, withDeriv) => {
    const a = tf.add(tf.matMul(xh, W), b);
    const act = tf.sub(tf.mul(tf.sigmoid(tf.mul(a, s)), s), m);
    const [i, f, g, o] = tf.split(act, 4, 1);
    const c2 = tf.add(tf.mul(f, c), tf.mul(i, g));
    const tc = tf.tanh(c2);
    const deriv = withDeriv ? tf.add(m, tf.mul(act, tf.sub(k, act))) : null;
    return { i, f, g, o, c: c2, tc, h: tf.mul(o, tc), deriv };
  };
  /** Forward only (inference). */
  const forward = (xOrZ, W, b) => {
    const xs = input === 'sequence' ? tf.unstack(xOrZ, 1) : null;
    let h = tf.zeros([B, H]),
      c = tf.zeros([B, H]);
    const hs = [];
    for (let t = 0; t < T; t++) {
      const r = step(tf.concat([xs ? xs[t] : xOrZ, h], 1), W, b, c, false);
      h = r.h;
      c = r.c;
      if (!xs) hs.push(h);
    }
    return xs ? h : tf.stack(hs, 1);
  };
  const SAVED = 8; // per step: xh, deriv, i, f, g, o, cPrev, tc
  const backward = (dhSeq, dhLast, W, saved, wantDx) => {
    const dys = dhSeq ? tf.unstack(dhSeq, 1) : null;
    let dh = dhLast ?? tf.zeros([B, H]);
    let dc = tf.zeros([B, H]);
    let dx = null;
    const Wt = tf.transpose(W); // [4H, I+H], once for all steps
    const dAs = new Array(T),
      xhs = new Array(T);
    for (let t = T - 1; t >= 0; t--) {
      const [xh, deriv, i, f, g, o, cPrev, tc] = saved.slice(SAVED * t, SAVED * t + SAVED);
      if (dys) dh = tf.add(dh, dys[t]);
      dc = tf.add(dc, tf.mul(tf.mul(dh, o), tf.sub(1, tf.square(tc))));
      const dA = tf.mul(tf.concat([tf.mul(dc, g), tf.mul(dc, cPrev), tf.mul(dc, i), tf.mul(dh, tc)], 1), deriv);
      dc = tf.mul(dc, f);
      dAs[t] = dA;
      xhs[t] = xh;
      if (t > 0 || wantDx) {
        const dxh = tf.matMul(dA, Wt); // [B, I+H]: one matmul per step
        dh = tf.slice(dxh, [0, I], [B, H]);
        if (wantDx) {
          const d = tf.slice(dxh, [0, 0], [B, I]);
          dx = dx ? tf.add(dx, d) : d;
        }
      }
    }
    const dAll = tf.concat(dAs, 0); // [T*B, 4H]
    const dW = tf.matMul(tf.transpose(tf.concat(xhs, 0)), dAll); // [I+H, 4H]: one matmul for all steps
    const db = tf.sum(dAll, 0);
    return { dx, dW, db };
  };
  const train = (xOrZ) =>
    tf.customGrad((...args) => {
      const save = args.pop();
      const [zIn, W, b] = input === 'sequence' ? [null, ...args] : args;
      const out = tf.tidy(() => {
        const xs = input === 'sequence' ? tf.unstack(xOrZ, 1) : null;
        let h = tf.zeros([B, H]),
          c = tf.zeros([B, H]);
        const keep = [],
          hs = [];
        for (let t = 0; t < T; t++) {
          const xh = tf.concat([xs ? xs[t] : zIn, h], 1);
          const r = step(xh, W, b, c, true);
          keep.push(xh, r.deriv, r.i, r.f, r.g, r.o, c, r.tc);
          h = r.h;
          c = r.c;
          if (!xs) hs.push(h);
        }
        return { value: xs ? h : tf.stack(hs, 1), keep };
      });
      save(out.keep);
      tf.dispose(out.keep);
      return {
        value: out.value,
        gradFunc: (dy, saved) => {
          const r = input === 'sequence' ? backward(null, dy, W, saved, false) : backward(dy, null, W, saved, true);
          return input === 'sequence' ? [r.dW, r.db] : [r.dx, r.dW, r.db];
        },
      };
    });
  return { forward, train, dispose: () => tf.dispose(consts) };
}

/** a·b whose gradient multiplies by explicit transposes (no transpose flags). */
function plainMatMul(tf) {
  return tf.customGrad((a, b, save) => {
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy, [sa, sb]) => [tf.matMul(dy, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy)],
    };
  });
}

function fusedRunner(tf, cfg, x, init) {
  const { B, T, D, H, Z } = cfg;
  const u = (shape, k) => tf.variable(tf.randomUniform(shape, -k, k));
  const kH = 1 / Math.sqrt(H);
  const p = tf.tidy(() =>
    init
      ? Object.fromEntries(Object.entries(init).map(([k, v]) => [k, tf.variable(v)]))
      : {
          We: u([D + H, 4 * H], kH),
          be: u([4 * H], kH),
          Wmu: u([H, Z], kH),
          bmu: u([Z], kH),
          Wlv: u([H, Z], kH),
          blv: u([Z], kH),
          Wd: u([Z + H, 4 * H], kH),
          bd: u([4 * H], kH),
          Wo: u([H, D], kH),
          bo: u([D], kH),
        },
  );
  const vars = Object.values(p);
  const enc = fusedLstm(tf, { B, T, I: D, H, input: 'sequence' });
  const dec = fusedLstm(tf, { B, T, I: Z, H, input: 'repeat' });
  const encTrain = enc.train(x);
  const decTrain = dec.train(null);
  const optimizer = tf.train.adam(1e-3);
  const mm = plainMatMul(tf);
  const heads = (hT) => [tf.add(mm(hT, p.Wmu), p.bmu), tf.add(mm(hT, p.Wlv), p.blv)];
  const out = (hs) => tf.reshape(tf.add(mm(tf.reshape(hs, [B * T, H]), p.Wo), p.bo), [B, T, D]);
  const lossFn = (eps) => () => {
    const [mu, logvar] = heads(encTrain(p.We, p.be));
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps ?? tf.randomNormal([B, Z])));
    return vaeLoss(tf, x, out(decTrain(z, p.Wd, p.bd)), mu, logvar, B);
  };
  return {
    async train() {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossFn(), vars);
        optimizer.applyGradients(grads);
        return value;
      });
      const v = (await loss.data())[0];
      loss.dispose();
      return v;
    },
    async infer() {
      const y = tf.tidy(() => out(dec.forward(heads(enc.forward(x, p.We, p.be))[0], p.Wd, p.bd)));
      await y.data();
      y.dispose();
    },
    dispose() {
      tf.dispose(vars);
      optimizer.dispose();
      enc.dispose();
      dec.dispose();
    },
    lossWith(eps) {
      return tf.tidy(() => lossFn(eps)().dataSync()[0]);
    },
    gradsWith(eps) {
      return tf.tidy(() => {
        const { grads } = tf.variableGrads(lossFn(eps), vars);
        return vars.map((v) => Array.from(grads[v.name].dataSync()));
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function useBackend(tf, backend) {
  const log = console.log,
    warn = console.warn;
  console.log = console.warn = () => {}; // the "install tfjs-node" banner in Node
  try {
    if (tf.getBackend() !== backend) {
      const ok = await tf.setBackend(backend);
      if (!ok) throw new Error(`TF.js backend ${backend} could not be initialised`);
    }
    await tf.ready();
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

/**
 * Measures the TF.js LSTM-VAE. Returns { seqPerSec (median), seqPerSecQ1/Q3, stepMs (median,
 * quartiles, all), backend, threads, variant, mode, tensors and bytes TF.js holds, wasmHeapBytes }.
 * `cpuNow` (optional): process CPU time in ms, to report CPU time per step.
 */
export async function runTfjs({
  backend = 'wasm',
  variant = 'fused',
  config,
  steps,
  mode = 'train',
  warmup = 1,
  budgetMs,
  minSteps,
  maxSteps,
  cpuNow,
  onStep,
  tf,
  tfWasm,
  wasmPath,
  threads,
} = {}) {
  const T_ = await loadTfjs({ tf, tfWasm, wasmPath, threads });
  tf = T_.tf;
  await useBackend(tf, backend);
  const { B, T, D } = config;
  const x = tf.tensor3d(inputData(B, T, D), [B, T, D]);
  const runner = variant === 'layers' ? layersRunner(tf, config, x) : fusedRunner(tf, config, x);
  let m;
  try {
    m = await timeSteps(mode === 'train' ? runner.train : runner.infer, { steps, warmup, budgetMs, minSteps, maxSteps, cpuNow, onStep });
  } finally {
    runner.dispose();
    x.dispose();
  }
  const be = tf.backend();
  const mem = tf.memory();
  return {
    library: 'tfjs',
    backend,
    variant,
    mode,
    config,
    threads: backend === 'wasm' && T_.getThreadsCount ? T_.getThreadsCount() : 1,
    ...summarize(m.times, B, m.cpu),
    tfTensors: mem.numTensors,
    tfBytes: mem.numBytes,
    wasmHeapBytes: backend === 'wasm' ? (be?.wasm?.HEAPU8?.buffer?.byteLength ?? null) : null,
    tfjsVersion: tf.version?.tfjs ?? tf.version_core ?? null,
  };
}

/**
 * Checks that both variants compute the same loss and gradients for the same weights and noise
 * (the fused variant's custom gradient against TF.js autodiff of tf.layers). Returns the largest
 * relative difference; throws if it is above `tol`.
 */
export async function checkTfjsVariants({ backend = 'cpu', config = { B: 3, T: 5, D: 2, H: 4, Z: 3 }, tol = 1e-3, tf } = {}) {
  tf = (await loadTfjs({ tf })).tf;
  await useBackend(tf, backend);
  const { B, T, D, Z } = config;
  const x = tf.tensor3d(
    inputData(B, T, D).map((v, i) => v + 0.3 * Math.cos(i)),
    [B, T, D],
  );
  const eps = tf.randomNormal([B, Z], 0, 1, 'float32', 7);
  const before = tf.memory().numTensors;
  const lay = layersRunner(tf, config, x);
  const w = lay.fusedWeights();
  const fus = fusedRunner(tf, config, x, w);
  tf.dispose(Object.values(w));
  const la = lay.lossWith(eps),
    fa = fus.lossWith(eps);
  const gl = lay.gradsWith(eps),
    gf = fus.gradsWith(eps);
  // layers order: enc kernel, rec, bias, mu k, b, lv k, b, dec kernel, rec, bias, out k, b
  const I = { e: D, d: Z };
  const split = (g, i) => [g.slice(0, i * 4 * config.H), g.slice(i * 4 * config.H)];
  const [fek, fer] = split(gf[0], I.e),
    [fdk, fdr] = split(gf[6], I.d);
  const pairs = [
    [gl[0], fek],
    [gl[1], fer],
    [gl[2], gf[1]],
    [gl[3], gf[2]],
    [gl[4], gf[3]],
    [gl[5], gf[4]],
    [gl[6], gf[5]],
    [gl[7], fdk],
    [gl[8], fdr],
    [gl[9], gf[7]],
    [gl[10], gf[8]],
    [gl[11], gf[9]],
  ];
  let worst = Math.abs(la - fa) / Math.max(1, Math.abs(la));
  for (const [a, b] of pairs) {
    if (a.length !== b.length) throw new Error(`gradient sizes differ: ${a.length} vs ${b.length}`);
    const scale = Math.max(1e-3, ...a.map(Math.abs));
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  }
  // no tensors leak from a training step
  await fus.train();
  const n1 = tf.memory().numTensors;
  await fus.train();
  await fus.train();
  const leak = tf.memory().numTensors - n1;
  lay.dispose();
  fus.dispose();
  tf.dispose([x, eps]);
  void before;
  if (!(worst <= tol)) throw new Error(`TF.js variants disagree: largest relative difference ${worst}`);
  if (leak !== 0) throw new Error(`the fused training step leaks ${leak} tensors per 2 steps`);
  return { lossLayers: la, lossFused: fa, worst };
}
