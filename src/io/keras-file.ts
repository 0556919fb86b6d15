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
import { ConfigError, FormatError, LstmVaeError } from '../core/errors.js';
import type { LstmVaeConfig } from '../model/config.js';
import { type KerasLayers, kerasStateDict } from './keras-weights.js';
import {
  type Json,
  type StateDict,
  MAX_MEMBER_BYTES,
  isZip,
  isHdf5,
  openHdf5,
  reason,
  parseJson,
  attrText,
  child,
  isGroup,
  type WeightStore,
  kerasV3Store,
  legacyStore,
} from './keras-container.js';
import {
  type Op,
  type Value,
  layerName,
  Tracer,
  isObject,
  refList,
  SHAPE,
  unsupported,
  skip,
  activationName,
  type Match,
  matchDecoder,
} from './keras-graph.js';

/** What readKerasFile returns: the model's configuration and its weights in this package's layout. */
export interface KerasModel {
  config: LstmVaeConfig;
  tensors: StateDict;
  /** The Keras layers that were mapped, by this package's module names (e.g. `encoder.lstm` → `['encoder/lstm']`). */
  layers: Record<string, string[]>;
}

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
