// LstmVae.fromKeras and `lstm-vae import`: whole Keras files (.keras zip, legacy .h5) written by Keras 3
// (scripts/gen-keras-fixtures), their layers found from the graph. The deterministic reconstruction
// (decoder on z_mean), z_mean and z_log_var must equal what Keras computed (rtol 1e-5); files that
// cannot be mapped give typed errors that name the Keras layer. More graphs are made in the test by
// editing the config.json of a fixture (weights unchanged).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, FormatError, init, LstmVae, LstmVaeError } from '../dist/index.node.js';
import { removeTmpDirs, tmpDir } from './shared/node.js';
import { allclose, mulberry32, sameBits } from './shared/numeric.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', 'fixtures', 'keras');
const bytesOf = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)));

interface T {
  shape: number[];
  data: number[];
}
interface Reference {
  x: T;
  z_mean: T;
  z_log_var: T;
  reconstruction: T;
}
const referenceOf = (name: string): Reference => JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8'));

/** Keras and this package compute in float32, in different orders. */
const TOL = { rtol: 1e-5, atol: 1e-6 };

beforeAll(async () => {
  await init();
});
afterAll(() => removeTmpDirs());

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error thrown');
}

describe('Keras files give the same numbers as Keras', () => {
  const cases: [file: string, reference: string, layers: number][] = [
    ['tutorial.keras', 'tutorial', 1],
    ['tutorial.h5', 'tutorial', 1],
    ['tutorial-gzip.h5', 'tutorial', 1],
    ['stacked.keras', 'stacked', 2],
    ['sequential.keras', 'sequential', 1],
    ['sequential.h5', 'sequential', 1],
  ];
  for (const [file, ref, L] of cases)
    it(`${file}: z_mean, z_log_var and the reconstruction through z_mean`, () => {
      const r = referenceOf(ref);
      const m = LstmVae.fromKeras(bytesOf(file));
      expect(m.config).toMatchObject({ mode: 'continuous', features: 2, hidden: 8, latent: 3, layers: L, decoder: 'repeat' });
      const x = { data: Float32Array.from(r.x.data), shape: r.x.shape as [number, number, number] };
      const { mu, logvar } = m.encode(x);
      allclose(`${file} z_mean`, mu, r.z_mean.data, TOL);
      allclose(`${file} z_log_var`, logvar, r.z_log_var.data, TOL);
      allclose(`${file} reconstruction`, m.reconstruct(x), r.reconstruction.data, TOL);
      m.dispose();
    });

  it('a model saved as .keras and as .h5 gives the same weights', () => {
    for (const name of ['tutorial', 'sequential']) {
      const a = LstmVae.fromKeras(bytesOf(`${name}.keras`));
      const b = LstmVae.fromKeras(bytesOf(`${name}.h5`));
      const sa = a.stateDict(),
        sb = b.stateDict();
      expect(Object.keys(sb)).toEqual(Object.keys(sa));
      for (const k of Object.keys(sa)) expect(sameBits(sb[k].data, sa[k].data), `${name} ${k}`).toBe(true);
      a.dispose();
      b.dispose();
    }
  });

  it('a Uint8Array view into a larger buffer reads the same', () => {
    const b = bytesOf('tutorial.h5');
    const big = new Uint8Array(b.length + 16);
    big.set(b, 7);
    const a = LstmVae.fromKeras(b);
    const v = LstmVae.fromKeras(big.subarray(7, 7 + b.length));
    expect(sameBits(v.stateDict()['decoder.fc_out.weight'].data, a.stateDict()['decoder.fc_out.weight'].data)).toBe(true);
    a.dispose();
    v.dispose();
  });
});

describe('layers that cannot be mapped give a ConfigError naming the Keras layer', () => {
  it("hard_sigmoid: recurrent_activation 'hard_sigmoid'", () => {
    const e = errorOf(() => LstmVae.fromKeras(bytesOf('hard_sigmoid.keras')));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^the Keras layer 'decoder\/lstm(_\d+)?' \(LSTM\) uses recurrent_activation 'hard_sigmoid'/);
    expect(e.message).toMatch(/piecewise-linear approximation of the logistic sigmoid/);
  });
  it('a GRU encoder', () => {
    const e = errorOf(() => LstmVae.fromKeras(bytesOf('gru.h5')));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^the Keras layer 'encoder\/gru_encoder' \(GRU\) stands where the encoder's LSTM should be/);
    expect(e.message).toMatch(/reset and update gates/);
  });
  it('a Bidirectional encoder', () => {
    const e = errorOf(() => LstmVae.fromKeras(bytesOf('bidirectional.keras')));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^the Keras layer 'encoder\/bi_encoder' \(Bidirectional\)/);
    expect(e.message).toMatch(/both directions/);
  });
});

// ---------------------------------------------------------------------------------------------
// graphs made by editing a fixture's config.json

// biome-ignore lint/suspicious/noExplicitAny: a Keras config, edited freely
type Json = Record<string, any>;

/** tutorial.keras (or another .keras fixture) with its config edited by `edit`. */
function edited(file: string, edit: (config: Json) => void, members?: (files: Record<string, Uint8Array>) => void): Uint8Array {
  const files = unzipSync(bytesOf(file));
  const config = JSON.parse(strFromU8(files['config.json']));
  edit(config);
  files['config.json'] = strToU8(JSON.stringify(config));
  members?.(files);
  return zipSync(files);
}
const sub = (c: Json, model: string): Json => c.config.layers.find((l: Json) => l.config.name === model);
const layer = (m: Json, cls: string): Json => m.config.layers.find((l: Json) => l.class_name === cls);

describe('graphs edited from the fixtures', () => {
  it('an unedited round trip through fflate still reads (deflated zip members)', () => {
    const m = LstmVae.fromKeras(edited('tutorial.keras', () => {}));
    const r = referenceOf('tutorial');
    const x = { data: Float32Array.from(r.x.data), shape: r.x.shape as [number, number, number] };
    allclose('reconstruction', m.reconstruct(x), r.reconstruction.data, TOL);
    m.dispose();
  });

  it('the Keras 2 (tf.keras) config format: inbound nodes as [layer, node, tensor, kwargs], nested models numbered from 1', () => {
    const toKeras2 = (m: Json) => {
      const cfg = m.config;
      const nested = new Set((cfg.layers as Json[]).filter((l) => Array.isArray(l.config?.layers)).map((l) => l.config.name));
      for (const l of cfg.layers as Json[]) {
        delete l.module;
        delete l.registered_name;
        l.inbound_nodes = (l.inbound_nodes ?? []).map((node: Json) => {
          const refs: unknown[][] = [];
          const walk = (v: unknown) => {
            if (Array.isArray(v)) v.forEach(walk);
            else if (v && typeof v === 'object') {
              const o = v as Json;
              if (o.class_name === '__keras_tensor__') {
                const [n, i, t] = o.config.keras_history;
                refs.push([n, nested.has(n) ? i + 1 : i, t, {}]);
              } else Object.values(o).forEach(walk);
            }
          };
          walk(node.args);
          return refs;
        });
        if (Array.isArray(l.config?.layers)) toKeras2(l);
        // Keras 2.0-2.2: a Sequential's config is the bare list of its layers
        if (l.class_name === 'Sequential') l.config = l.config.layers;
      }
      for (const k of ['input_layers', 'output_layers']) if (typeof cfg[k]?.[0] === 'string') cfg[k] = [cfg[k]];
    };
    for (const name of ['tutorial', 'sequential']) {
      const b = edited(`${name}.keras`, toKeras2);
      const text = strFromU8(unzipSync(b)['config.json']);
      expect(text).toContain(name === 'tutorial' ? '"inbound_nodes":[[["encoder",1,2,{}]]]' : '"inbound_nodes":[[["sample",0,0,{}]]]');
      const m = LstmVae.fromKeras(b);
      const r = referenceOf(name);
      const x = { data: Float32Array.from(r.x.data), shape: r.x.shape as [number, number, number] };
      allclose(`${name} reconstruction`, m.reconstruct(x), r.reconstruction.data, TOL);
      m.dispose();
    }
  });

  it('layers listed out of order in the config', () => {
    const b = edited('stacked.keras', (c) => {
      c.config.layers.reverse();
    });
    const m = LstmVae.fromKeras(b);
    const r = referenceOf('stacked');
    const x = { data: Float32Array.from(r.x.data), shape: r.x.shape as [number, number, number] };
    allclose('reconstruction', m.reconstruct(x), r.reconstruction.data, TOL);
    m.dispose();
  });

  it('the output Dense with a relu activation', () => {
    const b = edited('tutorial.keras', (c) => {
      layer(sub(c, 'decoder'), 'TimeDistributed').config.layer.config.activation = 'relu';
    });
    const e = errorOf(() => LstmVae.fromKeras(b));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^the Keras layer 'decoder\/time_distributed' \(TimeDistributed\) has activation 'relu'/);
  });

  it('a decoder LSTM that returns its last step only', () => {
    const b = edited('tutorial.keras', (c) => {
      layer(sub(c, 'decoder'), 'LSTM').config.return_sequences = false;
    });
    expect(() => LstmVae.fromKeras(b)).toThrowError(/'decoder\/lstm(_\d+)?' \(LSTM\) returns only its last step/);
  });

  it('an encoder LSTM whose size differs from the decoder', () => {
    const b = edited('tutorial.keras', (c) => {
      layer(sub(c, 'encoder'), 'LSTM').config.units = 16;
    });
    const e = errorOf(() => LstmVae.fromKeras(b));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/'decoder\/lstm(_\d+)?' \(LSTM\) has 8 units but 'encoder\/lstm(_\d+)?' has 16/);
  });

  it('a stack of 2 encoder LSTMs and 1 decoder LSTM', () => {
    // stacked.keras with the decoder's first LSTM cut out: dec_b reads the RepeatVector
    const b = edited('stacked.keras', (c) => {
      const ls = c.config.layers as Json[];
      const decB = ls.find((l) => l.config.name === 'dec_b')!;
      decB.inbound_nodes[0].args[0].config.keras_history = ['rep', 0, 0];
      c.config.layers = ls.filter((l) => l.config.name !== 'dec_a');
    });
    const e = errorOf(() => LstmVae.fromKeras(b));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(
      /'dec_b' \(LSTM\) is one of 1 stacked decoder LSTM\(s\) \('dec_b'\) but the encoder stacks 2 \('enc_a', 'enc_b'\)/,
    );
  });

  it('an LSTM given an initial state', () => {
    const b = edited('stacked.keras', (c) => {
      const decA = (c.config.layers as Json[]).find((l) => l.config.name === 'dec_a')!;
      const t = (name: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 8], keras_history: [name, 0, 0] } });
      decA.inbound_nodes[0].kwargs = { initial_state: [t('enc_b'), t('enc_b')] };
    });
    expect(() => LstmVae.fromKeras(b)).toThrowError(/'dec_a' \(LSTM\) takes initial_state from another layer/);
  });

  it('z_mean read by the decoder but two candidate z_log_var heads', () => {
    const b = edited('stacked.keras', (c) => {
      const ls = c.config.layers as Json[];
      const extra = JSON.parse(JSON.stringify(ls.find((l) => l.config.name === 'head_1')));
      extra.config.name = extra.name = 'head_3';
      ls.splice(ls.length - 1, 0, extra);
    });
    expect(() => LstmVae.fromKeras(b)).toThrowError(
      /'head_2' \(Dense\) feeds the decoder, and 2 other Dense layers \('head_1', 'head_3'\)/,
    );
  });

  it("an LSTM autoencoder (RepeatVector of the encoder's last step, no z_mean / z_log_var)", () => {
    const b = edited('stacked.keras', (c) => {
      const ls = c.config.layers as Json[];
      ls.find((l) => l.config.name === 'rep')!.inbound_nodes[0].args[0].config.keras_history = ['enc_b', 0, 0];
      c.config.layers = ls.filter((l) => !l.config.name.startsWith('head_'));
      c.config.output_layers = [['out', 0, 0]];
    });
    const e = errorOf(() => LstmVae.fromKeras(b));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(
      /^the Keras layer 'rep' \(RepeatVector\) repeats the last step of the LSTM 'enc_b' itself: an LSTM autoencoder/,
    );
  });

  it('an encoder alone (no RepeatVector), outputs as a dict', () => {
    const b = edited('stacked.keras', (c) => {
      c.config.layers = (c.config.layers as Json[]).filter((l) => !['rep', 'dec_a', 'dec_b', 'out'].includes(l.config.name));
      c.config.output_layers = { mean: ['head_2', 0, 0], log_var: ['head_1', 0, 0] };
    });
    const e = errorOf(() => LstmVae.fromKeras(b));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^the Keras model 'stacked' has no RepeatVector.*save the whole VAE/);
  });

  it('a subclassed model (no graph in the file)', () => {
    const b = edited('tutorial.keras', (c) => {
      c.class_name = 'VAE';
      c.config = { name: 'vae' };
    });
    const e = errorOf(() => LstmVae.fromKeras(b));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/subclassed model whose graph is not in the file/);
  });
});

describe('files that are not Keras model files give a FormatError', () => {
  it('other bytes, truncated files, missing members', () => {
    for (const bad of [
      new Uint8Array(0),
      strToU8('{"class_name": "Functional"}'),
      bytesOf('tutorial.keras').subarray(0, 2000),
      bytesOf('tutorial.h5').subarray(0, 3000),
      zipSync({ 'config.json': strToU8('{}') }),
      zipSync({ 'model.weights.h5': bytesOf('tutorial.h5') }),
      edited(
        'tutorial.keras',
        () => {},
        (f) => delete f['model.weights.h5'],
      ),
      edited(
        'tutorial.keras',
        () => {},
        (f) => (f['config.json'] = strToU8('not json')),
      ),
      edited(
        'tutorial.keras',
        () => {},
        (f) => (f['model.weights.h5'] = f['model.weights.h5'].subarray(0, 1000)),
      ),
    ]) {
      const e = errorOf(() => LstmVae.fromKeras(bad));
      expect(e, String(e)).toBeInstanceOf(FormatError);
    }
    expect(errorOf(() => LstmVae.fromKeras([1, 2, 3] as never))).toBeInstanceOf(FormatError);
    // a weights-only file (model.save_weights): no graph
    expect(() => LstmVae.fromKeras(unzipSync(bytesOf('tutorial.keras'))['model.weights.h5'])).toThrowError(/holds weights only/);
    expect(() =>
      LstmVae.fromKeras(
        edited(
          'tutorial.keras',
          () => {},
          (f) => delete f['model.weights.h5'],
        ),
      ),
    ).toThrowError(/no model\.weights\.h5/);
  });
});

describe('damaged files', () => {
  it('bytes changed at random give a model or a typed error, never another exception', () => {
    const rnd = mulberry32(14);
    const seen: Record<string, number> = {};
    for (const file of ['tutorial.h5', 'tutorial-gzip.h5', 'tutorial.keras', 'sequential.keras'])
      for (let i = 0; i < 40; i++) {
        const damage = (b: Uint8Array) => {
          const c = b.slice();
          for (let k = 0; k < 1 + rnd() * 8; k++) c[Math.floor(rnd() * c.length)] = Math.floor(rnd() * 256);
          return c;
        };
        let b = bytesOf(file);
        if (file.endsWith('.keras')) {
          const z = unzipSync(b);
          const member = rnd() < 0.5 ? 'config.json' : 'model.weights.h5';
          z[member] = damage(z[member]);
          b = zipSync(z);
        } else b = damage(b);
        try {
          LstmVae.fromKeras(b).dispose();
          seen.model = (seen.model ?? 0) + 1;
        } catch (e) {
          expect(e, `${file} #${i}: ${String(e)}`).toBeInstanceOf(LstmVaeError);
          seen[(e as Error).name] = (seen[(e as Error).name] ?? 0) + 1;
        }
      }
    expect(seen.FormatError).toBeGreaterThan(0);
  });
});

describe('lstm-vae import', () => {
  const cli = join(root, 'dist', 'cli.js');
  it.skipIf(!existsSync(cli))('writes a model file that reconstructs as Keras did', () => {
    const dir = tmpDir();
    const out = join(dir, 'vae.safetensors');
    const r = spawnSync(process.execPath, [cli, 'import', join(fixtures, 'tutorial.h5'), '-o', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imported .*tutorial\.h5 → .*vae\.safetensors \(features 2, hidden 8, latent 3, layers 1\)/);
    expect(r.stdout).toMatch(/encoder\.fc_logvar +← 'encoder\/z_log_var'/);
    const m = LstmVae.fromSafetensors(new Uint8Array(readFileSync(out)));
    const ref = referenceOf('tutorial');
    const x = { data: Float32Array.from(ref.x.data), shape: ref.x.shape as [number, number, number] };
    allclose('reconstruction', m.reconstruct(x), ref.reconstruction.data, TOL);
    expect(m.metadata.importedFrom).toMatchObject({ format: 'keras', file: 'tutorial.h5' });
    m.dispose();

    const bad = join(dir, 'bad.keras');
    writeFileSync(bad, bytesOf('gru.h5'));
    const f = spawnSync(process.execPath, [cli, 'import', bad, '-o', join(dir, 'x.safetensors')], { encoding: 'utf8' });
    expect(f.status).toBe(1);
    expect(f.stderr).toMatch(/^lstm-vae: .*'encoder\/gru_encoder' \(GRU\)/);
    expect(existsSync(join(dir, 'x.safetensors'))).toBe(false);
  });
});
