// fromKerasWeights: Keras / TF.js layouts (kernel [I,4H], recurrent_kernel [H,4H], bias [4H]; Dense
// kernel [in,out]) → this package's PyTorch layout, checked two ways: a PyTorch-layout model converted
// to the Keras layout and back computes the same thing, and real TF.js layers (sigmoid gates) give the
// same encoder / decoder outputs as the converted model.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { init, LstmVae, fromKerasWeights, ConfigError, ShapeError, type LstmVaeConfig } from '../dist/index.node.js';
import { allclose, sameBits } from './shared/numeric.js';

beforeAll(async () => {
  await init();
  await tf.setBackend('cpu');
});

type SD = Record<string, { shape: number[]; data: Float32Array }>;

/** [rows, cols] row-major → its transpose as nested arrays [cols][rows]. */
function transposed(t: { shape: number[]; data: Float32Array }): number[][] {
  const [r, c] = t.shape;
  return Array.from({ length: c }, (_, j) => Array.from({ length: r }, (_, i) => t.data[i * c + j]));
}

/** A state dict in Keras layout, as the KerasLayers object. */
function toKeras(sd: SD, L: number, tokens: boolean) {
  const lstm = (p: string, k: number) => ({
    kernel: transposed(sd[`${p}.weight_ih_l${k}`]),
    recurrentKernel: {
      shape: [sd[`${p}.weight_hh_l${k}`].shape[1], sd[`${p}.weight_hh_l${k}`].shape[0]],
      data: Float32Array.from(transposed(sd[`${p}.weight_hh_l${k}`]).flat()),
    },
    bias: Array.from(sd[`${p}.bias_ih_l${k}`].data, (v, i) => Math.fround(v + sd[`${p}.bias_hh_l${k}`].data[i])),
    config: { recurrentActivation: 'sigmoid', activation: 'tanh' },
  });
  const dense = (p: string) => [transposed(sd[`${p}.weight`]), Array.from(sd[`${p}.bias`].data)]; // get_weights() list form
  const stack = (p: string) => (L === 1 ? lstm(p, 0) : Array.from({ length: L }, (_, k) => lstm(p, k)));
  return {
    'encoder.lstm': stack('encoder.lstm'),
    'encoder.fc_mu': dense('encoder.fc_mu'),
    'encoder.fc_logvar': {
      kernel: transposed(sd['encoder.fc_logvar.weight']),
      bias: { shape: sd['encoder.fc_logvar.bias'].shape, data: sd['encoder.fc_logvar.bias'].data },
      config: { activation: 'linear' },
    },
    'decoder.lstm': stack('decoder.lstm'),
    'decoder.fc_out': dense('decoder.fc_out'),
    ...(tokens
      ? {
          embedding: { embeddings: sd['embedding.weight'] },
          'decoder.fc_init': {
            kernel: transposed(sd['decoder.fc_init.weight']),
            bias: sd['decoder.fc_init.bias'].data && Array.from(sd['decoder.fc_init.bias'].data),
            config: { activation: 'tanh' },
          },
        }
      : {}),
  };
}

/** Tolerances for two computations of the same float32 model. */
const SAME = { rtol: 1e-5, atol: 1e-6 };

function wave(B: number, T: number, D: number) {
  return { data: Float32Array.from({ length: B * T * D }, (_, i) => Math.sin(0.37 * i) + 0.3 * Math.cos(1.3 * i)), shape: [B, T, D] };
}

describe('a PyTorch-layout model converted to the Keras layout and back', () => {
  for (const config of [
    { features: 3, hidden: 5, latent: 2, layers: 1, seed: 1 },
    { features: 2, hidden: 4, latent: 3, layers: 2, decoder: 'autoregressive', seed: 2 },
  ] as LstmVaeConfig[]) {
    it(`computes the same (continuous, ${config.layers} layer(s), ${config.decoder ?? 'repeat'})`, () => {
      const a = new LstmVae(config);
      const sd = a.stateDict();
      const b = fromKerasWeights(config, toKeras(sd, config.layers!, false) as never);
      const bs = b.stateDict();
      for (const k of Object.keys(sd)) {
        if (k.includes('bias_hh'))
          expect(
            Array.from(bs[k].data).every((v) => v === 0),
            k,
          ).toBe(true);
        else if (k.includes('bias_ih'))
          expect(Array.from(bs[k].data), k).toEqual(
            Array.from(sd[k].data, (v, i) => Math.fround(v + sd[k.replace('bias_ih', 'bias_hh')].data[i])),
          );
        else expect(sameBits(bs[k].data, sd[k].data), k).toBe(true);
      }
      const x = wave(3, 6, config.features!);
      const eps = Float32Array.from({ length: 3 * config.latent }, (_, i) => Math.sin(i + 0.5));
      const ra = a.evaluate(x, { eps }),
        rb = b.evaluate(x, { eps });
      allclose('loss, recon, kl', [rb.loss, rb.recon, rb.kl], [ra.loss, ra.recon, ra.kl], SAME);
      allclose('mu', b.encode(x).mu, a.encode(x).mu, SAME);
      const z = {
        data: Float32Array.from({ length: 2 * config.latent }, (_, i) => 0.3 * i - 0.4),
        shape: [2, config.latent] as [number, number],
      };
      allclose('decode', b.decode(z, 5), a.decode(z, 5), SAME);
      a.dispose();
      b.dispose();
    });
  }

  it('computes the same (token model: embedding, fc_init with tanh, 2 layers)', () => {
    const config: LstmVaeConfig = { mode: 'tokens', vocabSize: 9, embedding: 3, hidden: 4, latent: 2, layers: 2, seed: 3 };
    const a = new LstmVae(config);
    const b = fromKerasWeights(config, toKeras(a.stateDict(), 2, true) as never);
    const x = { data: Int32Array.from([4, 5, 6, 2, 7, 8, 2, 0]), shape: [2, 4], lengths: [4, 3] };
    const eps = new Float32Array([0.1, -0.2, 0.3, 0.4]);
    const ra = a.evaluate(x, { eps }),
      rb = b.evaluate(x, { eps });
    allclose('loss, recon, kl', [rb.loss, rb.recon, rb.kl], [ra.loss, ra.recon, ra.kl], SAME);
    a.dispose();
    b.dispose();
  });
});

describe('real TF.js layers', () => {
  it('a TF.js encoder (2 stacked LSTMs + Dense) and decoder (RepeatVector, LSTM, Dense) give the same outputs', () => {
    const [T, D, H, Z] = [7, 3, 5, 2];
    const uniform = (r: number, seed: number) => tf.initializers.randomUniform({ minval: -r, maxval: r, seed });
    const lstmOpts = {
      units: H,
      recurrentActivation: 'sigmoid',
      kernelInitializer: uniform(0.5, 1),
      recurrentInitializer: uniform(0.5, 2),
      biasInitializer: uniform(0.3, 3),
    } as const;
    const enc1 = tf.layers.lstm({ ...lstmOpts, returnSequences: true });
    const enc2 = tf.layers.lstm({ ...lstmOpts, kernelInitializer: uniform(0.5, 4) });
    const mu = tf.layers.dense({ units: Z, biasInitializer: uniform(0.3, 5) });
    const lv = tf.layers.dense({ units: Z });
    const xIn = tf.input({ shape: [T, D] });
    const h = enc2.apply(enc1.apply(xIn)) as tf.SymbolicTensor;
    const encoder = tf.model({ inputs: xIn, outputs: [mu.apply(h) as tf.SymbolicTensor, lv.apply(h) as tf.SymbolicTensor] });
    const dec1 = tf.layers.lstm({ ...lstmOpts, returnSequences: true, kernelInitializer: uniform(0.5, 6) });
    const dec2 = tf.layers.lstm({ ...lstmOpts, returnSequences: true, recurrentInitializer: uniform(0.5, 7) });
    const out = tf.layers.dense({ units: D, biasInitializer: uniform(0.3, 8) });
    const zIn = tf.input({ shape: [Z] });
    const decoder = tf.model({
      inputs: zIn,
      outputs: out.apply(dec2.apply(dec1.apply(tf.layers.repeatVector({ n: T }).apply(zIn)))) as tf.SymbolicTensor,
    });

    const model = fromKerasWeights({ features: D, hidden: H, latent: Z, layers: 2 }, {
      'encoder.lstm': [enc1, enc2],
      'encoder.fc_mu': mu,
      'encoder.fc_logvar': lv,
      'decoder.lstm': [dec1.getWeights(), dec2.getWeights()],
      'decoder.fc_out': out,
    } as never);
    const x = wave(4, T, D);
    const [tmu, tlv] = encoder.predict(tf.tensor3d(x.data, [4, T, D])) as tf.Tensor[];
    const ours = model.encode(x);
    allclose('mu vs TF.js', ours.mu, tmu.dataSync(), SAME);
    allclose('logvar vs TF.js', ours.logvar, tlv.dataSync(), SAME);
    const z = Float32Array.from({ length: 3 * Z }, (_, i) => Math.cos(i) * 1.5);
    const ty = (decoder.predict(tf.tensor2d(z, [3, Z])) as tf.Tensor).dataSync();
    allclose('decode vs TF.js', model.decode({ data: z, shape: [3, Z] }, T), ty, SAME);
    model.dispose();
  });

  it("rejects TF.js's default LSTM (recurrentActivation 'hardSigmoid') and Keras' 'hard_sigmoid' with a ConfigError that explains why", () => {
    const def = tf.layers.lstm({ units: 4 });
    def.apply(tf.input({ shape: [5, 2] }));
    expect(def.getConfig().recurrentActivation).toBe('hardSigmoid');
    const config = { features: 2, hidden: 4, latent: 2 };
    const good = new LstmVae(config);
    const k = toKeras(good.stateDict(), 1, false);
    let err: unknown;
    try {
      fromKerasWeights(config, { ...k, 'encoder.lstm': def } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/hardSigmoid.*TF\.js's default.*logistic sigmoid/);
    expect((err as Error).message).toMatch(/recurrentActivation: 'sigmoid'/);
    const snake = { ...(k['decoder.lstm'] as object), config: { recurrent_activation: 'hard_sigmoid' } };
    expect(() => fromKerasWeights(config, { ...k, 'decoder.lstm': snake } as never)).toThrowError(/'hard_sigmoid'/);
    expect(() =>
      fromKerasWeights(config, { ...k, 'decoder.lstm': { ...(k['decoder.lstm'] as object), config: { activation: 'relu' } } } as never),
    ).toThrowError(/activation 'relu'/);
    expect(() =>
      fromKerasWeights(config, {
        ...k,
        'encoder.fc_mu': { kernel: transposed(good.stateDict()['encoder.fc_mu.weight']), bias: [0, 0], config: { activation: 'relu' } },
      } as never),
    ).toThrowError(ConfigError);
    good.dispose();
  });
});

describe('errors', () => {
  it('name the layer and the expected shape', () => {
    const config = { features: 2, hidden: 4, latent: 2, layers: 2 };
    const m = new LstmVae(config);
    const k = toKeras(m.stateDict(), 2, false) as Record<string, unknown>;
    const enc = k['encoder.lstm'] as Record<string, unknown>[];
    expect(() =>
      fromKerasWeights(config, {
        ...k,
        'encoder.lstm': [
          enc[0],
          {
            ...enc[1],
            kernel: [
              [1, 2],
              [3, 4],
            ],
          },
        ],
      } as never),
    ).toThrowError(/layers\["encoder\.lstm"\]\[1\]\.kernel must be \[4, 16\]/);
    expect(() => fromKerasWeights(config, { ...k, 'encoder.lstm': [enc[0], { ...enc[1], bias: [1, 2] }] } as never)).toThrowError(
      ShapeError,
    );
    expect(() => fromKerasWeights(config, { ...k, 'encoder.lstm': enc[0] } as never)).toThrowError(/needs 2 LSTM layer\(s\)/);
    const { 'encoder.fc_mu': _omit, ...missing } = k;
    expect(() => fromKerasWeights(config, missing as never)).toThrowError(/"encoder\.fc_mu" is missing/);
    expect(() => fromKerasWeights(config, { ...k, 'encoder.fc_sigma': [] } as never)).toThrowError(/unknown layer "encoder\.fc_sigma"/);
    expect(() => fromKerasWeights(config, { ...k, 'decoder.fc_out': [[[1]]] } as never)).toThrowError(/kernel must be \[4, 2\]/);
    expect(() => fromKerasWeights(config, { ...k, 'decoder.fc_out': [[1], [2], [3], [4]] } as never)).toThrowError(
      /has 4 weights; a Keras Dense layer has 2/,
    );
    expect(() => fromKerasWeights({ ...config, hidden: 0 }, k as never)).toThrowError(ConfigError);
    m.dispose();
  });
});
