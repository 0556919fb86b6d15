/**
 * Keras model files, the graph: the functional graph of a model config traced from its inputs to its outputs
 * (nested functional and Sequential models included), and matched against this package's model (keras-file.ts
 * is the whole reader).
 */
import type * as hdf5 from 'jsfive';
import { ConfigError, FormatError } from '../core/errors.js';
import { type Json, MAX_OPS, type WeightStore } from './keras-container.js';

// ---------------------------------------------------------------------------------------------
// the graph

/** One call of a layer in the traced graph. */
export interface Op {
  /** The layer's path through the nested models, e.g. `encoder/lstm`. */
  path: string;
  cls: string;
  /** The Python module of the layer's class (`keras.layers` for built-in layers in Keras 3; absent in Keras 2 files). */
  module: string | undefined;
  config: Json;
  inputs: Value[];
  /** Names of keyword arguments that were tensors (an LSTM's initial_state...). */
  tensorKwargs: string[];
  group: hdf5.Group | undefined;
  outputs: Map<number, Value>;
}

/** A symbolic tensor: output `index` of `op`, or (op undefined) the model's input `index`. */
export interface Value {
  op?: Op;
  index: number;
}

export const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);
/** Layers that compute the identity at inference. */
export const IDENTITY = new Set([
  'Dropout',
  'SpatialDropout1D',
  'GaussianDropout',
  'GaussianNoise',
  'AlphaDropout',
  'ActivityRegularization',
  'Identity',
]);

export const layerName = (l: Json): string => String((l.config as Json | undefined)?.name ?? l.name ?? '?');
export const isModel = (l: Json) => MODEL_CLASSES.has(String(l.class_name)) || Array.isArray((l.config as Json | undefined)?.layers);

export class Tracer {
  readonly ops: Op[] = [];
  /** Keras 3 config format (inbound nodes as { args, kwargs }) or Keras 2 (nested lists). */
  keras3 = true;
  constructor(private store: WeightStore) {}

  output(op: Op, index: number): Value {
    let v = op.outputs.get(index);
    if (!v) op.outputs.set(index, (v = { op, index }));
    return v;
  }

  /** Runs the model `model` (a layer config) on `inputs`; its weights are under `group`. */
  model(model: Json, inputs: Value[], group: hdf5.Group | undefined, prefix: string): Value[] {
    const cls = String(model.class_name);
    // (Keras 2.0-2.2 wrote a Sequential config as the bare list of its layers)
    const cfg = (Array.isArray(model.config) ? { layers: model.config } : (model.config ?? {})) as Json;
    const name = layerName(model);
    const layers = cfg.layers;
    if (!Array.isArray(layers))
      throw new ConfigError(
        `the Keras model '${prefix || name}' (${cls}) is a subclassed model whose graph is not in the file; save it as a functional model (for example keras.Model(x, decoder(encoder(x)[0])))`,
        { argument: prefix || name, expected: 'Functional or Sequential', actual: cls },
      );
    const classes = layers.map((l) => String((l as Json).class_name));
    const here = (l: Json, i: number) => ({
      path: prefix ? `${prefix}/${layerName(l)}` : layerName(l),
      group: this.store.child(group, layerName(l), i, classes),
    });
    if (cls === 'Sequential' || !isObject(cfg.input_layers) || !isObject(cfg.output_layers)) {
      // Sequential: each layer (InputLayer aside) takes the previous one's output
      if (inputs.length !== 1)
        throw new FormatError(`the Sequential model '${prefix || name}' is given ${inputs.length} inputs`, { argument: prefix || name });
      let v = inputs;
      layers.forEach((l, i) => {
        const lj = l as Json;
        if (lj.class_name === 'InputLayer') return;
        const { path, group: g } = here(lj, i);
        v = this.apply(lj, v, [], g, path);
      });
      return v;
    }
    // Functional: the inbound nodes name their input tensors [layer, node, tensor]
    const calls = new Map<string, Value[][]>();
    const ins = refList(cfg.input_layers);
    if (ins.length !== inputs.length)
      throw new FormatError(`the model '${prefix || name}' has ${ins.length} inputs but is given ${inputs.length}`, {
        argument: prefix || name,
      });
    ins.forEach(([n], i) => calls.set(n, [[inputs[i]]]));
    const byName = new Map<string, Json>();
    for (const l of layers) byName.set(layerName(l as Json), l as Json);
    const resolve = (ref: Ref, forOutput: boolean): Value | undefined => {
      const [n, node, t] = ref;
      const c = calls.get(n);
      if (!c) return undefined;
      const l = byName.get(n);
      // a nested functional model's node 0 is its own (internal) one: Keras 2 numbers its calls from 1,
      // Keras 3 too in output_layers but not in the inbound nodes
      let k = node;
      if (l && isModel(l) && String(l.class_name) !== 'Sequential' && (!this.keras3 || forOutput)) k = node - 1;
      const outs = c.length === 1 ? c[0] : c[k];
      return outs?.[t];
    };
    // layers in the order of the config (topological in files Keras writes); a pass that makes no
    // progress means a reference to nothing
    // (each call after the first of a layer waits for the call before it: `after`)
    const pending: { l: Json; i: number; node: number; nodes: unknown[]; after: number }[] = [];
    layers.forEach((l, i) => {
      const lj = l as Json;
      if (lj.class_name === 'InputLayer') return;
      const nodes = Array.isArray(lj.inbound_nodes) ? (lj.inbound_nodes as unknown[]) : [];
      if (nodes.length && !Array.isArray(nodes[0])) this.keras3 = true;
      else if (nodes.length) this.keras3 = false;
      calls.set(layerName(lj), []);
      nodes.forEach((_, node) => pending.push({ l: lj, i, node, nodes, after: node === 0 ? -1 : pending.length - 1 }));
    });
    const done = new Set<number>();
    for (let progress = true; progress && done.size < pending.length; ) {
      progress = false;
      pending.forEach((p, j) => {
        if (done.has(j) || (p.after >= 0 && !done.has(p.after))) return;
        const { refs, tensorKwargs } = nodeRefs(p.nodes[p.node]);
        const vals = refs.map((r) => resolve(r, false));
        if (vals.some((v) => v === undefined)) return;
        const { path, group: g } = here(p.l, p.i);
        calls.get(layerName(p.l))!.push(this.apply(p.l, vals as Value[], tensorKwargs, g, path));
        done.add(j);
        progress = true;
      });
    }
    if (done.size < pending.length) {
      const p = pending.find((_, j) => !done.has(j))!;
      throw new FormatError(`the Keras layer '${prefix ? `${prefix}/` : ''}${layerName(p.l)}' takes a tensor no layer of the model makes`, {
        argument: layerName(p.l),
      });
    }
    return refList(cfg.output_layers).map((r) => {
      const v = resolve(r, true);
      if (!v)
        throw new FormatError(`the output ${JSON.stringify(r)} of the model '${prefix || name}' is no layer's output`, {
          argument: prefix || name,
        });
      return v;
    });
  }

  apply(l: Json, inputs: Value[], tensorKwargs: string[], group: hdf5.Group | undefined, path: string): Value[] {
    // a config whose sub-models call sub-models many times over could make the traced graph explode
    if (this.ops.length > MAX_OPS)
      throw new FormatError(`the model's graph has more than ${MAX_OPS} layer calls`, { argument: path, expected: `at most ${MAX_OPS}` });
    if (isModel(l)) return this.model(l, inputs, group, path);
    const op: Op = {
      path,
      cls: String(l.class_name),
      module: typeof l.module === 'string' ? l.module : undefined,
      config: (l.config ?? {}) as Json,
      inputs,
      tensorKwargs,
      group,
      outputs: new Map(),
    };
    this.ops.push(op);
    const c = op.config;
    const n = op.cls === 'LSTM' && c.return_state === true ? 3 : 1;
    return Array.from({ length: n }, (_, i) => this.output(op, i));
  }
}

export type Ref = [string, number, number];

export const isObject = (v: unknown): v is object => v !== null && typeof v === 'object';

/** input_layers / output_layers: one [name, node, tensor] or a list of them. */
export function refList(v: unknown): Ref[] {
  // Keras 3 writes a model of dict inputs / outputs as { key: [layer, node, tensor] }
  const a = (Array.isArray(v) ? v : Object.values(v as Json)) as unknown[];
  if (a.length === 3 && typeof a[0] === 'string') return [a as unknown as Ref];
  return a.map((r) => {
    if (!Array.isArray(r) || typeof r[0] !== 'string')
      throw new FormatError('a model input or output is not [layer, node, tensor]', { argument: 'config', actual: r });
    return [r[0], Number(r[1]), Number(r[2])] as Ref;
  });
}

/** The tensors one inbound node takes, in order (Keras 3: { args, kwargs }; Keras 2: [[name, node, tensor, kwargs], ...]). */
export function nodeRefs(node: unknown): { refs: Ref[]; tensorKwargs: string[] } {
  if (Array.isArray(node))
    return {
      refs: node.map((e) => {
        if (!Array.isArray(e) || typeof e[0] !== 'string')
          throw new FormatError('an inbound node is not [layer, node, tensor, kwargs]', { argument: 'inbound_nodes', actual: e });
        return [e[0], Number(e[1]), Number(e[2])] as Ref;
      }),
      tensorKwargs: [],
    };
  const refs: Ref[] = [];
  const collect = (v: unknown, into: Ref[]) => {
    if (Array.isArray(v)) for (const x of v) collect(x, into);
    else if (v !== null && typeof v === 'object') {
      const o = v as Json;
      if (o.class_name === '__keras_tensor__') {
        const h = (o.config as Json | undefined)?.keras_history as unknown[] | undefined;
        if (!Array.isArray(h) || typeof h[0] !== 'string')
          throw new FormatError('a Keras tensor has no keras_history', { argument: 'inbound_nodes', actual: o });
        into.push([h[0], Number(h[1]), Number(h[2])]);
      } else for (const x of Object.values(o)) collect(x, into);
    }
  };
  const n = (node ?? {}) as Json;
  collect(n.args, refs);
  const tensorKwargs: string[] = [];
  for (const [k, v] of Object.entries((n.kwargs ?? {}) as Json)) {
    const r: Ref[] = [];
    collect(v, r);
    if (r.length) tensorKwargs.push(k);
  }
  return { refs, tensorKwargs };
}

// ---------------------------------------------------------------------------------------------
// matching the graph to this package's model

export const SHAPE = 'input → LSTM → Dense z_mean, Dense z_log_var → (sampling) → RepeatVector → LSTM(return_sequences) → Dense';

export function layerError(op: Op, why: string, expected?: unknown, actual?: unknown): ConfigError {
  return new ConfigError(`the Keras layer '${op.path}' (${op.cls}) ${why}`, {
    argument: op.path,
    expected,
    actual,
  });
}

/** A layer of another kind where an LSTM / Dense / RepeatVector of this package's model should be: `where` says where. */
export function unsupported(op: Op, where: string): ConfigError {
  const convolutional = 'its kernels are convolutions, not the dense LSTM cell of this package';
  const why: Record<string, string> = {
    GRU: "a GRU's reset and update gates have no counterpart in this package's LSTM cells",
    SimpleRNN: "a SimpleRNN has no gates to map onto this package's LSTM cells",
    Bidirectional: "it reads the sequence in both directions while this package's LSTMs read forwards only",
    ConvLSTM1D: convolutional,
    ConvLSTM2D: convolutional,
    RNN: "a generic RNN around a custom cell cannot be mapped onto this package's LSTM",
    Masking: "this package's LSTMs do not skip masked time steps",
    Embedding: 'only continuous-sequence LSTM-VAEs are read from Keras files',
    Lambda: 'what a Lambda computes cannot be read from the file',
  };
  return layerError(op, `stands ${where}, and ${why[op.cls] ?? `this package's model has no such layer (it is ${SHAPE})`}`, where, op.cls);
}

export const skip = (v: Value): Value => {
  while (v.op && IDENTITY.has(v.op.cls) && v.op.inputs.length === 1) v = v.op.inputs[0];
  return v;
};

export function activationName(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object') {
    const o = v as Json;
    return String((o.config as Json | undefined)?.name ?? o.class_name);
  }
  return String(v);
}

export function checkLstm(op: Op): void {
  const c = op.config;
  const rec = activationName(c.recurrent_activation) ?? 'sigmoid';
  if (rec !== 'sigmoid')
    throw layerError(
      op,
      rec === 'hard_sigmoid'
        ? "uses recurrent_activation 'hard_sigmoid', a piecewise-linear approximation of the logistic sigmoid of this package's LSTM gates, so no conversion of its weights computes the same function (use recurrent_activation='sigmoid', Keras 3's default)"
        : `uses recurrent_activation '${rec}', and the gates of this package's LSTM use the logistic sigmoid`,
      'sigmoid',
      rec,
    );
  const act = activationName(c.activation) ?? 'tanh';
  if (act !== 'tanh') throw layerError(op, `uses activation '${act}', and this package's LSTM uses tanh`, 'tanh', act);
  if (c.go_backwards === true) throw layerError(op, "runs backwards (go_backwards), and this package's LSTM reads forwards", false, true);
  if (c.stateful === true)
    throw layerError(
      op,
      "is stateful (keeps its state from one batch to the next), and this package's LSTM starts every sequence from zero",
      false,
      true,
    );
  if (c.time_major === true) throw layerError(op, 'is time-major; only batch-major LSTMs are read', false, true);
  if (op.tensorKwargs.length)
    throw layerError(
      op,
      `takes ${op.tensorKwargs.join(', ')} from another layer, and this package's LSTMs start from zero states`,
      'no tensor arguments',
      op.tensorKwargs,
    );
  if (op.inputs.length !== 1)
    throw layerError(op, `takes ${op.inputs.length} inputs; an LSTM of this package takes one sequence`, 1, op.inputs.length);
}

export function checkDense(op: Op, role: string): Json {
  let c = op.config;
  if (op.cls === 'TimeDistributed') {
    const inner = c.layer as Json | undefined;
    if (inner?.class_name !== 'Dense')
      throw layerError(
        op,
        `wraps a ${String(inner?.class_name ?? 'missing layer')}; as ${role}, only TimeDistributed(Dense) can be mapped`,
        'Dense',
        inner?.class_name,
      );
    c = (inner.config ?? {}) as Json;
  } else if (op.cls !== 'Dense') throw unsupported(op, `where ${role} should be`);
  const act = activationName(c.activation) ?? 'linear';
  if (act !== 'linear') throw layerError(op, `has activation '${act}'; ${role} of this package is linear`, 'linear', act);
  if (c.lora_rank !== undefined && c.lora_rank !== null) throw layerError(op, 'has LoRA weights, which are not read', null, c.lora_rank);
  if (op.inputs.length !== 1) throw layerError(op, `takes ${op.inputs.length} inputs`, 1, op.inputs.length);
  return c;
}

export interface Match {
  encoder: Op[];
  mu: Op;
  logvar: Op;
  decoder: Op[];
  out: Op;
}

export function matchDecoder(y: Value, ops: Op[]): Match {
  const outOp = skip(y).op;
  if (!outOp) throw new ConfigError(`the model's output is its input: the model must be ${SHAPE}`, { argument: 'outputs' });
  checkDense(outOp, "the decoder's output layer");
  // decoder LSTMs, top first
  const decoder: Op[] = [];
  let s = skip(outOp.inputs[0]);
  while (s.op && s.op.cls === 'LSTM') {
    const op = s.op;
    checkLstm(op);
    if (op.config.return_sequences !== true || s.index !== 0)
      throw layerError(
        op,
        "returns only its last step, but every LSTM of this package's decoder returns its whole sequence (return_sequences=True)",
        true,
        false,
      );
    decoder.unshift(op);
    s = skip(op.inputs[0]);
  }
  if (!decoder.length) {
    if (s.op) throw unsupported(s.op, `where the decoder's LSTM should be (before the output layer '${outOp.path}')`);
    throw layerError(outOp, "reads the model's input directly; it must read the decoder's LSTM", 'LSTM', 'input');
  }
  if (s.op?.cls !== 'RepeatVector') {
    const first = decoder[0];
    if (!s.op)
      throw layerError(
        first,
        "reads the model's input, but the decoder's LSTM reads z repeated at every step (RepeatVector)",
        'RepeatVector',
        'input',
      );
    throw unsupported(s.op, `where a RepeatVector of z should be (before the decoder's LSTM '${first.path}')`);
  }
  const repeat = s.op;
  const z = skip(repeat.inputs[0]);
  if (!z.op) throw layerError(repeat, "repeats the model's input, not the latent z", 'z', 'input');
  let mu: Op;
  let logvar: Op | undefined;
  if (z.op.cls === 'Dense') {
    // the decoder reads z_mean itself; z_log_var is the other Dense on the encoder's last step
    mu = z.op;
    const h = skip(mu.inputs[0]);
    const others = ops.filter((o) => o !== mu && o.cls === 'Dense' && o.inputs.length === 1 && sameValue(skip(o.inputs[0]), h));
    if (others.length !== 1)
      throw layerError(
        mu,
        others.length === 0
          ? 'feeds the decoder, but no second Dense (z_log_var) reads the same encoder output'
          : `feeds the decoder, and ${others.length} other Dense layers (${others.map((o) => `'${o.path}'`).join(', ')}) read the same encoder output, so which one is z_log_var is not clear`,
        'one Dense z_log_var',
        others.map((o) => o.path),
      );
    logvar = others[0];
  } else if (isSampling(z.op) && z.op.inputs.length === 2 && z.op.inputs.every((v) => skip(v).op?.cls === 'Dense')) {
    // a sampling layer: z = z_mean + exp(z_log_var / 2) · eps, its inputs in that order
    const [a, b] = z.op.inputs.map((v) => skip(v).op!);
    mu = a;
    logvar = b;
  } else {
    const zo = z.op;
    if (zo.cls === 'LSTM')
      throw layerError(
        repeat,
        `repeats the last step of the LSTM '${zo.path}' itself: an LSTM autoencoder without the Dense z_mean and z_log_var heads of a VAE, which this package's model has`,
        'Dense z_mean or a sampling layer',
        zo.cls,
      );
    if (isSampling(zo))
      throw layerError(
        zo,
        'feeds the decoder but does not take two Dense outputs (z_mean, z_log_var), so it is not a sampling layer',
        'sampling(z_mean, z_log_var)',
        zo.inputs.length,
      );
    throw unsupported(zo, `where z (Dense z_mean or a sampling layer) should be (before the RepeatVector '${repeat.path}')`);
  }
  checkDense(mu, 'z_mean');
  checkDense(logvar, 'z_log_var');
  const h = skip(mu.inputs[0]);
  if (!sameValue(skip(logvar.inputs[0]), h))
    throw layerError(logvar, `reads another tensor than z_mean '${mu.path}'; both must read the encoder's last step`, mu.path, logvar.path);
  // encoder LSTMs, top first: the top one gives its last step (return_sequences=False, or the h of return_state)
  const encoder: Op[] = [];
  let e = h;
  if (!e.op) throw layerError(mu, "reads the model's input directly; it must read the encoder's LSTM", 'LSTM', 'input');
  if (e.op.cls !== 'LSTM') throw unsupported(e.op, `where the encoder's LSTM should be (before z_mean '${mu.path}')`);
  {
    const op = e.op;
    checkLstm(op);
    const rs = op.config.return_sequences === true;
    const last = (!rs && (e.index === 0 || e.index === 1)) || (rs && e.index === 1);
    if (!last)
      throw layerError(
        op,
        e.index === 2
          ? "gives z_mean its cell state c; this package's heads read the last hidden state h"
          : "gives z_mean its whole sequence (return_sequences=True); this package's heads read its last step",
        'the last step',
        e.index === 2 ? 'cell state' : 'sequence',
      );
    encoder.unshift(op);
    e = skip(op.inputs[0]);
  }
  while (e.op) {
    const op = e.op;
    if (op.cls !== 'LSTM')
      throw unsupported(op, `where a stacked encoder LSTM or the model's input should be (before the encoder's LSTM '${encoder[0].path}')`);
    checkLstm(op);
    if (op.config.return_sequences !== true || e.index !== 0)
      throw layerError(op, 'feeds another LSTM with its last step only; stacked LSTMs pass on their whole sequence', true, false);
    encoder.unshift(op);
    e = skip(op.inputs[0]);
  }
  if (encoder.length !== decoder.length)
    throw layerError(
      decoder[0],
      `is one of ${decoder.length} stacked decoder LSTM(s) (${decoder.map((o) => `'${o.path}'`).join(', ')}) but the encoder stacks ${encoder.length} (${encoder.map((o) => `'${o.path}'`).join(', ')}); this package's model stacks as many on both sides`,
      encoder.length,
      decoder.length,
    );
  const H = Number(encoder[0].config.units);
  for (const op of [...encoder, ...decoder])
    if (Number(op.config.units) !== H)
      throw layerError(
        op,
        `has ${String(op.config.units)} units but '${encoder[0].path}' has ${H}; this package's LSTMs all have one hidden size`,
        H,
        op.config.units,
      );
  return { encoder, mu, logvar, decoder, out: outOp };
}

/** Keras' own layers that take two tensors and are not a sampling layer. */
export const MERGE = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot']);
/** Keras' own layers that are not a sampling layer (Keras 2 files do not say which module a class is from). */
export const BUILT_IN = new Set([
  ...MERGE,
  ...IDENTITY,
  'LSTM',
  'GRU',
  'SimpleRNN',
  'RNN',
  'Bidirectional',
  'ConvLSTM1D',
  'ConvLSTM2D',
  'Dense',
  'EinsumDense',
  'RepeatVector',
  'TimeDistributed',
  'Masking',
  'Embedding',
  'Flatten',
  'Reshape',
  'Permute',
  'Activation',
  'BatchNormalization',
  'LayerNormalization',
  'Conv1D',
  'InputLayer',
]);
/** A Lambda or a custom layer (its class not from keras) can be the sampling layer; Keras' own layers cannot. */
export const isSampling = (op: Op) =>
  op.cls === 'Lambda' || (op.module === undefined ? !BUILT_IN.has(op.cls) : !op.module.startsWith('keras') && !MERGE.has(op.cls));

export const sameValue = (a: Value, b: Value) => a.op === b.op && a.index === b.index;
