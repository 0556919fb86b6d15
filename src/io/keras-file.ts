/**
 * Whole Keras model files → an LstmVae's config and state dict.
 *
 * Two containers: a `.keras` file (Keras 3: a zip of `config.json` and `model.weights.h5`) and a legacy
 * `.h5` file (the model config as JSON in the HDF5 root attribute `model_config`, the weights under
 * `model_weights/<layer name>/...`). The layers are found from the GRAPH in the config, not from their
 * names: the functional graph (nested functional or Sequential sub-models included) is traced from the
 * model's input to its outputs, then matched against this package's model:
 *
 *     input → LSTM (L stacked, the top one returning its last step) → Dense z_mean, Dense z_log_var
 *           → [a sampling layer taking (z_mean, z_log_var), or nothing: the decoder reads z_mean]
 *           → RepeatVector → LSTM (L stacked, return_sequences) → Dense or TimeDistributed(Dense)
 *
 * Layers that are the identity at inference (Dropout, GaussianNoise...) are looked through. Anything
 * else on that path, or a layer whose math differs (hard sigmoid gates, other activations, GRU,
 * Bidirectional, an initial state...), gives a ConfigError that names the Keras layer and says why;
 * a file that is not a valid Keras file gives a FormatError.
 */
import { unzipSync } from 'fflate';
import * as hdf5 from 'jsfive';
import { ConfigError, FormatError, LstmVaeError } from '../core/errors.js';
import type { LstmVaeConfig } from '../model/config.js';
import { type KerasLayers, kerasStateDict } from './keras-weights.js';

type Json = Record<string, unknown>;
type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

/** The most layer calls a traced graph may have (an LSTM-VAE has a dozen). */
const MAX_OPS = 100_000;
/** The largest member of a `.keras` zip that is unpacked (a guard against zip bombs). */
const MAX_MEMBER_BYTES = 1 << 30;

/** What readKerasFile returns: the model's configuration and its weights in this package's layout. */
export interface KerasModel {
  config: LstmVaeConfig;
  tensors: StateDict;
  /** The Keras layers that were mapped, by this package's module names (e.g. `encoder.lstm` → `['encoder/lstm']`). */
  layers: Record<string, string[]>;
}

// ---------------------------------------------------------------------------------------------
// containers

const isZip = (b: Uint8Array) => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const isHdf5 = (b: Uint8Array) => b.length >= 8 && HDF5_MAGIC.every((v, i) => b[i] === v);

function openHdf5(bytes: Uint8Array, what: string): hdf5.File {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  try {
    return new hdf5.File(buf, what);
  } catch (e) {
    throw new FormatError(`${what} is not a readable HDF5 file: ${reason(e)}`, { argument: what });
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function parseJson(text: string, what: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${what} is not valid JSON: ${reason(e)}`, { argument: what });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new FormatError(`${what} must be a JSON object (a Keras model config)`, { argument: what, actual: typeof v });
  return v as Json;
}

function attrText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (Array.isArray(v) && v.length === 1) return attrText(v[0]);
  return undefined;
}

/** The children of an HDF5 group (jsfive throws a string for a missing key: ask first). */
function child(g: hdf5.Group, key: string): hdf5.Group | hdf5.Dataset | undefined {
  if (!g.keys.includes(key)) return undefined;
  try {
    return g.get(key) ?? undefined;
  } catch (e) {
    throw new FormatError(`the HDF5 object ${g.name}/${key} cannot be read: ${reason(e)}`, { argument: `${g.name}/${key}` });
  }
}
const isGroup = (v: unknown): v is hdf5.Group => v instanceof hdf5.Group;
const isDataset = (v: unknown): v is hdf5.Dataset => v instanceof hdf5.Dataset;

interface Tensor {
  shape: number[];
  data: Float32Array;
}

function readDataset(d: hdf5.Dataset): Tensor {
  try {
    const dtype = String(d.dtype);
    if (!/^[<>|]?f[48]$/.test(dtype))
      throw new FormatError(`the weight ${d.name} has dtype ${dtype}; only float32 and float64 weights are read`, {
        argument: d.name,
        expected: 'float32',
        actual: dtype,
      });
    const shape = [...d.shape];
    const v = d.value;
    const n = shape.reduce((a, b) => a * b, 1);
    if (!v || v.length !== n)
      throw new FormatError(`the weight ${d.name} holds ${v?.length ?? 0} values for the shape [${shape.join(', ')}]`, {
        argument: d.name,
        expected: n,
        actual: v?.length,
      });
    return { shape, data: Float32Array.from(v) };
  } catch (e) {
    if (e instanceof LstmVaeError) throw e;
    throw new FormatError(`the weight ${d.name} cannot be read: ${reason(e)}`, { argument: d.name });
  }
}

/** Where a layer's weights are: the HDF5 group of a layer, and how to list its tensors. */
interface WeightStore {
  root: hdf5.Group;
  /** The group of the layer `name` (the `index`-th of `classes`) inside the group of its model. */
  child(parent: hdf5.Group | undefined, name: string, index: number, classes: string[]): hdf5.Group | undefined;
  /** A layer's weights as Keras lists them (kernel, recurrent_kernel, bias / kernel, bias). */
  weights(g: hdf5.Group, kind: 'lstm' | 'dense'): { kernel?: Tensor; recurrent?: Tensor; bias?: Tensor };
}

const snake = (s: string) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();

/** Keras 3's `model.weights.h5`: `layers/<snake_case class name, deduplicated>/vars/0..n`, `vars` naming the layer. */
function kerasV3Store(root: hdf5.Group): WeightStore {
  return {
    root,
    child(parent, name, index, classes) {
      const layers = parent && child(parent, 'layers');
      if (!isGroup(layers)) return undefined;
      for (const k of layers.keys) {
        const g = child(layers, k);
        const vars = isGroup(g) ? child(g, 'vars') : undefined;
        if (isGroup(vars) && attrText(vars.attrs.name) === name) return g as hdf5.Group;
      }
      // older files: no names; the path is the class name in snake case, numbered by repeats
      const base = snake(classes[index]);
      const seen = classes.slice(0, index).filter((c) => snake(c) === base).length;
      const g = child(layers, seen === 0 ? base : `${base}_${seen}`);
      return isGroup(g) ? g : undefined;
    },
    weights(g, kind) {
      const list = (h: hdf5.Group): Tensor[] => {
        const vars = child(h, 'vars');
        const out: Tensor[] = [];
        if (isGroup(vars))
          for (const k of [...vars.keys].sort((a, b) => Number(a) - Number(b))) {
            const d = child(vars, k);
            if (isDataset(d)) out.push(readDataset(d));
          }
        if (out.length) return out;
        for (const sub of ['cell', 'layer']) {
          const s = child(h, sub);
          if (isGroup(s)) {
            const w = list(s);
            if (w.length) return w;
          }
        }
        return out;
      };
      const w = list(g);
      return kind === 'lstm' ? { kernel: w[0], recurrent: w[1], bias: w[2] } : { kernel: w[0], bias: w[1] };
    },
  };
}

/** Legacy `.h5`: `model_weights/<layer name>/.../<kernel | recurrent_kernel | bias>[:0]`. */
function legacyStore(root: hdf5.Group): WeightStore {
  const find = (g: hdf5.Group, name: string, depth: number): hdf5.Group | undefined => {
    const direct = child(g, name);
    if (isGroup(direct)) return direct;
    if (depth > 8) return undefined;
    for (const k of g.keys) {
      const c = child(g, k);
      if (isGroup(c)) {
        const r = find(c, name, depth + 1);
        if (r) return r;
      }
    }
    return undefined;
  };
  return {
    root,
    child(parent, name) {
      return parent ? find(parent, name, 0) : undefined;
    },
    weights(g) {
      const out: { kernel?: Tensor; recurrent?: Tensor; bias?: Tensor } = {};
      const walk = (h: hdf5.Group, depth: number) => {
        for (const k of h.keys) {
          const c = child(h, k);
          const base = k.replace(/:\d+$/, '');
          if (isDataset(c)) {
            if (base === 'kernel' && !out.kernel) out.kernel = readDataset(c);
            else if (base === 'recurrent_kernel' && !out.recurrent) out.recurrent = readDataset(c);
            else if (base === 'bias' && !out.bias) out.bias = readDataset(c);
          } else if (isGroup(c) && depth < 8) walk(c, depth + 1);
        }
      };
      walk(g, 0);
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the graph

/** One call of a layer in the traced graph. */
interface Op {
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
interface Value {
  op?: Op;
  index: number;
}

const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);
/** Layers that compute the identity at inference. */
const IDENTITY = new Set([
  'Dropout',
  'SpatialDropout1D',
  'GaussianDropout',
  'GaussianNoise',
  'AlphaDropout',
  'ActivityRegularization',
  'Identity',
]);

const layerName = (l: Json): string => String((l.config as Json | undefined)?.name ?? l.name ?? '?');
const isModel = (l: Json) => MODEL_CLASSES.has(String(l.class_name)) || Array.isArray((l.config as Json | undefined)?.layers);

class Tracer {
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

type Ref = [string, number, number];

const isObject = (v: unknown): v is object => v !== null && typeof v === 'object';

/** input_layers / output_layers: one [name, node, tensor] or a list of them. */
function refList(v: unknown): Ref[] {
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
function nodeRefs(node: unknown): { refs: Ref[]; tensorKwargs: string[] } {
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

const SHAPE = 'input → LSTM → Dense z_mean, Dense z_log_var → (sampling) → RepeatVector → LSTM(return_sequences) → Dense';

function layerError(op: Op, why: string, expected?: unknown, actual?: unknown): ConfigError {
  return new ConfigError(`the Keras layer '${op.path}' (${op.cls}) ${why}`, {
    argument: op.path,
    expected,
    actual,
  });
}

/** A layer of another kind where an LSTM / Dense / RepeatVector of this package's model should be: `where` says where. */
function unsupported(op: Op, where: string): ConfigError {
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

const skip = (v: Value): Value => {
  while (v.op && IDENTITY.has(v.op.cls) && v.op.inputs.length === 1) v = v.op.inputs[0];
  return v;
};

function activationName(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object') {
    const o = v as Json;
    return String((o.config as Json | undefined)?.name ?? o.class_name);
  }
  return String(v);
}

function checkLstm(op: Op): void {
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

function checkDense(op: Op, role: string): Json {
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

interface Match {
  encoder: Op[];
  mu: Op;
  logvar: Op;
  decoder: Op[];
  out: Op;
}

function matchDecoder(y: Value, ops: Op[]): Match {
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
const MERGE = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot']);
/** Keras' own layers that are not a sampling layer (Keras 2 files do not say which module a class is from). */
const BUILT_IN = new Set([
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
const isSampling = (op: Op) =>
  op.cls === 'Lambda' || (op.module === undefined ? !BUILT_IN.has(op.cls) : !op.module.startsWith('keras') && !MERGE.has(op.cls));

const sameValue = (a: Value, b: Value) => a.op === b.op && a.index === b.index;

// ---------------------------------------------------------------------------------------------

/**
 * Reads a `.keras` (zip) or legacy `.h5` Keras file holding an LSTM-VAE (see the module comment for
 * the graph it must have). Throws FormatError for a file that is not a Keras model file, ConfigError
 * naming the Keras layer for one that cannot be mapped exactly.
 */
export function readKerasFile(bytes: Uint8Array): KerasModel {
  // jsfive warns on the console about attributes of types it does not read (damaged files): quiet
  // while reading (synchronous, so nothing else logs meanwhile)
  const warn = console.warn;
  console.warn = () => {};
  try {
    return read(bytes);
  } catch (e) {
    if (e instanceof LstmVaeError) throw e;
    // a malformed config or HDF5 structure that the checks above did not foresee (jsfive throws strings
    // and TypeErrors on damaged files): still a typed error
    throw new FormatError(`the Keras file cannot be read: ${reason(e)}`, { argument: 'bytes' });
  } finally {
    console.warn = warn;
  }
}

function read(bytes: Uint8Array): KerasModel {
  if (!(bytes instanceof Uint8Array))
    throw new FormatError('fromKeras takes the file bytes as a Uint8Array', {
      argument: 'bytes',
      expected: 'Uint8Array',
      actual: (bytes as object)?.constructor?.name ?? typeof bytes,
    });
  let modelConfig: Json;
  let store: WeightStore;
  if (isZip(bytes)) {
    let files: Record<string, Uint8Array>;
    const wanted = ['config.json', 'model.weights.h5'];
    try {
      files = unzipSync(bytes, {
        filter: (f) => {
          if (!wanted.includes(f.name)) return false;
          if (f.originalSize > MAX_MEMBER_BYTES)
            throw new FormatError(`the .keras member ${f.name} unpacks to ${f.originalSize} bytes, more than this reader takes`, {
              argument: f.name,
              expected: `at most ${MAX_MEMBER_BYTES} bytes`,
              actual: f.originalSize,
            });
          return true;
        },
      });
    } catch (e) {
      if (e instanceof LstmVaeError) throw e;
      throw new FormatError(`the .keras file is not a readable zip: ${reason(e)}`, { argument: 'bytes' });
    }
    for (const w of wanted)
      if (!files[w])
        throw new FormatError(
          w === 'config.json'
            ? 'the zip has no config.json: it is not a .keras model file'
            : 'the .keras file has no model.weights.h5 (sharded weights are not read)',
          { argument: w, expected: w, actual: Object.keys(files) },
        );
    modelConfig = parseJson(new TextDecoder().decode(files['config.json']), 'config.json');
    store = kerasV3Store(openHdf5(files['model.weights.h5'], 'model.weights.h5'));
  } else if (isHdf5(bytes)) {
    const f = openHdf5(bytes, 'the .h5 file');
    let text: string | undefined;
    try {
      text = attrText(f.attrs.model_config);
    } catch (e) {
      throw new FormatError(`the .h5 file's attributes cannot be read: ${reason(e)}`, { argument: 'model_config' });
    }
    if (text === undefined)
      throw new FormatError(
        f.keys.includes('layers') || f.keys.includes('vars')
          ? 'this .h5 file holds weights only (model.save_weights): the graph is missing; read the whole model saved with model.save()'
          : 'the .h5 file has no model_config attribute: it is not a Keras model file',
        { argument: 'model_config' },
      );
    modelConfig = parseJson(text, 'model_config');
    const mw = child(f, 'model_weights');
    store = legacyStore(isGroup(mw) ? mw : f);
  } else
    throw new FormatError('not a Keras model file: expected a .keras zip or a legacy .h5 (HDF5) file', {
      argument: 'bytes',
      expected: 'zip or HDF5 signature',
      actual: Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' '),
    });

  const tracer = new Tracer(store);
  const top = modelConfig;
  if (typeof top.class_name !== 'string')
    throw new FormatError('the model config has no class_name', { argument: 'config', actual: Object.keys(top) });
  const topInputs = isObject((top.config as Json | undefined)?.input_layers) ? refList((top.config as Json).input_layers).length : 1;
  const outputs = tracer.model(
    top,
    Array.from({ length: topInputs }, (_, index) => ({ index })),
    store.root,
    '',
  );
  // the reconstruction is an output made by Dense / TimeDistributed reading a sequence; try those first
  const score = (v: Value) => {
    const op = skip(v).op;
    if (!op || (op.cls !== 'Dense' && op.cls !== 'TimeDistributed')) return 0;
    const inner = op.inputs[0] && skip(op.inputs[0]).op;
    return inner?.cls === 'LSTM' && inner.config.return_sequences === true ? 2 : 1;
  };
  const candidates = outputs.filter((v) => score(v) > 0).sort((a, b) => score(b) - score(a));
  if (!tracer.ops.some((o) => o.cls === 'RepeatVector')) {
    // an encoder alone, an LSTM-to-Dense regressor...: nothing to call a decoder
    const o = skip(outputs[0]).op;
    const what = `the Keras model '${layerName(top)}' has no RepeatVector, so no decoder of this package's kind (its LSTM reads z repeated at every step): an encoder or a decoder alone cannot be read, save the whole VAE`;
    throw new ConfigError(what, { argument: o?.path ?? 'outputs', expected: SHAPE, actual: o ? `${o.path} (${o.cls})` : 'input' });
  }
  if (!candidates.length) {
    const o = skip(outputs[0]).op;
    if (o) throw unsupported(o, "where the decoder's output Dense should be (the model's output)");
    throw new ConfigError(`the model's output is its input: the model must be ${SHAPE}`, { argument: 'outputs' });
  }
  let match: Match | undefined;
  let first: unknown;
  for (const c of candidates) {
    try {
      match = matchDecoder(c, tracer.ops);
      break;
    } catch (e) {
      first ??= e;
    }
  }
  if (!match) throw first;

  // weights
  const weightsOf = (op: Op, kind: 'lstm' | 'dense') => {
    if (!op.group) throw new FormatError(`the weights of the Keras layer '${op.path}' are not in the file`, { argument: op.path });
    const w = store.weights(op.group, kind);
    if (!w.kernel || (kind === 'lstm' && !w.recurrent))
      throw new FormatError(`the weights of the Keras layer '${op.path}' are not in the file`, {
        argument: op.path,
        expected: kind === 'lstm' ? 'kernel, recurrent_kernel, bias' : 'kernel, bias',
        actual: Object.keys(w),
      });
    const c = op.cls === 'TimeDistributed' ? (((op.config.layer as Json).config ?? {}) as Json) : op.config;
    const useBias = c.use_bias !== false;
    return {
      kernel: w.kernel,
      recurrentKernel: w.recurrent,
      bias: useBias ? w.bias : undefined,
      config: { useBias, activation: activationName(c.activation), recurrentActivation: activationName(c.recurrent_activation) },
    };
  };
  const { encoder, mu, logvar, decoder, out } = match;
  const kernel0 = weightsOf(encoder[0], 'lstm').kernel;
  const D = kernel0.shape[0];
  const H = Number(encoder[0].config.units);
  const Z = Number(mu.config.units);
  const config: LstmVaeConfig = { mode: 'continuous', features: D, hidden: H, latent: Z, layers: encoder.length, decoder: 'repeat' };
  const layers: KerasLayers = {
    'encoder.lstm': encoder.map((o) => weightsOf(o, 'lstm')),
    'encoder.fc_mu': weightsOf(mu, 'dense'),
    'encoder.fc_logvar': weightsOf(logvar, 'dense'),
    'decoder.lstm': decoder.map((o) => weightsOf(o, 'lstm')),
    'decoder.fc_out': weightsOf(out, 'dense'),
  };
  // shapes that do not fit name the Keras layer
  const slots: [keyof KerasLayers, Op[]][] = [
    ['encoder.lstm', encoder],
    ['encoder.fc_mu', [mu]],
    ['encoder.fc_logvar', [logvar]],
    ['decoder.lstm', decoder],
    ['decoder.fc_out', [out]],
  ];
  let tensors: StateDict;
  try {
    tensors = kerasStateDict(config, layers);
  } catch (e) {
    if (!(e instanceof LstmVaeError)) throw e;
    const slot = slots.find(([k]) => e.message.includes(`layers["${k}"]`));
    const m = e.message.match(/layers\["[a-z_.]+"\](?:\[(\d+)\])?/);
    const op = slot ? slot[1][Number(m?.[1] ?? 0)] : undefined;
    const Cls = e.constructor as new (message: string, details: object) => LstmVaeError;
    throw new Cls(op ? `the Keras layer '${op.path}' (${op.cls}): ${e.message}` : e.message, {});
  }
  return {
    config,
    tensors,
    layers: Object.fromEntries(slots.map(([k, o]) => [k, o.map((x) => x.path)])),
  };
}
