/**
 * Models as Blobs and Files, and stored by name in IndexedDB (through idb-keyval). Nothing here
 * touches a browser global when the module is imported: the IndexedDB functions check for
 * `indexedDB` when called (Node has none and gets an IOError; use saveModel / loadModel there).
 *
 * Storage layout: database `lstm-vae`, object store `models`; a model named `n` is two entries
 * written and deleted in one transaction: `model:n` (the safetensors bytes) and `info:n`
 * (a small ModelInfo record, so that listModels() does not read every model).
 */
import { createStore, delMany, getMany, keys, setMany, type UseStore } from 'idb-keyval';
import { ConfigError, FormatError, IOError } from '../core/errors.js';
import { LstmVae, type LstmVaeConfig } from '../model/index.js';

/** What listModels() tells about a stored model. */
export interface StoredModelInfo {
  name: string;
  /** Size of the model file in bytes. */
  bytes: number;
  /** When it was saved (ms since 1970, Date.now()). */
  savedAt: number;
  config: LstmVaeConfig;
}

const MIME = 'application/octet-stream';

let store: UseStore | undefined;
function db(what: string): UseStore {
  if (typeof indexedDB === 'undefined' || indexedDB === null) {
    throw new IOError(`${what}: IndexedDB is not available in this runtime (in Node, use saveModel / loadModel)`);
  }
  store ??= createStore('lstm-vae', 'models');
  return store;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 1000) {
    throw new ConfigError('a stored model needs a name: a non-empty string of at most 1000 characters', {
      argument: 'name',
      expected: 'non-empty string',
      actual: name,
    });
  }
  return name;
}

function checkModel(model: unknown): LstmVae {
  if (!(model instanceof LstmVae))
    throw new ConfigError('expected a model', {
      argument: 'model',
      expected: 'LstmVae',
      actual: (model as object)?.constructor?.name ?? typeof model,
    });
  return model;
}

/** What can be saved: a model, or an anomaly detector (its file holds all its models and its plan). */
export type Saveable = LstmVae | { readonly model: LstmVae; toSafetensors(): Uint8Array };

/** The file bytes and the (first) model of something saveable. */
function fileOf(item: unknown): { bytes: Uint8Array; model: LstmVae } {
  if (item instanceof LstmVae) return { bytes: item.toSafetensors(), model: item };
  const d = item as { model?: unknown; toSafetensors?: unknown } | null;
  if (d !== null && typeof d === 'object' && d.model instanceof LstmVae && typeof d.toSafetensors === 'function')
    return { bytes: (d.toSafetensors as () => Uint8Array).call(d), model: d.model };
  return { bytes: new Uint8Array(0), model: checkModel(item) };
}

function ioError(what: string, e: unknown): IOError {
  if (e instanceof IOError) return e;
  const err = e as { name?: string; message?: string } | undefined;
  const reason = err?.name && err.name !== 'Error' ? `${err.name}: ${err.message ?? ''}` : (err?.message ?? String(e));
  return new IOError(`${what}: ${reason}`);
}

/** The model (or anomaly detector) as a Blob holding its safetensors file (e.g. for a download link). */
export function modelToBlob(model: Saveable): Blob {
  return new Blob([fileOf(model).bytes as Uint8Array<ArrayBuffer>], { type: MIME });
}

/** Loads a model from a Blob (or File) holding a safetensors file. FormatError if it is not one. */
export async function modelFromBlob(blob: Blob): Promise<LstmVae> {
  if (blob === null || typeof blob !== 'object' || typeof (blob as Blob).arrayBuffer !== 'function') {
    throw new ConfigError('expected a Blob or a File', {
      argument: 'blob',
      expected: 'Blob | File',
      actual: (blob as object)?.constructor?.name ?? typeof blob,
    });
  }
  let buf: ArrayBuffer;
  try {
    buf = await blob.arrayBuffer();
  } catch (e) {
    throw ioError('cannot read the model from the Blob', e);
  }
  return LstmVae.fromSafetensors(new Uint8Array(buf));
}

/** Loads a model from a File (e.g. from an `<input type="file">` or a drop). */
export async function modelFromFile(file: File): Promise<LstmVae> {
  return modelFromBlob(file);
}

/**
 * Saves a model (or an anomaly detector: `AnomalyDetector.fromModel(await loadFromIndexedDB(name))` gets it back) in
 * IndexedDB under `name` (replacing a model of that name). IOError on failure (e.g. quota).
 */
export async function saveToIndexedDB(model: Saveable, name: string): Promise<void> {
  const file = fileOf(model);
  checkName(name);
  const s = db(`cannot save model "${name}"`);
  const bytes = file.bytes;
  const info: StoredModelInfo = { name, bytes: bytes.length, savedAt: Date.now(), config: file.model.toConfigJSON() };
  try {
    await setMany(
      [
        [`model:${name}`, bytes],
        [`info:${name}`, info],
      ],
      s,
    );
  } catch (e) {
    throw ioError(`cannot save model "${name}" in IndexedDB`, e);
  }
}

/** Loads the model stored under `name`. IOError if there is none, FormatError if the stored bytes are not a model. */
export async function loadFromIndexedDB(name: string): Promise<LstmVae> {
  checkName(name);
  const s = db(`cannot load model "${name}"`);
  let bytes: unknown;
  try {
    [bytes] = await getMany([`model:${name}`], s);
  } catch (e) {
    throw ioError(`cannot load model "${name}" from IndexedDB`, e);
  }
  if (bytes === undefined) throw new IOError(`there is no model named "${name}" in IndexedDB`);
  if (!(bytes instanceof Uint8Array)) {
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    else
      throw new FormatError(`the IndexedDB entry of model "${name}" is not a model file`, {
        argument: name,
        expected: 'Uint8Array',
        actual: (bytes as object)?.constructor?.name ?? typeof bytes,
      });
  }
  return LstmVae.fromSafetensors(bytes as Uint8Array);
}

/** The models stored in IndexedDB, sorted by name. */
export async function listModels(): Promise<StoredModelInfo[]> {
  const s = db('cannot list models');
  try {
    const names = (await keys(s)).filter((k): k is string => typeof k === 'string' && k.startsWith('info:'));
    const infos = (await getMany(names, s)) as (StoredModelInfo | undefined)[];
    return infos
      .filter((i): i is StoredModelInfo => !!i && typeof i === 'object')
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    throw ioError('cannot list the models in IndexedDB', e);
  }
}

/** Deletes the model stored under `name`; resolves to whether there was one. */
export async function deleteModel(name: string): Promise<boolean> {
  checkName(name);
  const s = db(`cannot delete model "${name}"`);
  try {
    const [had] = await getMany([`info:${name}`], s);
    await delMany([`model:${name}`, `info:${name}`], s);
    return had !== undefined;
  } catch (e) {
    throw ioError(`cannot delete model "${name}" from IndexedDB`, e);
  }
}
