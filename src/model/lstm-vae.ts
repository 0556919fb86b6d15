/**
 * The LSTM variational autoencoder: training (loss and gradients) and inference.
 */

import { isInitialised, wasm } from '../backend/index.js';
import { at, copyBlock } from '../backend/kernels.js';
import { WasmBuffer } from '../backend/memory.js';
import { isInt } from '../core/checks.js';
import { BackendError, ConfigError, DataError, FormatError, ShapeError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { type ModelInput, product } from '../core/tensor.js';
import type { CharTokenizer } from '../data/tokenizer.js';
import { readKerasFile } from '../io/keras-file.js';
import { modelToOnnx } from '../io/onnx.js';
import { decodeSafetensors, encodeSafetensors, validateStateDict } from '../io/safetensors.js';
import { type Diagnostics, fit, type FitOptions, type History, makeCheckpoint, type Optimizer, type TrainerState } from '../train/index.js';
import { Graph } from './graph.js';
import { FORMAT_VERSION, type LstmVaeConfig, resolveConfig, type Resolved } from './config.js';
import { sequenceDiagnostics } from './diagnostics.js';
import { configOfFile, metadataOfFile, tokenizerOfFile } from './file.js';
import { type Batch, toBatch } from './input.js';
import { type LossOptions, lossOptions, type LossResult } from './loss.js';
import { orthogonal, parameterShapes, type ParamSpec } from './params.js';

/**
 * An LSTM variational autoencoder (see the SPEC): an LSTM encoder to a Gaussian latent `z`, an LSTM
 * decoder back to the sequence. Weights live in WebAssembly memory; call `dispose()` to free them.
 */
export class LstmVae {
  readonly config: Resolved;
  /** Free-form JSON saved with the model (normalizer, threshold, history summary, ...). */
  metadata: Record<string, unknown> = {};
  /** The tokenizer of a token model (saved with it). */
  tokenizer?: CharTokenizer;
  /**
   * @internal The tensors of the file this model was loaded from that belong to an anomaly detector's other models
   * (`detector.member<j>.*`), kept so that `AnomalyDetector.fromModel(model)` can rebuild them.
   */
  detectorTensors?: Record<string, { shape: number[]; data: Float32Array }>;
  /** @internal */ readonly specs: ParamSpec[];
  /** @internal */ readonly size: number;
  /** @internal */ params: WasmBuffer;
  /** @internal */ grads: WasmBuffer;
  /** @internal */ rng: Rng;
  private readonly graph: Graph;
  private disposed = false;

  constructor(config: LstmVaeConfig) {
    if (!isInitialised()) throw new BackendError('lstm-vae is not initialised: call `await init()` before creating a model');
    this.config = resolveConfig(config);
    this.graph = new Graph(this.config, {
      p: (key, grad) => this.p(key, grad),
      rng: () => this.rng,
      grads: () => this.grads,
      alive: () => this.alive(),
    });
    let offset = 0;
    this.specs = parameterShapes(this.config).map(([key, shape]) => {
      const size = product(shape);
      const s = { key, shape, offset, size };
      offset += size;
      return s;
    });
    this.size = offset;
    this.params = new WasmBuffer(this.size);
    this.grads = new WasmBuffer(this.size);
    this.rng = new Rng(this.config.seed);
    this.initialise();
  }

  /** The configuration as saved in files. */
  toConfigJSON(): LstmVaeConfig {
    const c = this.config;
    const base = { mode: c.mode, hidden: c.hidden, latent: c.latent, layers: c.layers, decoder: c.decoder, seed: c.seed };
    return c.mode === 'continuous'
      ? { ...base, features: c.features }
      : { ...base, vocabSize: c.vocabSize, embedding: c.embedding, wordDropout: c.wordDropout };
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.size;
  }

  private specByKey?: Map<string, ParamSpec>;
  private spec(key: string): ParamSpec {
    this.specByKey ??= new Map(this.specs.map((p) => [p.key, p]));
    const s = this.specByKey.get(key);
    if (!s) throw new Error(`internal: no parameter ${key}`);
    return s;
  }
  /** Address of a parameter (or of its gradient with `grad`). */
  private p(key: string, grad = false): number {
    return at((grad ? this.grads : this.params).ptr, this.spec(key).offset);
  }

  private initialise(): void {
    const w = this.params.f32();
    const rng = this.rng;
    const H = this.config.hidden;
    for (const s of this.specs) {
      const seg = w.subarray(s.offset, s.offset + s.size);
      if (s.key === 'embedding.weight') {
        for (let i = 0; i < seg.length; i++) seg[i] = rng.normal();
      } else if (s.key.includes('.lstm.')) {
        const k = 1 / Math.sqrt(H);
        for (let i = 0; i < seg.length; i++) seg[i] = rng.uniform(-k, k);
      } else {
        // nn.Linear: weight and bias uniform(±1/√fan_in)
        const fanIn = s.key.endsWith('.weight') ? s.shape[1] : this.spec(s.key.replace(/bias$/, 'weight')).shape[1];
        const k = 1 / Math.sqrt(fanIn);
        for (let i = 0; i < seg.length; i++) seg[i] = rng.uniform(-k, k);
      }
    }
    if (this.config.recurrentInit === 'orthogonal') {
      for (const s of this.specs.filter((q) => /\.lstm\.weight_hh_l\d+$/.test(q.key))) {
        for (let g = 0; g < 4; g++) orthogonal(w.subarray(s.offset + g * H * H, s.offset + (g + 1) * H * H), H, rng);
      }
    }
    if (this.config.forgetBias !== undefined) {
      for (const s of this.specs.filter((q) => /\.lstm\.bias_ih_l\d+$/.test(q.key))) {
        w.fill(this.config.forgetBias, s.offset + H, s.offset + 2 * H);
        const hh = this.spec(s.key.replace('bias_ih', 'bias_hh'));
        w.fill(0, hh.offset + H, hh.offset + 2 * H);
      }
    }
  }

  private alive(): void {
    if (this.disposed) throw new BackendError('this model was disposed');
  }

  // -----------------------------------------------------------------------------------------
  // Inputs

  /** @internal Checks and converts an input batch. */
  toBatch(x: unknown, name = 'x'): Batch {
    return toBatch(this.config, x, name);
  }

  private checkEps(eps: unknown, B: number): Float32Array {
    const Z = this.config.latent;
    if (!(eps instanceof Float32Array))
      throw new ShapeError('eps must be a Float32Array', {
        argument: 'options.eps',
        expected: `Float32Array of ${B * Z}`,
        actual: (eps as object)?.constructor?.name ?? typeof eps,
      });
    if (eps.length !== B * Z)
      throw new ShapeError(`eps must hold B·Z = ${B * Z} values`, { argument: 'options.eps.length', expected: B * Z, actual: eps.length });
    for (let i = 0; i < eps.length; i++)
      if (!Number.isFinite(eps[i]))
        throw new DataError('eps holds a non-finite value', { argument: `options.eps[${i}]`, expected: 'finite', actual: String(eps[i]) });
    return eps;
  }

  /** @internal standard normal noise [n] */
  randn(n: number): Float32Array {
    const e = new Float32Array(n);
    for (let i = 0; i < n; i++) e[i] = this.rng.normal();
    return e;
  }

  // -----------------------------------------------------------------------------------------
  // Public API

  /**
   * Loss and the gradient of every parameter for one batch (the SPEC's test contract).
   * `eps` `[B·Z]` makes it deterministic; without it the model draws it from its seeded generator.
   */
  lossAndGradients(x: ModelInput, options: LossOptions = {}): LossResult {
    const r = this.lossAndGradientsInPlace(x, options);
    return { ...r, gradients: this.gradientMap() };
  }

  /** @internal As lossAndGradients, leaving the gradients in WebAssembly memory (for training). */
  lossAndGradientsInPlace(x: ModelInput, options: LossOptions = {}): { loss: number; recon: number; kl: number } {
    const bt = this.toBatch(x);
    const { beta, freeBits } = lossOptions(options);
    const eps = options.eps !== undefined ? this.checkEps(options.eps, bt.B) : this.randn(bt.B * this.config.latent);
    return this.graph.run(bt, eps, beta, freeBits, true, options.train ?? false);
  }

  /** @internal `fit`'s diagnostics on validation sequences (model/diagnostics.ts); undefined for token models. */
  diagnose(x: ModelInput): Diagnostics | undefined {
    return sequenceDiagnostics(this, x);
  }

  /** Loss terms without gradients. */
  evaluate(x: ModelInput, options: LossOptions = {}): { loss: number; recon: number; kl: number } {
    const bt = this.toBatch(x);
    const { beta, freeBits } = lossOptions(options);
    const eps = options.eps !== undefined ? this.checkEps(options.eps, bt.B) : this.randn(bt.B * this.config.latent);
    return this.graph.run(bt, eps, beta, freeBits, false, false);
  }

  /** The gradients of the last `lossAndGradients` by key (copies). */
  gradientMap(): Record<string, Float32Array> {
    const g = this.grads.f32();
    const out: Record<string, Float32Array> = {};
    for (const s of this.specs) out[s.key] = g.slice(s.offset, s.offset + s.size);
    return out;
  }

  /** The weights by state-dict key (copies). */
  stateDict(): Record<string, { shape: number[]; data: Float32Array }> {
    this.alive();
    const w = this.params.f32();
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const s of this.specs) out[s.key] = { shape: [...s.shape], data: w.slice(s.offset, s.offset + s.size) };
    return out;
  }

  /** Replaces the weights (every key of the SPEC with its shape; FormatError otherwise). */
  loadStateDict(tensors: Record<string, { shape: number[]; data: Float32Array }>): void {
    this.alive();
    validateStateDict(tensors, Object.fromEntries(this.specs.map((s) => [s.key, s.shape])));
    for (const s of this.specs) {
      const d = tensors[s.key].data;
      for (let i = 0; i < d.length; i++)
        if (!Number.isFinite(d[i]))
          throw new FormatError(`weight ${s.key} holds a non-finite value`, {
            argument: `${s.key}[${i}]`,
            expected: 'finite',
            actual: String(d[i]),
          });
    }
    const w = this.params.f32();
    for (const s of this.specs) w.set(tensors[s.key].data, s.offset);
  }

  /** Posterior means and log-variances: `mu`, `logvar` `[B·Z]` each. */
  encode(x: ModelInput): { mu: Float32Array; logvar: Float32Array } {
    this.alive();
    const enc = this.graph.encodeBatch(this.toBatch(x));
    return { mu: enc.mu.toFloat32Array(), logvar: enc.logvar.toFloat32Array() };
  }

  private checkZ(z: unknown): { data: Float32Array; B: number } {
    const Z = this.config.latent;
    const zz = (z instanceof Float32Array ? { data: z, shape: [z.length / Z, Z] } : z) as { data?: unknown; shape?: unknown };
    if (!zz || !(zz.data instanceof Float32Array))
      throw new ShapeError('z must be { data: Float32Array, shape: [B, Z] }', {
        argument: 'z',
        expected: `{ data: Float32Array, shape: [B, ${Z}] }`,
        actual: typeof z,
      });
    const shape = zz.shape as number[];
    if (
      !Array.isArray(shape) ||
      shape.length !== 2 ||
      shape[1] !== Z ||
      !Number.isInteger(shape[0]) ||
      shape[0] < 1 ||
      shape[0] * Z !== zz.data.length
    ) {
      throw new ShapeError(`z must be [B, ${Z}] with B·${Z} values`, { argument: 'z.shape', expected: `[B, ${Z}]`, actual: shape });
    }
    for (let i = 0; i < zz.data.length; i++)
      if (!Number.isFinite(zz.data[i]))
        throw new DataError('z holds a non-finite value', { argument: `z.data[${i}]`, expected: 'finite', actual: String(zz.data[i]) });
    return { data: zz.data, B: shape[0] };
  }

  /**
   * Decodes latent vectors into sequences of `T` steps: `[B·T·D]` frames (continuous). The
   * autoregressive decoder feeds each output frame back as the next input.
   */
  decode(z: { data: Float32Array; shape: [number, number] } | Float32Array, T: number): Float32Array {
    this.alive();
    if (this.config.mode !== 'continuous')
      throw new ConfigError('decode() is for continuous models; use generate() for token models', {
        argument: 'config.mode',
        expected: 'continuous',
        actual: this.config.mode,
      });
    if (!isInt(T, 1, 1 << 20))
      throw new ShapeError('T must be a whole number of steps >= 1', { argument: 'T', expected: '>= 1', actual: T });
    const { data, B } = this.checkZ(z);
    const k = wasm();
    const { features: D, hidden: H, latent: Z, layers: L } = this.config;
    const zb = this.graph.ws.z.get(B * Z).set(data);
    if (this.config.decoder === 'repeat') {
      const dec = this.graph.decodeBatch({ B, T }, zb.ptr, false);
      return dec.out.toFloat32Array();
    }
    // autoregressive, free running: one step at a time, state carried
    const out = new Float32Array(B * T * D);
    const prev = this.graph.ws.arPrev.get(B * D).fill(0);
    const inp = this.graph.ws.arIn.get(B * (D + Z));
    const hs = Array.from({ length: L }, (_, l) =>
      this.graph.ws.arH
        .at(l)
        .get(B * H)
        .fill(0),
    );
    const cs = Array.from({ length: L }, (_, l) =>
      this.graph.ws.arC
        .at(l)
        .get(B * H)
        .fill(0),
    );
    const y = this.graph.ws.arY.get(B * D);
    for (let t = 0; t < T; t++) {
      k.concat_time_latent(B, 1, D, Z, prev.ptr, zb.ptr, inp.ptr);
      this.graph.decoderStep('ar', B, inp.ptr, D + Z, hs, cs, D, y.ptr);
      const yv = y.f32();
      for (let b = 0; b < B; b++) out.set(yv.subarray(b * D, (b + 1) * D), (b * T + t) * D);
      copyBlock(1, B * D, { ptr: y.ptr, stride: 0 }, { ptr: prev.ptr, stride: 0 });
    }
    return out;
  }

  /** Reconstruction of `x` through the posterior mean (`z = mu`): `[B·T·D]`. */
  reconstruct(x: ModelInput): Float32Array {
    return this.reconstructWithMean(x).reconstruction;
  }

  /**
   * The reconstruction of `x` through the posterior mean (as `reconstruct`, the same bits) and that mean `[B·Z]`, from
   * one pass of the encoder.
   */
  reconstructWithMean(x: ModelInput): { reconstruction: Float32Array; mu: Float32Array } {
    this.alive();
    const bt = this.toBatch(x);
    const mu = this.graph.encodeBatch(bt).mu.toFloat32Array();
    if (this.config.decoder === 'repeat') return { reconstruction: this.decode({ data: mu, shape: [bt.B, this.config.latent] }, bt.T), mu };
    // teacher-forced reconstruction for the autoregressive decoder
    const zb = this.graph.ws.z.get(bt.B * this.config.latent).set(mu);
    return { reconstruction: this.graph.decodeBatch(bt, zb.ptr, false).out.toFloat32Array(), mu };
  }

  /** `n` sequences of `T` steps decoded from `z ~ N(0, I)`. */
  sample(n: number, T: number): Float32Array {
    if (!isInt(n, 1)) throw new ConfigError('n must be a whole number >= 1', { argument: 'n', expected: '>= 1', actual: n });
    return this.decode({ data: this.randn(n * this.config.latent), shape: [n, this.config.latent] }, T);
  }

  /** Decodes `steps` points on the line between the latent means of `a` and `b` (single sequences `[1, T, D]`). */
  interpolate(a: ModelInput, b: ModelInput, steps: number): Float32Array {
    if (!isInt(steps, 2, 10000))
      throw new ConfigError('steps must be a whole number from 2', { argument: 'steps', expected: '>= 2', actual: steps });
    const ba = this.toBatch(a, 'a');
    const ma = this.encode(a).mu,
      mb = this.encode(b).mu;
    const Z = this.config.latent;
    if (ma.length !== Z || mb.length !== Z)
      throw new ShapeError('interpolate takes one sequence for a and one for b', {
        argument: 'a, b',
        expected: 'batch of 1',
        actual: [ma.length / Z, mb.length / Z],
      });
    const z = new Float32Array(steps * Z);
    for (let s = 0; s < steps; s++) for (let j = 0; j < Z; j++) z[s * Z + j] = ma[j] + ((mb[j] - ma[j]) * s) / (steps - 1);
    return this.decode({ data: z, shape: [steps, Z] }, ba.T);
  }

  /**
   * Anomaly score per sequence `[B]`, higher = more anomalous.
   * - `error` (default): squared reconstruction error through the posterior mean.
   * - `probability`: negative reconstruction log-probability averaged over `samples` draws of z
   *   from the posterior (An & Cho 2015), with the decoder's unit-variance Gaussian (continuous)
   *   or softmax (tokens).
   */
  anomalyScores(x: ModelInput, options: { method?: 'error' | 'probability'; samples?: number } = {}): Float32Array {
    this.alive();
    const method = options.method ?? 'error';
    if (method !== 'error' && method !== 'probability')
      throw new ConfigError('unknown anomaly score method', {
        argument: 'options.method',
        expected: "'error' | 'probability'",
        actual: method,
      });
    const samples = options.samples ?? 10;
    if (!isInt(samples, 1, 10000))
      throw new ConfigError('samples must be a whole number from 1', {
        argument: 'options.samples',
        expected: '1..10000',
        actual: samples,
      });
    const bt = this.toBatch(x);
    const k = wasm();
    const { B, T } = bt;
    const Z = this.config.latent;
    const out = new Float32Array(B);
    const per = this.graph.ws.perSeq.get(B);
    const draws = method === 'error' ? 1 : samples;
    const enc = this.graph.encodeBatch(bt);
    const mu = enc.mu.toFloat32Array(),
      lv = enc.logvar.toFloat32Array();
    for (let s = 0; s < draws; s++) {
      const z = new Float32Array(B * Z);
      for (let i = 0; i < B * Z; i++) z[i] = method === 'error' ? mu[i] : mu[i] + Math.exp(0.5 * lv[i]) * this.rng.normal();
      const zb = this.graph.ws.z.get(B * Z).set(z);
      const dec = this.graph.decodeBatch(bt, zb.ptr, false);
      if (this.config.mode === 'continuous') {
        // re-upload x (decodeBatch does not touch it) and score
        k.mse_per_sequence(
          B,
          T,
          this.config.features,
          this.graph.ws.x.get(B * T * this.config.features).ptr,
          dec.out.ptr,
          enc.lens,
          per.ptr,
        );
        const pv = per.f32();
        for (let b = 0; b < B; b++) {
          const n = (bt.lengths ? bt.lengths[b] : T) * this.config.features;
          out[b] += method === 'error' ? pv[b] : 0.5 * pv[b] + 0.5 * n * Math.log(2 * Math.PI);
        }
      } else {
        // token models: the cross-entropy of each sequence (encodeBatch left the ids in ws.ids)
        k.xent_per_sequence(B, T, this.config.vocabSize, dec.out.ptr, this.graph.ws.ids.get(B * T).ptr, enc.lens, per.ptr);
        const pv = per.f32();
        for (let b = 0; b < B; b++) out[b] += pv[b];
      }
    }
    if (draws > 1) for (let b = 0; b < B; b++) out[b] /= draws;
    return out;
  }

  /**
   * Token model: samples `n` sequences (ids, without EOS) from the prior, one step at a time.
   * `temperature` scales the logits; `greedy` takes the most likely token.
   */
  generate(options: { n?: number; temperature?: number; greedy?: boolean; maxLength?: number; z?: Float32Array } = {}): number[][] {
    this.alive();
    const c = this.config;
    if (c.mode !== 'tokens')
      throw new ConfigError('generate() is for token models; use sample() or decode() for continuous models', {
        argument: 'config.mode',
        expected: 'tokens',
        actual: c.mode,
      });
    const n = options.n ?? 1;
    const temperature = options.temperature ?? 1;
    const maxLength = options.maxLength ?? 32;
    if (!isInt(n, 1, 100000))
      throw new ConfigError('n must be a whole number >= 1', { argument: 'options.n', expected: '>= 1', actual: n });
    if (!(typeof temperature === 'number' && temperature > 0 && Number.isFinite(temperature)))
      throw new ConfigError('temperature must be a positive number', {
        argument: 'options.temperature',
        expected: '> 0',
        actual: temperature,
      });
    if (!isInt(maxLength, 1, 100000))
      throw new ConfigError('maxLength must be a whole number >= 1', {
        argument: 'options.maxLength',
        expected: '>= 1',
        actual: maxLength,
      });
    const zv = options.z ? this.checkZ({ data: options.z, shape: [n, c.latent] }).data : this.randn(n * c.latent);
    return this.graph.generateTokens(zv, n, temperature, !!options.greedy, maxLength);
  }

  // -----------------------------------------------------------------------------------------
  // Files

  /** The model as a safetensors file (config, metadata and tokenizer in the header). */
  toSafetensors(
    extraTensors: Record<string, { shape: number[]; data: Float32Array }> = {},
    extraMeta: Record<string, string> = {},
  ): Uint8Array {
    const meta: Record<string, string> = {
      format: 'lstm-vae',
      format_version: String(FORMAT_VERSION),
      config: JSON.stringify(this.toConfigJSON()),
      ...extraMeta,
    };
    if (Object.keys(this.metadata).length) meta.metadata = JSON.stringify(this.metadata);
    if (this.tokenizer) meta.tokenizer = JSON.stringify(this.tokenizer.toJSON());
    return encodeSafetensors({ ...this.stateDict(), ...extraTensors }, meta);
  }

  /** The inference graph (reconstruction through `mu`) as ONNX ModelProto bytes, opset 17 (docs/onnx.md). */
  toOnnx(): Uint8Array {
    return modelToOnnx(this);
  }

  /**
   * Loads an LSTM-VAE from a Keras file: a `.keras` zip or a legacy `.h5`, its layers found from the
   * graph in the file (docs/keras.md). Throws FormatError, or ConfigError naming a layer that cannot be mapped.
   */
  static fromKeras(bytes: Uint8Array): LstmVae {
    const { config, tensors } = readKerasFile(bytes);
    return LstmVae.fromStateDict(config, tensors);
  }

  /** A model of `config` holding the weights of a state dict (checked as `loadStateDict` checks them). @internal */
  static fromStateDict(config: LstmVaeConfig, tensors: Parameters<LstmVae['loadStateDict']>[0]): LstmVae {
    const model = new LstmVae(config);
    try {
      model.loadStateDict(tensors);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /**
   * Loads a model from safetensors bytes written by this package or by PyTorch's
   * `safetensors.torch.save_file` (sizes then come from the tensor shapes). Throws FormatError.
   */
  static fromSafetensors(bytes: Uint8Array): LstmVae {
    if (!(bytes instanceof Uint8Array))
      throw new FormatError('fromSafetensors takes the file bytes as a Uint8Array', {
        argument: 'bytes',
        expected: 'Uint8Array',
        actual: (bytes as object)?.constructor?.name ?? typeof bytes,
      });
    const { metadata, tensors } = decodeSafetensors(bytes, { maxHeaderBytes: 16 << 20 });
    const model = LstmVae.fromTensors(metadata, tensors);
    return model;
  }

  /** @internal */
  static fromTensors(metadata: Record<string, string>, tensors: Record<string, { shape: number[]; data: Float32Array }>): LstmVae {
    const config = configOfFile(metadata, tensors);
    const own: Record<string, { shape: number[]; data: Float32Array }> = {};
    const detector: Record<string, { shape: number[]; data: Float32Array }> = {};
    // a checkpoint's optimizer and trainer tensors, and a detector's other models, are not this model's
    for (const [k, v] of Object.entries(tensors)) {
      if (k.startsWith('detector.')) detector[k] = v;
      else if (!k.startsWith('optimizer.') && !k.startsWith('trainer.')) own[k] = v;
    }
    let model: LstmVae;
    try {
      // the tensors must fit the config before anything is allocated (a config may claim huge sizes)
      validateStateDict(own, Object.fromEntries(parameterShapes(config)));
      model = new LstmVae(config);
    } catch (e) {
      if (e instanceof ConfigError)
        throw new FormatError(`the config in the file is invalid: ${e.message}`, { argument: '__metadata__.config' });
      throw e;
    }
    try {
      model.loadStateDict(own);
    } catch (e) {
      model.dispose();
      throw e;
    }
    try {
      if (metadata.metadata) model.metadata = metadataOfFile(metadata.metadata);
      if (metadata.tokenizer) model.tokenizer = tokenizerOfFile(metadata.tokenizer);
      if (Object.keys(detector).length) model.detectorTensors = detector;
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /**
   * Trains the model (see FitOptions): mini-batches, optimizer, schedules, clipping, KL annealing,
   * early stopping, callbacks and an AbortSignal. Stops with a NumericError naming the step if the
   * loss becomes non-finite (the weights are not updated with it). Returns the history.
   */
  fit(data: ModelInput | AsyncIterable<ModelInput>, options: FitOptions = {}): Promise<History> {
    this.alive();
    return fit(this, data, options);
  }

  /**
   * A training checkpoint (safetensors bytes): the model file plus the optimizer's state tensors
   * (`optimizer.<param key>.<slot>`, `__metadata__.optimizer`) and, if given, the trainer state
   * (`__metadata__.trainer`, e.g. `history.trainerState`). `fit(data, { resumeFrom })` continues
   * from it; `LstmVae.fromSafetensors` loads the model from it.
   */
  checkpoint(optimizer: Optimizer, trainerState?: TrainerState): Uint8Array {
    this.alive();
    return makeCheckpoint(this, optimizer, trainerState);
  }

  /** Frees the model's WebAssembly memory. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (isInitialised()) {
      this.params.free();
      this.grads.free();
      this.graph.ws.free();
    }
  }

  /** @internal copy weights from another model of the same config */
  copyWeightsFrom(src: Float32Array): void {
    this.params.set(src);
  }
  /** @internal */
  weightsSnapshot(): Float32Array {
    return this.params.toFloat32Array();
  }
  /** @internal whether all weights are finite */
  weightsFinite(): boolean {
    return wasm().all_finite(this.size, this.params.ptr);
  }
}
