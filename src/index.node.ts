// Node entry (the `node` export condition): reads the .wasm builds from disk, threads on worker_threads.
import { setPlatform } from './backend/platform.js';
import { nodePlatform } from './backend/node.js';

setPlatform(nodePlatform);
export * from './api.js';

import { LstmVae } from './model/index.js';
import { readFileBytes, writeFileAtomic } from './io/atomic-write.js';
import { setCheckpointWriter } from './train/index.js';

setCheckpointWriter(writeFileAtomic);

/** Saves a model to `path` crash-safely (temporary file in the same folder, fsync, rename). */
export async function saveModel(model: LstmVae, path: string): Promise<void> {
  await writeFileAtomic(path, model.toSafetensors());
}

/** Loads a model saved with `saveModel` (or by PyTorch's safetensors). */
export async function loadModel(path: string): Promise<LstmVae> {
  return LstmVae.fromSafetensors(await readFileBytes(path));
}
