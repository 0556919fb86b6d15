/**
 * Weights from Keras / TensorFlow.js layers → an LstmVae.
 *
 * Keras stores an LSTM as `kernel [I, 4H]`, `recurrent_kernel [H, 4H]` and one `bias [4H]`, gate
 * order i, f, c, o; PyTorch (and this package) as `weight_ih [4H, I]`, `weight_hh [4H, H]`,
 * `bias_ih [4H]`, `bias_hh [4H]`, gate order i, f, g, o (the same gates). So `weight_ih = kernelᵀ`,
 * `weight_hh = recurrent_kernelᵀ`, `bias_ih = bias`, `bias_hh = 0`. A Dense layer's `kernel [in, out]`
 * is the transpose of `weight [out, in]`; an Embedding's `embeddings [V, E]` is `embedding.weight`.
 *
 * The math must be the same too: this package's gates use the logistic sigmoid. TF.js's LSTM
 * defaults to `recurrentActivation: 'hardSigmoid'` (Keras 2 to 'hard_sigmoid'), a piecewise-linear
 * approximation: such a layer is rejected, since no weights make the two compute the same function.
 */
import { ConfigError, ShapeError } from '../core/errors.js';
import type { LstmVaeConfig } from '../model/config.js';
import { parameterShapes } from '../model/params.js';

/** A tensor: `{ shape, data }`, nested number arrays, or a TF.js tensor (anything with `shape` and `dataSync()`). */
export type KerasTensor =
  | { shape: readonly number[]; data: Float32Array | ArrayLike<number> }
  | { shape: readonly number[]; dataSync(): ArrayLike<number> }
  | number[]
  | number[][];

/** A layer's config as Keras / TF.js give it (camelCase or snake_case keys); only the math-relevant keys are read. */
export interface KerasLayerConfig {
  activation?: string;
  recurrentActivation?: string;
  recurrent_activation?: string;
  useBias?: boolean;
  use_bias?: boolean;
  goBackwards?: boolean;
  go_backwards?: boolean;
  [key: string]: unknown;
}

/**
 * One Keras layer's weights:
 * - an object `{ kernel, recurrentKernel (or recurrent_kernel), bias, config? }` (LSTM),
 *   `{ kernel, bias, config? }` (Dense) or `{ embeddings }` (Embedding);
 * - the list `get_weights()` / `getWeights()` returns (`[kernel, recurrent_kernel, bias]`, `[kernel, bias]`, `[embeddings]`);
 * - or a TF.js layer itself (its `getWeights()` and `getConfig()` are read).
 */
export type KerasLayer =
  | { kernel: KerasTensor; recurrentKernel?: KerasTensor; recurrent_kernel?: KerasTensor; bias?: KerasTensor; config?: KerasLayerConfig }
  | { embeddings: KerasTensor }
  | KerasTensor[]
  | { getWeights(): unknown[]; getConfig(): KerasLayerConfig };

/** The layers by this package's module names; an LSTM stack of `layers: L` takes a list of L layers. */
export interface KerasLayers {
  'encoder.lstm': KerasLayer | KerasLayer[];
  'encoder.fc_mu': KerasLayer;
  'encoder.fc_logvar': KerasLayer;
  'decoder.lstm': KerasLayer | KerasLayer[];
  'decoder.fc_out': KerasLayer;
  /** Token models: the shared Embedding. */
  embedding?: KerasLayer;
  /** Token models: the Dense layer z → initial states (this package applies tanh after it). */
  'decoder.fc_init'?: KerasLayer;
}

interface Dense {
  data: Float32Array;
  shape: number[];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array of ${v.length}`;
  return (v as object)?.constructor?.name ?? typeof v;
}

/** Any accepted tensor form → a dense float32 array and its shape. */
function tensor(v: unknown, where: string): Dense {
  if (Array.isArray(v)) {
    const shape: number[] = [];
    let cur: unknown = v;
    while (Array.isArray(cur)) {
      shape.push(cur.length);
      cur = cur[0];
    }
    if (shape.length > 2)
      throw new ShapeError(`${where} must be a 1-D or 2-D tensor`, {
        argument: where,
        expected: '1-D or 2-D',
        actual: `${shape.length}-D`,
      });
    const flat =
      shape.length === 1
        ? (v as number[])
        : (v as number[][]).flatMap((row, r) => {
            if (!Array.isArray(row) || row.length !== shape[1])
              throw new ShapeError(`${where}[${r}] must have ${shape[1]} values`, {
                argument: `${where}[${r}]`,
                expected: shape[1],
                actual: Array.isArray(row) ? row.length : typeof row,
              });
            return row;
          });
    return { data: Float32Array.from(flat as number[], (x) => (typeof x === 'number' ? x : NaN)), shape };
  }
  if (v !== null && typeof v === 'object' && Array.isArray((v as { shape?: unknown }).shape)) {
    const shape = [...(v as { shape: number[] }).shape];
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new ShapeError(`${where}.shape must hold whole numbers`, { argument: `${where}.shape`, actual: shape });
    const raw =
      typeof (v as { dataSync?: unknown }).dataSync === 'function'
        ? (v as { dataSync(): ArrayLike<number> }).dataSync()
        : (v as { data?: ArrayLike<number> }).data;
    if (raw === null || typeof raw !== 'object' || typeof raw.length !== 'number')
      throw new ShapeError(`${where} has no data`, {
        argument: `${where}.data`,
        expected: 'Float32Array or number[]',
        actual: describe(raw),
      });
    const n = shape.reduce((a, b) => a * b, 1);
    if (raw.length !== n)
      throw new ShapeError(`${where} has ${raw.length} values but its shape [${shape.join(', ')}] needs ${n}`, {
        argument: `${where}.data.length`,
        expected: n,
        actual: raw.length,
      });
    return { data: Float32Array.from(raw), shape };
  }
  throw new ShapeError(`${where} must be a tensor`, {
    argument: where,
    expected: '{ shape, data }, nested number arrays or a TF.js tensor',
    actual: describe(v),
  });
}

interface Unpacked {
  kernel?: unknown;
  recurrent?: unknown;
  bias?: unknown;
  embeddings?: unknown;
  config?: KerasLayerConfig;
  count: number;
}

function unpack(layer: unknown, where: string, kind: 'lstm' | 'dense' | 'embedding'): Unpacked {
  if (layer === null || typeof layer !== 'object')
    throw new ConfigError(`${where} must be a Keras layer's weights`, {
      argument: where,
      expected: 'layer, weight list or { kernel, ... }',
      actual: describe(layer),
    });
  const l = layer as Record<string, unknown>;
  if (typeof l.getWeights === 'function') {
    const w = (l.getWeights as () => unknown[])();
    const config = typeof l.getConfig === 'function' ? (l.getConfig as () => KerasLayerConfig)() : undefined;
    return { ...unpack(w, where, kind), config };
  }
  if (Array.isArray(layer)) {
    const w = layer as unknown[];
    if (!isWeightList(w))
      throw new ConfigError(`${where} must be a layer's weight list ([kernel, ...]) or a layer`, {
        argument: where,
        expected: 'tensors',
        actual: describe(layer),
      });
    const want = kind === 'embedding' ? 1 : kind === 'lstm' ? 3 : 2;
    if (w.length !== want && !(w.length === want - 1 && kind !== 'embedding'))
      throw new ConfigError(
        `${where} has ${w.length} weights; a Keras ${kind === 'lstm' ? 'LSTM' : kind === 'dense' ? 'Dense' : 'Embedding'} layer has ${want}${kind !== 'embedding' ? ` (${want - 1} without bias)` : ''}`,
        { argument: where, expected: want, actual: w.length },
      );
    if (kind === 'embedding') return { embeddings: w[0], count: w.length };
    if (kind === 'lstm')
      return { kernel: w[0], recurrent: w[1], bias: w[2], count: w.length, config: w.length === 2 ? { useBias: false } : undefined };
    return { kernel: w[0], bias: w[1], count: w.length, config: w.length === 1 ? { useBias: false } : undefined };
  }
  if (kind === 'embedding') return { embeddings: l.embeddings, count: l.embeddings === undefined ? 0 : 1 };
  return {
    kernel: l.kernel,
    recurrent: l.recurrentKernel ?? l.recurrent_kernel,
    bias: l.bias,
    config: l.config as KerasLayerConfig | undefined,
    count: -1,
  };
}

function checkLstmConfig(c: KerasLayerConfig | undefined, where: string): void {
  if (!c) return;
  const rec = c.recurrentActivation ?? c.recurrent_activation;
  if (rec !== undefined && rec !== 'sigmoid') {
    const hard = rec === 'hard_sigmoid' || rec === 'hardSigmoid';
    throw new ConfigError(
      hard
        ? `${where} uses recurrentActivation '${rec}' (TF.js's default): a piecewise-linear approximation of the logistic sigmoid this package's LSTM uses, so no conversion of its weights computes the same function. Train the Keras / TF.js model with recurrentActivation: 'sigmoid' (Keras 3's default) to convert it`
        : `${where} uses recurrentActivation '${String(rec)}'; this package's LSTM gates use the logistic sigmoid`,
      { argument: `${where}.config.recurrentActivation`, expected: 'sigmoid', actual: rec },
    );
  }
  if (c.activation !== undefined && c.activation !== 'tanh')
    throw new ConfigError(`${where} uses activation '${String(c.activation)}'; this package's LSTM uses tanh`, {
      argument: `${where}.config.activation`,
      expected: 'tanh',
      actual: c.activation,
    });
  if ((c.goBackwards ?? c.go_backwards) === true)
    throw new ConfigError(`${where} runs backwards (goBackwards); this package's LSTM reads forwards`, {
      argument: `${where}.config.goBackwards`,
      expected: false,
      actual: true,
    });
}

function checkDenseConfig(c: KerasLayerConfig | undefined, where: string, allowed: string[]): void {
  if (!c || c.activation === undefined) return;
  if (!allowed.includes(String(c.activation)))
    throw new ConfigError(
      `${where} has activation '${String(c.activation)}'; the matching layer of this package is ${allowed.join(' or ')}`,
      { argument: `${where}.config.activation`, expected: allowed.join(' | '), actual: c.activation },
    );
}

const useBias = (c: KerasLayerConfig | undefined) => (c?.useBias ?? c?.use_bias) !== false;

function transpose(t: Dense, where: string, rows: number, cols: number): Float32Array {
  // t is [rows, cols] (Keras); returns [cols, rows]
  if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== cols)
    throw new ShapeError(`${where} must be [${rows}, ${cols}]`, { argument: where, expected: [rows, cols], actual: t.shape });
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
  return out;
}

function vector(v: unknown, where: string, n: number): Float32Array {
  const t = tensor(v, where);
  if (t.shape.length !== 1 || t.shape[0] !== n)
    throw new ShapeError(`${where} must be [${n}]`, { argument: where, expected: [n], actual: t.shape });
  return t.data;
}

/**
 * The state dict of an LstmVae of `config` from Keras / TF.js layer weights (see KerasLayers and the
 * module comment for the layouts); `fromKerasWeights` builds the model from it. Throws ConfigError for
 * a layer whose math differs (hard sigmoid gates, other activations, backwards LSTMs) and ShapeError
 * for weights of the wrong shape.
 */
export function kerasStateDict(config: LstmVaeConfig, layers: KerasLayers): Record<string, { shape: number[]; data: Float32Array }> {
  const shapes = new Map(parameterShapes(config)); // also validates the config (ConfigError)
  if (layers === null || typeof layers !== 'object')
    throw new ConfigError('layers must map module names to Keras layers', {
      argument: 'layers',
      expected: "{ 'encoder.lstm': ..., 'encoder.fc_mu': ..., ... }",
      actual: describe(layers),
    });
  const tokens = shapes.has('embedding.weight');
  const wanted = [
    'encoder.lstm',
    'encoder.fc_mu',
    'encoder.fc_logvar',
    'decoder.lstm',
    'decoder.fc_out',
    ...(tokens ? ['embedding', 'decoder.fc_init'] : []),
  ];
  for (const k of Object.keys(layers))
    if (!wanted.includes(k))
      throw new ConfigError(`unknown layer "${k}" for this model`, { argument: `layers["${k}"]`, expected: wanted.join(', '), actual: k });
  for (const k of wanted)
    if ((layers as unknown as Record<string, unknown>)[k] === undefined)
      throw new ConfigError(`the layer "${k}" is missing`, { argument: `layers["${k}"]`, expected: 'a Keras layer', actual: undefined });
  const L = config.layers ?? 1;
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  const put = (key: string, data: Float32Array) => (out[key] = { shape: shapes.get(key)!, data });

  for (const stack of ['encoder.lstm', 'decoder.lstm'] as const) {
    const given = layers[stack];
    // a list of layers (one per stacked layer), or one layer (possibly given as its weight list)
    const list = Array.isArray(given) && !isWeightList(given) ? (given as KerasLayer[]) : [given as KerasLayer];
    if (list.length !== L)
      throw new ConfigError(`${stack} needs ${L} LSTM layer(s), one per stacked layer`, {
        argument: `layers["${stack}"]`,
        expected: `${L} layers`,
        actual: list.length,
      });
    for (let k = 0; k < L; k++) {
      const where = L === 1 ? `layers["${stack}"]` : `layers["${stack}"][${k}]`;
      const u = unpack(list[k], where, 'lstm');
      checkLstmConfig(u.config, where);
      const [fourH, I] = shapes.get(`${stack}.weight_ih_l${k}`)!;
      const H = fourH / 4;
      if (u.kernel === undefined || u.recurrent === undefined)
        throw new ConfigError(`${where} needs kernel and recurrent_kernel`, {
          argument: where,
          expected: '{ kernel, recurrentKernel, bias }',
          actual: describe(list[k]),
        });
      put(`${stack}.weight_ih_l${k}`, transpose(tensor(u.kernel, `${where}.kernel`), `${where}.kernel`, I, 4 * H));
      put(`${stack}.weight_hh_l${k}`, transpose(tensor(u.recurrent, `${where}.recurrent_kernel`), `${where}.recurrent_kernel`, H, 4 * H));
      if (u.bias === undefined && useBias(u.config))
        throw new ConfigError(`${where} needs its bias (or config.useBias = false)`, {
          argument: `${where}.bias`,
          expected: `[${4 * H}]`,
          actual: undefined,
        });
      put(`${stack}.bias_ih_l${k}`, u.bias === undefined ? new Float32Array(4 * H) : vector(u.bias, `${where}.bias`, 4 * H));
      put(`${stack}.bias_hh_l${k}`, new Float32Array(4 * H));
    }
  }
  const dense = (name: string, allowed: string[]) => {
    const where = `layers["${name}"]`;
    const u = unpack((layers as unknown as Record<string, unknown>)[name], where, 'dense');
    checkDenseConfig(u.config, where, allowed);
    const [o, i] = shapes.get(`${name}.weight`)!;
    if (u.kernel === undefined)
      throw new ConfigError(`${where} needs a kernel`, {
        argument: where,
        expected: '{ kernel, bias }',
        actual: describe((layers as unknown as Record<string, unknown>)[name]),
      });
    put(`${name}.weight`, transpose(tensor(u.kernel, `${where}.kernel`), `${where}.kernel`, i, o));
    if (u.bias === undefined && useBias(u.config))
      throw new ConfigError(`${where} needs its bias (or config.useBias = false)`, {
        argument: `${where}.bias`,
        expected: `[${o}]`,
        actual: undefined,
      });
    put(`${name}.bias`, u.bias === undefined ? new Float32Array(o) : vector(u.bias, `${where}.bias`, o));
  };
  dense('encoder.fc_mu', ['linear']);
  dense('encoder.fc_logvar', ['linear']);
  dense('decoder.fc_out', ['linear']);
  if (tokens) {
    dense('decoder.fc_init', ['tanh', 'linear']);
    const u = unpack(layers.embedding, 'layers["embedding"]', 'embedding');
    const t = tensor(u.embeddings, 'layers["embedding"].embeddings');
    const [V, E] = shapes.get('embedding.weight')!;
    if (t.shape.length !== 2 || t.shape[0] !== V || t.shape[1] !== E)
      throw new ShapeError(`layers["embedding"].embeddings must be [${V}, ${E}]`, {
        argument: 'layers["embedding"].embeddings',
        expected: [V, E],
        actual: t.shape,
      });
    put('embedding.weight', t.data);
  }
  for (const [k, v] of Object.entries(out)) {
    for (let i = 0; i < v.data.length; i++)
      if (!Number.isFinite(v.data[i]))
        throw new ShapeError(`the Keras weights for ${k} hold a non-finite value`, {
          argument: k,
          expected: 'finite numbers',
          actual: String(v.data[i]),
        });
  }
  return out;
}

/** Whether v is one tensor in an accepted form. */
function isTensor(v: unknown): boolean {
  if (Array.isArray(v))
    return v.length === 0 || typeof v[0] === 'number' || (Array.isArray(v[0]) && (v[0].length === 0 || typeof v[0][0] === 'number'));
  if (v === null || typeof v !== 'object') return false;
  const t = v as { shape?: unknown; data?: unknown; dataSync?: unknown };
  return Array.isArray(t.shape) && (t.data !== undefined || typeof t.dataSync === 'function');
}

/** Whether a is a layer's weight list (tensors), as opposed to a list of layers. */
function isWeightList(a: unknown[]): boolean {
  return a.length > 0 && a.every(isTensor);
}
