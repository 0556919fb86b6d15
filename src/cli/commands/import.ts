/**
 * `lstm-vae import MODEL.keras -o MODEL.safetensors`: a Keras LSTM-VAE (`.keras` or legacy `.h5`) as an
 * lstm-vae model file; the layers are found from the graph in the file (docs/keras.md).
 */

import { basename } from 'node:path';
import { readKerasFile } from '../../io/keras-file.js';
import { LstmVae } from '../../index.node.js';
import { readFileBytes, writeFileAtomic } from '../../io/atomic-write.js';
import { UsageError } from '../errors.js';
import { initBackend } from '../shared.js';

export interface ImportOptions {
  /** Where to save the model (.safetensors). */
  out?: string;
}

export async function importModel(kerasFile: string, o: ImportOptions): Promise<void> {
  if (o.out === undefined || o.out === '') throw new UsageError('import needs -o <file>: where to save the model (.safetensors)');
  const bytes = await readFileBytes(kerasFile);
  await initBackend();
  const { config, tensors, layers } = readKerasFile(bytes);
  const model = new LstmVae(config);
  let out: Uint8Array;
  try {
    model.loadStateDict(tensors);
    model.metadata.importedFrom = { format: 'keras', file: basename(kerasFile), layers };
    out = model.toSafetensors();
  } finally {
    model.dispose();
  }
  await writeFileAtomic(o.out, out);
  const c = `features ${config.features}, hidden ${config.hidden}, latent ${config.latent}, layers ${config.layers}`;
  process.stdout.write(`imported ${kerasFile} → ${o.out} (${c})\n`);
  for (const [k, v] of Object.entries(layers)) process.stdout.write(`  ${k.padEnd(18)} ← ${v.map((p) => `'${p}'`).join(', ')}\n`);
}
