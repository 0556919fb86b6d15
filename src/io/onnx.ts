/**
 * ONNX export of a model's inference graph (`model.toOnnx()`): the deterministic reconstruction through
 * the posterior mean, the same computation as `model.reconstruct(x)`, with ONNX's standard operators
 * (opset 17): encoder LSTM stack → last hidden state → `mu` (and `logvar`) → decoder LSTM stack → output
 * layer. Weights are converted from PyTorch's layout (gates i, f, g, o) to ONNX's (gates i, o, f, c).
 *
 * - continuous, 'repeat' decoder: input `x` `[batch, time, D]`; the decoder reads `mu` at every step.
 * - continuous, 'autoregressive' decoder: teacher forced, as `reconstruct`: step t reads `concat(x[t−1], mu)`, `x[−1] = 0`.
 * - tokens: inputs `ids` `[batch, time]` and `lengths` `[batch]` (int64); embedding by Gather; the encoder
 *   stops at each sequence's length (LSTM `sequence_lens`); the decoder starts from `tanh(fc_init(mu))`
 *   and reads `concat(embed(previous id), mu)` (BOS first), teacher forced; outputs `logits` and their softmax.
 */

import { version } from '../../package.json';
import { FormatError } from '../core/errors.js';
import type { Resolved } from '../model/config.js';
import { DataType, encodeModel, type Node, type Tensor, type ValueInfo } from './onnx-proto.js';

/** The ONNX operator set the exported graph is written against. */
export const ONNX_OPSET = 17;
/** The ONNX IR version that goes with opset 17. */
export const ONNX_IR_VERSION = 8;

type Weights = Record<string, { shape: number[]; data: Float32Array }>;

/** What the export reads from a model (an LstmVae; an interface so that this module does not import the model's). */
export interface OnnxSource {
  readonly config: Resolved;
  metadata: Record<string, unknown>;
  tokenizer?: { toJSON(): unknown };
  stateDict(): Weights;
  toConfigJSON(): object;
}

/** PyTorch gate blocks i, f, g, o → ONNX's i, o, f, c (g = c): rows of `[4H, n]` (or entries of `[4H]` with n = 1). */
function reorderGates(src: Float32Array, H: number, n: number, out: Float32Array, at: number): void {
  const order = [0, 3, 1, 2]; // ONNX block k takes PyTorch block order[k]
  for (let k = 0; k < 4; k++) out.set(src.subarray(order[k] * H * n, (order[k] + 1) * H * n), at + k * H * n);
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** Builds the node list and initializers; names are unique by construction. */
class Builder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  private count = 0;

  constructor(private readonly w: Weights) {}

  weight(key: string): Float32Array {
    return this.w[key].data;
  }

  init(name: string, dims: number[], data: Float32Array | number[], type: Tensor['type'] = DataType.FLOAT): string {
    this.initializers.push({ name, dims, type, data });
    return name;
  }

  /** Adds a node; returns its output names (fresh ones unless given). */
  op(op: string, inputs: string[], attributes?: Node['attributes'], outputs?: string[] | number): string[] {
    const outs = Array.isArray(outputs)
      ? outputs
      : Array.from({ length: outputs ?? 1 }, (_, i) => `${op.toLowerCase()}_${this.count}${i ? `_${i}` : ''}`);
    while (outs.length > 1 && outs[outs.length - 1] === '') outs.pop(); // trailing optional outputs left out
    this.nodes.push({ op, inputs, outputs: outs, name: `${op}_${this.count++}`, attributes });
    return outs;
  }

  one(op: string, inputs: string[], attributes?: Node['attributes'], output?: string): string {
    return this.op(op, inputs, attributes, output === undefined ? 1 : [output])[0];
  }

  private readonly constants = new Map<string, string>();
  /** An int64 vector constant (one initializer per name). */
  ints(name: string, v: number[]): string {
    const have = this.constants.get(name);
    if (have !== undefined) {
      if (have !== v.join()) throw new Error(`internal: constant ${name} redefined`);
      return name;
    }
    this.constants.set(name, v.join());
    return this.init(name, [v.length], v, DataType.INT64);
  }

  /**
   * The LSTM stack under `prefix` (PyTorch keys) over `x` `[T, B, I]`: returns the top layer's
   * `Y` squeezed to `[T, B, H]` (if `wantSeq`) and its `Y_h` `[1, B, H]`.
   */
  lstmStack(
    prefix: string,
    tag: string,
    x: string,
    I: number,
    H: number,
    L: number,
    wantSeq: boolean,
    seqLens = '',
    init?: { h: string[]; c: string[] },
  ): { seq?: string; last: string } {
    let inp = x;
    let last = '';
    for (let l = 0; l < L; l++) {
      const In = l === 0 ? I : H;
      const W = new Float32Array(4 * H * In);
      reorderGates(this.weight(`${prefix}weight_ih_l${l}`), H, In, W, 0);
      const R = new Float32Array(4 * H * H);
      reorderGates(this.weight(`${prefix}weight_hh_l${l}`), H, H, R, 0);
      const Bias = new Float32Array(8 * H);
      reorderGates(this.weight(`${prefix}bias_ih_l${l}`), H, 1, Bias, 0);
      reorderGates(this.weight(`${prefix}bias_hh_l${l}`), H, 1, Bias, 4 * H);
      const w = this.init(`${tag}.W_l${l}`, [1, 4 * H, In], W);
      const r = this.init(`${tag}.R_l${l}`, [1, 4 * H, H], R);
      const b = this.init(`${tag}.B_l${l}`, [1, 8 * H], Bias);
      const top = l === L - 1;
      const inputs = init ? [inp, w, r, b, seqLens, init.h[l], init.c[l]] : seqLens ? [inp, w, r, b, seqLens] : [inp, w, r, b];
      const needSeq = !top || wantSeq;
      const [y, yh] = this.op('LSTM', inputs, { hidden_size: H, direction: 'forward' }, [
        needSeq ? `${tag}.y_l${l}` : '',
        top ? `${tag}.h_last` : '',
      ]);
      last = yh;
      if (needSeq) inp = this.one('Squeeze', [y, this.ints('axis1', [1])], undefined, `${tag}.h_seq_l${l}`);
    }
    return { seq: wantSeq ? inp : undefined, last };
  }
}

/** The ONNX ModelProto bytes of `model`'s inference graph (see the module comment). */
export function modelToOnnx(model: OnnxSource): Uint8Array {
  const w = model.stateDict();
  const floats = Object.values(w).reduce((n, t) => n + t.data.length, 0);
  if (4 * floats + (1 << 20) > 2 ** 31 - 1)
    throw new FormatError('the model is too large for one ONNX file (protobuf messages are limited to 2 GiB)', {
      argument: 'model',
      expected: '< 2 GiB of weights',
      actual: `${((4 * floats) / 2 ** 30).toFixed(2)} GiB`,
    });
  const c = model.config;
  const { hidden: H, latent: Z, layers: L } = c;
  const g = new Builder(w);
  const tokens = c.mode === 'tokens';
  const inputs: ValueInfo[] = [];
  const outputs: ValueInfo[] = [];

  // encoder input, time-major [T, B, I]
  let encIn: string;
  let I: number;
  let seqLens = '';
  let timeSource: string;
  if (!tokens) {
    I = c.features;
    inputs.push({ name: 'x', type: DataType.FLOAT, shape: ['batch', 'time', I], doc: 'sequences [batch, time, features]' });
    encIn = g.one('Transpose', ['x'], { perm: [1, 0, 2] }, 'x_tbd');
    timeSource = 'x';
  } else {
    I = c.embedding;
    inputs.push(
      { name: 'ids', type: DataType.INT64, shape: ['batch', 'time'], doc: 'token ids [batch, time] (0 = padding), without BOS' },
      { name: 'lengths', type: DataType.INT64, shape: ['batch'], doc: 'tokens of each sequence, through its EOS (1..time)' },
    );
    g.init('embedding.weight', w['embedding.weight'].shape, g.weight('embedding.weight'));
    const idsT = g.one('Transpose', ['ids'], { perm: [1, 0] }, 'ids_tb');
    encIn = g.one('Gather', ['embedding.weight', idsT], { axis: 0 }, 'enc.embedded');
    seqLens = g.one('Cast', ['lengths'], { to: DataType.INT32 }, 'lengths_i32');
    timeSource = 'ids';
  }

  // encoder → last hidden state → heads
  const enc = g.lstmStack('encoder.lstm.', 'enc', encIn, I, H, L, false, seqLens);
  const hT = g.one('Squeeze', [enc.last, g.ints('axis0', [0])], undefined, 'enc.h_T');
  const head = (name: string, key: string) =>
    g.one(
      'Gemm',
      [hT, g.init(`${key}.weight`, [Z, H], g.weight(`${key}.weight`)), g.init(`${key}.bias`, [Z], g.weight(`${key}.bias`))],
      { transB: 1 },
      name,
    );
  const mu = head('mu', 'encoder.fc_mu');
  head('logvar', 'encoder.fc_logvar'); // the graph output 'logvar'

  // z = mu repeated over time: [T, B, Z]
  const T = g.one('Shape', [timeSource], { start: 1, end: 2 }, 'time');
  const repShape = g.one('Concat', [T, g.ints('ones2', [1, 1])], { axis: 0 }, 'time_1_1');
  const zSeq = g.one('Expand', [g.one('Unsqueeze', [mu, g.ints('axis0', [0])], undefined, 'mu_1bz'), repShape], undefined, 'z_seq');

  // the previous step's input (zero frame / BOS first): pad one step at the front of time and drop the last
  const shifted = (x: string, rank: number, fill: string | undefined, name: string) => {
    const pads = new Array(2 * rank).fill(0);
    pads[0] = 1;
    const padded = g.one(
      'Pad',
      fill ? [x, g.ints(`${name}.pads`, pads), fill] : [x, g.ints(`${name}.pads`, pads)],
      undefined,
      `${name}.padded`,
    );
    return g.one('Slice', [padded, g.ints('start0', [0]), g.ints('end-1', [-1]), g.ints('axis0', [0])], undefined, name);
  };

  let decIn: string;
  let DI: number;
  let init: { h: string[]; c: string[] } | undefined;
  if (!tokens && c.decoder === 'repeat') {
    decIn = zSeq;
    DI = Z;
  } else if (!tokens) {
    DI = c.features + Z;
    decIn = g.one('Concat', [shifted(encIn, 3, undefined, 'x_prev'), zSeq], { axis: 2 }, 'dec.input');
  } else {
    DI = c.embedding + Z;
    const bos = g.init('bos', [], [1], DataType.INT64);
    const prevIds = shifted('ids_tb', 2, bos, 'ids_prev');
    const emb = g.one('Gather', ['embedding.weight', prevIds], { axis: 0 }, 'dec.embedded');
    decIn = g.one('Concat', [emb, zSeq], { axis: 2 }, 'dec.input');
    // initial states: s = tanh(fc_init(mu)) [B, 2LH]; h0 of layer l = s[:, lH:(l+1)H], c0 = s[:, (L+l)H:(L+l+1)H]
    const pre = g.one(
      'Gemm',
      [
        mu,
        g.init('decoder.fc_init.weight', [2 * L * H, Z], g.weight('decoder.fc_init.weight')),
        g.init('decoder.fc_init.bias', [2 * L * H], g.weight('decoder.fc_init.bias')),
      ],
      { transB: 1 },
      'dec.init_pre',
    );
    const s = g.one('Tanh', [pre], undefined, 'dec.init');
    const part = (k: number, name: string) =>
      g.one(
        'Unsqueeze',
        [
          g.one('Slice', [s, g.ints(`${name}.start`, [k * H]), g.ints(`${name}.end`, [(k + 1) * H]), g.ints('axis1', [1])]),
          g.ints('axis0', [0]),
        ],
        undefined,
        name,
      );
    init = { h: [], c: [] };
    for (let l = 0; l < L; l++) {
      init.h.push(part(l, `dec.h0_l${l}`));
      init.c.push(part(L + l, `dec.c0_l${l}`));
    }
  }

  // decoder → output layer, batch-major [B, T, O]
  const dec = g.lstmStack('decoder.lstm.', 'dec', decIn, DI, H, L, true, '', init);
  const O = tokens ? c.vocabSize : c.features;
  const hBT = g.one('Transpose', [dec.seq!], { perm: [1, 0, 2] }, 'dec.h_bth');
  const wOut = g.init('decoder.fc_out.weight_t', [H, O], transpose(g.weight('decoder.fc_out.weight'), O, H));
  const y = g.one('MatMul', [hBT, wOut], undefined, 'dec.out_nobias');
  const outName = tokens ? 'logits' : 'reconstruction';
  g.one('Add', [y, g.init('decoder.fc_out.bias', [O], g.weight('decoder.fc_out.bias'))], undefined, outName);
  outputs.push({
    name: outName,
    type: DataType.FLOAT,
    shape: ['batch', 'time', O],
    doc: tokens ? 'teacher-forced next-token logits' : 'reconstruction through the posterior mean',
  });
  if (tokens) {
    g.one('Softmax', ['logits'], { axis: -1 }, 'probabilities');
    outputs.push({ name: 'probabilities', type: DataType.FLOAT, shape: ['batch', 'time', O], doc: 'softmax of the logits' });
  }
  outputs.push(
    { name: 'mu', type: DataType.FLOAT, shape: ['batch', Z], doc: 'posterior mean' },
    { name: 'logvar', type: DataType.FLOAT, shape: ['batch', Z], doc: 'posterior log-variance' },
  );

  const metadata: Record<string, string> = { 'lstm-vae.config': JSON.stringify(model.toConfigJSON()) };
  if (Object.keys(model.metadata).length) metadata['lstm-vae.metadata'] = JSON.stringify(model.metadata);
  if (model.tokenizer) metadata['lstm-vae.tokenizer'] = JSON.stringify(model.tokenizer.toJSON());
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    producerName: 'lstm-vae',
    producerVersion: version,
    doc: 'LSTM-VAE inference graph: reconstruction through the posterior mean (z = mu)',
    graph: { name: 'lstm_vae', nodes: g.nodes, initializers: g.initializers, inputs, outputs },
    metadata,
  });
}
