/**
 * Reading and writing the safetensors format (pure TypeScript, no WebAssembly).
 *
 * Layout: an 8-byte little-endian unsigned integer N, N bytes of UTF-8 JSON (the header), then the
 * byte buffer that holds the raw little-endian tensor data. The header maps tensor names to
 * `{ "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }` (offsets relative to the start of
 * the byte buffer) plus an optional `"__metadata__"` object mapping strings to strings.
 *
 * Only `F32` tensors are read and written: that is what lstm-vae stores.
 */

import { ConfigError, FormatError, ShapeError } from '../core/errors.js';
import {
  compareCodePoints,
  DEFAULT_MAX_HEADER_BYTES,
  F32_BYTES,
  isWellFormed,
  KNOWN_DTYPES,
  LITTLE_ENDIAN_HOST,
  METADATA_KEY,
  q,
  setOwn,
  showShape,
} from './safetensors-common.js';
import { HeaderParser, type RawEntry } from './safetensors-header.js';

/** Lead of the errors that mean "these bytes are not a safetensors file at all" (random bytes, another format). */
export const NOT_SAFETENSORS = 'not a safetensors file: ';
/** Lead of the errors that mean "the file ends before its data does" (an interrupted copy or download). */
export const TRUNCATED = 'truncated file: ';

/** A tensor to write: a row-major shape and its `product(shape)` values. */
export interface TensorInput {
  shape: readonly number[];
  data: Float32Array;
}

/** A tensor read from a safetensors file. `data` is a fresh copy that does not alias the input. */
export interface DecodedTensor {
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

export interface DecodedSafetensors {
  metadata: Record<string, string>;
  tensors: Record<string, DecodedTensor>;
}

export interface DecodeOptions {
  /** Largest header (in bytes) accepted; default 100 MB (100,000,000 bytes, the official limit). */
  maxHeaderBytes?: number;
}

/**
 * Encodes F32 tensors (and optional string → string metadata) as a safetensors file.
 *
 * Matches the official writer: tensors are laid out in sorted name order (Unicode code point order,
 * i.e. UTF-8 byte order), `data_offsets` are relative to the start of the byte buffer, and the JSON
 * header is padded with spaces to a multiple of 8 bytes so that the data stays aligned. Metadata keys
 * are written in sorted order; `__metadata__` is written only when `metadata` is given. The output is
 * deterministic.
 *
 * @throws ShapeError when a shape is not an array of non-negative integers or does not match the
 *   data length, or data is not a Float32Array.
 * @throws FormatError when a name or metadata entry cannot be stored (the reserved name
 *   `__metadata__`, strings with unpaired surrogates, non-string metadata values).
 */
export function encodeSafetensors(tensors: Record<string, TensorInput>, metadata?: Record<string, string>): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') {
    throw new ShapeError('tensors must be an object mapping names to { shape, data }', {
      argument: 'tensors',
      actual: tensors === null ? 'null' : typeof tensors,
    });
  }
  const names = Object.keys(tensors).sort(compareCodePoints);
  const parts: string[] = [];

  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new FormatError('metadata must be an object mapping strings to strings', {
        argument: 'metadata',
        actual: metadata === null ? 'null' : Array.isArray(metadata) ? 'array' : typeof metadata,
      });
    }
    const entries: string[] = [];
    for (const key of Object.keys(metadata).sort(compareCodePoints)) {
      const value: unknown = metadata[key];
      if (typeof value !== 'string') {
        throw new FormatError(`metadata value of ${q(key)} must be a string, got ${typeof value}`, {
          argument: `metadata[${q(key)}]`,
        });
      }
      if (!isWellFormed(key) || !isWellFormed(value)) {
        throw new FormatError(`metadata entry ${q(key)} contains an unpaired UTF-16 surrogate, which UTF-8 cannot store`);
      }
      entries.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    parts.push(`"${METADATA_KEY}":{${entries.join(',')}}`);
  }

  const views: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) {
      throw new FormatError(`"${METADATA_KEY}" is reserved for metadata and cannot be a tensor name`, {
        argument: 'tensors',
      });
    }
    if (!isWellFormed(name)) {
      throw new FormatError(`tensor name ${q(name)} contains an unpaired UTF-16 surrogate, which UTF-8 cannot store`);
    }
    const t = tensors[name] as TensorInput | null | undefined;
    if (t === null || typeof t !== 'object') {
      throw new ShapeError(`tensor ${q(name)} must be an object { shape, data }`, { argument: `tensors[${q(name)}]` });
    }
    const { shape, data } = t;
    if (!(data instanceof Float32Array)) {
      throw new ShapeError(`tensor ${q(name)}: data must be a Float32Array`, {
        argument: `tensors[${q(name)}].data`,
        expected: 'Float32Array',
        actual: data === null ? 'null' : ((data as object)?.constructor?.name ?? typeof data),
      });
    }
    if (!Array.isArray(shape)) {
      throw new ShapeError(`tensor ${q(name)}: shape must be an array of non-negative integers`, {
        argument: `tensors[${q(name)}].shape`,
      });
    }
    let count = 1;
    for (let i = 0; i < shape.length; i++) {
      const d: unknown = shape[i];
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        throw new ShapeError(`tensor ${q(name)}: shape must be an array of non-negative integers, but element ${i} is ${String(d)}`, {
          argument: `tensors[${q(name)}].shape`,
        });
      }
      count *= d;
      if (count > Number.MAX_SAFE_INTEGER) {
        throw new ShapeError(`tensor ${q(name)}: shape ${showShape(shape)} has more than 2^53-1 elements`);
      }
    }
    if (count !== data.length) {
      throw new ShapeError(`tensor ${q(name)}: shape ${showShape(shape)} needs ${count} values but data has ${data.length}`, {
        argument: `tensors[${q(name)}]`,
        expected: count,
        actual: data.length,
      });
    }
    const nbytes = data.length * F32_BYTES;
    parts.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":${showShape(shape)},"data_offsets":[${offset},${offset + nbytes}]}`);
    views.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    offset += nbytes;
  }

  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen >>> 0, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const v of views) {
    if (LITTLE_ENDIAN_HOST) {
      out.set(v, pos);
    } else {
      const src = new DataView(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i < v.byteLength; i += 4) dv.setFloat32(pos + i, src.getFloat32(i, false), true);
    }
    pos += v.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

function checkEntry(raw: RawEntry, dataLen: number): Entry {
  const { name } = raw;
  const where = `tensor ${q(name)}`;
  if (raw.notObject !== undefined) {
    throw new FormatError(`${where}: header entry must be an object with dtype, shape and data_offsets, got ${raw.notObject}`);
  }
  const dtype = raw.dtype;
  if (dtype === undefined) throw new FormatError(`${where}: missing "dtype" (supported: F32)`);
  if (dtype.value === undefined) {
    throw new FormatError(`${where}: dtype must be a string, got ${dtype.kind} (supported: F32)`);
  }
  if (dtype.value !== 'F32') {
    const details = { argument: `${name}.dtype`, expected: 'F32', actual: dtype.value };
    if (KNOWN_DTYPES.has(dtype.value)) {
      throw new FormatError(`${where}: dtype ${dtype.value} is not supported; lstm-vae stores F32 tensors only (supported: F32)`, details);
    }
    throw new FormatError(`${where}: unknown dtype ${q(dtype.value)} (supported: F32)`, details);
  }

  const rawShape = raw.shape;
  if (rawShape === undefined) throw new FormatError(`${where}: missing "shape"`);
  if (rawShape.kind !== 'an array') {
    throw new FormatError(`${where}: shape must be an array of non-negative integers, got ${rawShape.kind}`);
  }
  if (rawShape.badIndex !== undefined) {
    throw new FormatError(
      `${where}: shape must be an array of non-negative integers, but element ${rawShape.badIndex} ${rawShape.badText}`,
    );
  }
  const shape = rawShape.values;

  const off = raw.offsets;
  if (off === undefined) throw new FormatError(`${where}: missing "data_offsets"`);
  if (off.kind !== 'an array' || off.count !== 2) {
    throw new FormatError(
      `${where}: data_offsets must be [begin, end] (two non-negative integers), got ${
        off.kind === 'an array' ? `an array of ${off.count} elements` : off.kind
      }`,
    );
  }
  if (off.badIndex !== undefined) {
    throw new FormatError(`${where}: data_offsets ${off.badIndex === 0 ? 'begin' : 'end'} ${off.badText}; expected a non-negative integer`);
  }
  const [begin, end] = off.values as [number, number];
  if (end < begin) throw new FormatError(`${where}: data_offsets [${begin},${end}] end before they begin`);
  if (end > dataLen) {
    throw new FormatError(`${TRUNCATED}${where}: data_offsets [${begin},${end}] end beyond the data buffer, which has ${dataLen} bytes`);
  }

  // Element count, multiplied left to right; like the official reader's checked multiplication, an
  // intermediate product that overflows (here: exceeds 2^53-1) is an error even if a later dimension is 0.
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count > Number.MAX_SAFE_INTEGER) {
      throw new FormatError(`${where}: the element count of shape ${showShape(shape)} overflows (more than 2^53-1)`);
    }
  }
  const need = count * F32_BYTES; // exact: count <= 2^53-1 and the factor is a power of two
  if (need !== end - begin) {
    throw new FormatError(
      `${where}: shape ${showShape(shape)} of F32 needs ${need} bytes, but data_offsets [${begin},${end}] span ${end - begin}`,
    );
  }
  return { name, shape, begin, end };
}

/**
 * Decodes a safetensors file holding F32 tensors.
 *
 * Robust against hostile input: every problem is a {@link FormatError} saying what is wrong, nothing
 * is allocated for tensors beyond the size of the input, the header is read without building a tree
 * of it (memory stays a small multiple of the header size), and the work is linear in the input size. Rules enforced:
 * - at least 8 bytes; the little-endian u64 header length N is at most `maxHeaderBytes`
 *   (default 100,000,000, the official limit) and 8 + N is at most the file size;
 * - the header is valid UTF-8 (no BOM) and one valid JSON object (surrounding JSON whitespace,
 *   such as the writer's space padding, is allowed), with no duplicate keys;
 * - `__metadata__`, if present and not null, is an object mapping strings to strings;
 * - every other key is a tensor: an object with `dtype` (only `F32` is supported), `shape` (an array
 *   of non-negative integers written as plain digits, at most 2^53-1, whose product does not overflow)
 *   and `data_offsets` ([begin, end], non-negative integers, begin <= end <= data buffer length),
 *   where end - begin = product(shape) * 4; other fields in an entry are ignored;
 * - as in the official `safetensors` library (`Metadata::validate` plus its "file not fully covered"
 *   check): the tensors, sorted by data_offsets, tile the byte buffer exactly — the first begins at 0,
 *   each begins where the previous one ends (no overlaps, no holes), and the last ends at the end of
 *   the file. Zero-size tensors are allowed anywhere on that chain.
 *
 * The returned tensors are ordered by their position in the file; their data are fresh, aligned
 * copies that do not alias `bytes`.
 */
export function decodeSafetensors(bytes: Uint8Array, options: DecodeOptions = {}): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new FormatError('a safetensors file must be given as a Uint8Array', {
      argument: 'bytes',
      expected: 'Uint8Array',
      actual: bytes === null ? 'null' : typeof bytes,
    });
  }
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (typeof maxHeaderBytes !== 'number' || !(maxHeaderBytes >= 0) || Number.isNaN(maxHeaderBytes)) {
    throw new ConfigError('options.maxHeaderBytes must be a non-negative number', {
      argument: 'options.maxHeaderBytes',
      actual: maxHeaderBytes,
    });
  }
  const size = bytes.length;
  if (size < 8) {
    throw new FormatError(`${NOT_SAFETENSORS}file is too short: ${size} bytes, but a safetensors file starts with an 8-byte header length`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const n = hi * 2 ** 32 + lo; // exact below 2^53; anything larger fails the checks below anyway
  if (n > maxHeaderBytes) {
    throw new FormatError(
      `${NOT_SAFETENSORS}header length ${dv.getBigUint64(0, true)} is absurdly large (limit: maxHeaderBytes = ${maxHeaderBytes})`,
    );
  }
  if (n > size - 8) {
    throw new FormatError(
      `${TRUNCATED}header length ${n} is larger than the file allows: the file has ${size} bytes, so at most ${size - 8} are left after the 8-byte length (truncated file?)`,
    );
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new FormatError(`${NOT_SAFETENSORS}header is not valid UTF-8`);
  }
  if (text.length === 0) throw new FormatError(`${NOT_SAFETENSORS}header is not valid JSON: the header is empty`);
  const header = new HeaderParser(text).parseHeader();
  if (header.notObject !== undefined) throw new FormatError(`header must be a JSON object, got ${header.notObject}`);

  const dataStart = 8 + n;
  const dataLen = size - dataStart;
  // Schema problems are reported in header order.
  const entries: Entry[] = [];
  for (let i = 0; i <= header.entries.length; i++) {
    if (i === header.metadataProblemAt) throw new FormatError(header.metadataProblem!);
    if (i < header.entries.length) entries.push(checkEntry(header.entries[i]!, dataLen));
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of header.metadata) setOwn(metadata, k, v);

  // Coverage: sorted by offsets, the tensors must tile [0, dataLen) exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end || compareCodePoints(a.name, b.name));
  let cursor = 0;
  let last: Entry | undefined;
  for (const e of entries) {
    if (e.begin < cursor) {
      throw new FormatError(
        `tensors ${q(last!.name)} (data_offsets [${last!.begin},${last!.end}]) and ${q(e.name)} (data_offsets [${e.begin},${e.end}]) overlap`,
      );
    }
    if (e.begin > cursor) {
      throw new FormatError(
        `bytes ${cursor}..${e.begin} of the data buffer are not covered by any tensor (a gap before ${q(e.name)}); the tensors must cover the data buffer contiguously`,
      );
    }
    cursor = e.end;
    last = e;
  }
  if (cursor !== dataLen) {
    throw new FormatError(
      `the last ${dataLen - cursor} bytes of the data buffer (from offset ${cursor}) are not covered by any tensor; the tensors must cover the data buffer up to the end of the file`,
    );
  }

  // Everything checked: copy out. The total allocated equals dataLen <= bytes.length.
  const tensors: Record<string, DecodedTensor> = {};
  for (const e of entries) {
    const len = e.end - e.begin;
    const data = new Float32Array(len / F32_BYTES);
    const from = dataStart + e.begin;
    if (LITTLE_ENDIAN_HOST) {
      new Uint8Array(data.buffer).set(bytes.subarray(from, from + len));
    } else {
      for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(from + i * 4, true);
    }
    setOwn(tensors, e.name, { dtype: 'F32', shape: e.shape, data });
  }
  return { metadata, tensors };
}

/**
 * Checks that a state dict has exactly the expected keys and shapes. Throws one {@link FormatError}
 * listing every problem, e.g. `missing: a, b; unexpected: c; shape of k is [2,3], expected [3,2]`.
 */
export function validateStateDict(
  tensors: Record<string, { shape: readonly number[] }>,
  expected: Record<string, readonly number[]>,
): void {
  const have = Object.keys(tensors);
  const want = Object.keys(expected);
  const missing = want.filter((k) => !Object.hasOwn(tensors, k)).sort(compareCodePoints);
  const unexpected = have.filter((k) => !Object.hasOwn(expected, k)).sort(compareCodePoints);
  const mismatched: string[] = [];
  for (const k of want.slice().sort(compareCodePoints)) {
    if (!Object.hasOwn(tensors, k)) continue;
    const got = tensors[k]!.shape;
    const exp = expected[k]!;
    if (got.length !== exp.length || got.some((d, i) => d !== exp[i])) {
      mismatched.push(`shape of ${k} is ${showShape(got)}, expected ${showShape(exp)}`);
    }
  }
  const parts: string[] = [];
  if (missing.length) parts.push(`missing: ${missing.join(', ')}`);
  if (unexpected.length) parts.push(`unexpected: ${unexpected.join(', ')}`);
  parts.push(...mismatched);
  if (parts.length) throw new FormatError(`state dict does not match the model: ${parts.join('; ')}`);
}
