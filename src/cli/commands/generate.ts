/**
 * `lstm-vae generate`: text sequences from a token model's prior.
 */

import { FormatError } from '../../core/errors.js';
import { UsageError } from '../errors.js';
import { writeOutput } from '../output.js';
import { loadModel, modelMode } from '../shared.js';

export interface GenerateOptions {
  n: number;
  temperature: number;
  maxLength?: number;
  out?: string;
  greedy?: boolean;
}

export async function generate(modelFile: string, o: GenerateOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  if (modelMode(lm.model) !== 'tokens') {
    throw new UsageError(`${modelFile} is a continuous model; generate is for token (text) models: use \`lstm-vae sample\``);
  }
  const tok = lm.model.tokenizer;
  if (!tok) throw new FormatError(`${modelFile}: the token model has no tokenizer saved with it`);
  const ids = lm.model.generate({ n: o.n, temperature: o.temperature, maxLength: o.maxLength ?? 32, greedy: o.greedy });
  const text = ids.map((s) => tok.decode(s)).join('\n') + '\n';
  await writeOutput(o.out, text);
  lm.model.dispose();
}
