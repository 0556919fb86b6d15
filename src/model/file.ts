/**
 * Reading the header of a model file (`__metadata__` of a safetensors file): format and version, the
 * configuration (or the sizes inferred from the tensor shapes), the free metadata and the tokenizer.
 */

import { FormatError } from '../core/errors.js';
import { CharTokenizer } from '../data/tokenizer.js';
import { FORMAT_VERSION, inferConfig, type LstmVaeConfig } from './config.js';

/** Checks the format tag and version, and returns the file's configuration (inferred from the shapes without one). */
export function configOfFile(
  metadata: Record<string, string>,
  tensors: Record<string, { shape: number[]; data: Float32Array }>,
): LstmVaeConfig {
  // 'pt' / 'np': the framework tag Hugging Face tools put in files saved from PyTorch / NumPy state dicts
  if (metadata.format !== undefined && metadata.format !== 'lstm-vae' && metadata.format !== 'pt' && metadata.format !== 'np')
    throw new FormatError('not an lstm-vae file', {
      argument: '__metadata__.format',
      expected: "'lstm-vae' (or 'pt' / 'np' for a state dict with the SPEC's keys)",
      actual: metadata.format,
    });
  if (metadata.format_version !== undefined) {
    const v = Number(metadata.format_version);
    if (!Number.isInteger(v) || v < 1)
      throw new FormatError('bad format_version', {
        argument: '__metadata__.format_version',
        expected: '1',
        actual: metadata.format_version,
      });
    if (v > FORMAT_VERSION)
      throw new FormatError(`the file has format_version ${v}, newer than this package reads (${FORMAT_VERSION}): update lstm-vae`, {
        argument: '__metadata__.format_version',
        expected: `<= ${FORMAT_VERSION}`,
        actual: v,
      });
  }
  if (metadata.config === undefined) return inferConfig(tensors);
  try {
    return JSON.parse(metadata.config);
  } catch {
    throw new FormatError('the config in the file is not valid JSON', {
      argument: '__metadata__.config',
      expected: 'JSON object',
      actual: metadata.config.slice(0, 80),
    });
  }
}

/** The free metadata (`__metadata__.metadata`): a JSON object. */
export function metadataOfFile(text: string): Record<string, unknown> {
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch {
    throw new FormatError('the metadata in the file is not valid JSON', { argument: '__metadata__.metadata' });
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new FormatError('the metadata in the file must be a JSON object', {
      argument: '__metadata__.metadata',
      expected: '{ ... }',
      actual: text.slice(0, 80),
    });
  }
  return meta as Record<string, unknown>;
}

/** The tokenizer of a token model (`__metadata__.tokenizer`). */
export function tokenizerOfFile(text: string): CharTokenizer {
  try {
    return CharTokenizer.fromJSON(JSON.parse(text));
  } catch (e) {
    throw e instanceof FormatError
      ? e
      : new FormatError('the tokenizer in the file is not valid JSON', { argument: '__metadata__.tokenizer' });
  }
}
