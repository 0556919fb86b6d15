/**
 * `lstm-vae sample`: sequences sampled from a model's prior (text models: as generate).
 */

import { UsageError } from '../errors.js';
import { csvLine, writeOutput } from '../output.js';
import { loadModel, modelMode } from '../shared.js';
import { generate } from './generate.js';

export interface SampleOptions {
  n: number;
  length?: number;
  out?: string;
  temperature: number;
}

export async function sample(modelFile: string, o: SampleOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  if (modelMode(lm.model) === 'tokens') {
    lm.model.dispose();
    return generate(modelFile, { n: o.n, temperature: o.temperature, maxLength: o.length, out: o.out });
  }
  const T = o.length ?? lm.meta?.window?.length;
  if (T === undefined) throw new UsageError(`${modelFile} has no saved window length: pass --length`);
  const D = lm.model.config.features;
  const y = lm.model.sample(o.n, T);
  const raw = lm.normalizer ? lm.normalizer.inverse(y) : y;
  const columns = lm.meta?.input.columns ?? Array.from({ length: D }, (_, k) => `x${k}`);
  if (o.out !== undefined && /\.json$/i.test(o.out)) {
    const seqs = Array.from({ length: o.n }, (_, b) =>
      Array.from({ length: T }, (_, t) => Array.from(raw.subarray((b * T + t) * D, (b * T + t + 1) * D), (v) => Number(v.toPrecision(7)))),
    );
    await writeOutput(o.out, JSON.stringify(seqs) + '\n');
  } else {
    let csv = csvLine(['sample', 'step', ...columns]);
    for (let b = 0; b < o.n; b++)
      for (let t = 0; t < T; t++) csv += csvLine([b, t, ...Array.from(raw.subarray((b * T + t) * D, (b * T + t + 1) * D))]);
    await writeOutput(o.out, csv);
  }
  lm.model.dispose();
}
