// The Node half of `npm run interop:pytorch` (driven by scripts/interop-pytorch):
//
//   node scripts/interop-node.mjs write <dir>   trains three small models briefly and writes, per case,
//                                               <case>.safetensors and <case>.json (config, inputs, fixed eps,
//                                               beta and this package's loss, recon, kl, mu, logvar, y, gradients)
//   node scripts/interop-node.mjs eval <dir>    loads every <case>.torch.safetensors that PyTorch wrote (no config
//                                               in them: sizes from the shapes) and prints, as JSON, the config
//                                               it inferred and loss, recon, kl, mu for the inputs of <case>.json
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { init, LstmVae } from '../dist/index.node.js';

/** Deterministic inputs (no random generator, so the numbers are the same everywhere). */
function continuousInput(B, T, D, lengths) {
  const x = new Float32Array(B * T * D);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++) x[(b * T + t) * D + d] = Math.sin(0.45 * t + 1.3 * b + 0.7 * d) + 0.1 * Math.cos(2.1 * t * (d + 1));
  return { data: x, shape: [B, T, D], ...(lengths ? { lengths: Int32Array.from(lengths) } : {}) };
}

function tokenInput(B, T, V, lengths) {
  const ids = new Int32Array(B * T); // 0 = padding
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lengths[b] - 1; t++) ids[b * T + t] = 4 + ((3 * b + 5 * t + b * t) % (V - 4));
    ids[b * T + lengths[b] - 1] = 2; // EOS
  }
  return { data: ids, shape: [B, T], lengths: Int32Array.from(lengths) };
}

const eps = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + 0.3) * 1.2);

const CASES = [
  {
    name: 'continuous-repeat',
    config: { features: 3, hidden: 8, latent: 4, layers: 1, decoder: 'repeat', seed: 11 },
    input: () => continuousInput(4, 10, 3, [10, 7, 10, 3]),
    beta: 0.7,
  },
  {
    name: 'continuous-autoregressive-2layer',
    config: { features: 2, hidden: 6, latent: 3, layers: 2, decoder: 'autoregressive', seed: 12 },
    input: () => continuousInput(3, 8, 2),
    beta: 1,
  },
  {
    name: 'tokens-2layer',
    config: { mode: 'tokens', vocabSize: 12, embedding: 5, hidden: 7, latent: 3, layers: 2, seed: 13 },
    input: () => tokenInput(4, 9, 12, [9, 5, 2, 7]),
    beta: 0.5,
  },
];

const list = (a) => Array.from(a);

async function write(dir) {
  for (const c of CASES) {
    const m = new LstmVae(c.config);
    const x = c.input();
    await m.fit(x, { epochs: 3, batchSize: 2, learningRate: 1e-2 }); // a trained model, not just initial weights
    const B = x.shape[0],
      Z = c.config.latent;
    const e = eps(B * Z);
    const r = m.lossAndGradients(x, { eps: e, beta: c.beta });
    const { mu, logvar } = m.encode(x);
    const out = {
      name: c.name,
      config: m.toConfigJSON(),
      x: { shape: x.shape, data: list(x.data) },
      lengths: x.lengths ? list(x.lengths) : null,
      eps: list(e),
      beta: c.beta,
      ours: {
        loss: r.loss,
        recon: r.recon,
        kl: r.kl,
        mu: list(mu),
        logvar: list(logvar),
        // decoder output through the posterior mean (teacher-forced for the autoregressive decoder)
        y: m.config.mode === 'continuous' ? list(m.reconstruct(x)) : null,
        gradients: Object.fromEntries(Object.entries(r.gradients).map(([k, v]) => [k, list(v)])),
      },
    };
    writeFileSync(join(dir, `${c.name}.safetensors`), m.toSafetensors());
    writeFileSync(join(dir, `${c.name}.json`), JSON.stringify(out));
    m.dispose();
  }
  console.log(JSON.stringify({ wrote: CASES.map((c) => c.name) }));
}

async function evaluate(dir) {
  const results = [];
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.torch.safetensors'))
    .sort()) {
    const name = f.replace(/\.torch\.safetensors$/, '');
    const spec = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    const m = LstmVae.fromSafetensors(new Uint8Array(readFileSync(join(dir, f))));
    const x =
      spec.config.mode === 'tokens'
        ? { data: Int32Array.from(spec.x.data), shape: spec.x.shape, lengths: spec.lengths }
        : { data: Float32Array.from(spec.x.data), shape: spec.x.shape, ...(spec.lengths ? { lengths: spec.lengths } : {}) };
    const r = m.evaluate(x, { eps: Float32Array.from(spec.eps), beta: spec.beta });
    const { mu } = m.encode(x);
    results.push({ name, file: f, config: m.toConfigJSON(), loss: r.loss, recon: r.recon, kl: r.kl, mu: list(mu) });
    m.dispose();
  }
  console.log(JSON.stringify({ results }));
}

const [cmd, dir] = process.argv.slice(2);
if (!dir || (cmd !== 'write' && cmd !== 'eval')) {
  console.error('usage: node scripts/interop-node.mjs write|eval <dir>');
  process.exit(2);
}
await init();
await (cmd === 'write' ? write(dir) : evaluate(dir));
