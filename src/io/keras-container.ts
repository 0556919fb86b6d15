/**
 * Keras model files, the containers: a `.keras` zip and HDF5 (`.h5`, `model.weights.h5`), and the weights that
 * Keras 3 and legacy Keras store in them (keras-file.ts is the whole reader).
 */
import * as hdf5 from 'jsfive';
import { FormatError, LstmVaeError } from '../core/errors.js';

export type Json = Record<string, unknown>;
export type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

/** The most layer calls a traced graph may have (an LSTM-VAE has a dozen). */
export const MAX_OPS = 100_000;
/** The largest member of a `.keras` zip that is unpacked (a guard against zip bombs). */
export const MAX_MEMBER_BYTES = 1 << 30;
// ---------------------------------------------------------------------------------------------
// containers

export const isZip = (b: Uint8Array) => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
export const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
export const isHdf5 = (b: Uint8Array) => b.length >= 8 && HDF5_MAGIC.every((v, i) => b[i] === v);

export function openHdf5(bytes: Uint8Array, what: string): hdf5.File {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  try {
    return new hdf5.File(buf, what);
  } catch (e) {
    throw new FormatError(`${what} is not a readable HDF5 file: ${reason(e)}`, { argument: what });
  }
}

export function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function parseJson(text: string, what: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${what} is not valid JSON: ${reason(e)}`, { argument: what });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new FormatError(`${what} must be a JSON object (a Keras model config)`, { argument: what, actual: typeof v });
  return v as Json;
}

export function attrText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (Array.isArray(v) && v.length === 1) return attrText(v[0]);
  return undefined;
}

/** The children of an HDF5 group (jsfive throws a string for a missing key: ask first). */
export function child(g: hdf5.Group, key: string): hdf5.Group | hdf5.Dataset | undefined {
  if (!g.keys.includes(key)) return undefined;
  try {
    return g.get(key) ?? undefined;
  } catch (e) {
    throw new FormatError(`the HDF5 object ${g.name}/${key} cannot be read: ${reason(e)}`, { argument: `${g.name}/${key}` });
  }
}
export const isGroup = (v: unknown): v is hdf5.Group => v instanceof hdf5.Group;
export const isDataset = (v: unknown): v is hdf5.Dataset => v instanceof hdf5.Dataset;

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export function readDataset(d: hdf5.Dataset): Tensor {
  try {
    const dtype = String(d.dtype);
    if (!/^[<>|]?f[48]$/.test(dtype))
      throw new FormatError(`the weight ${d.name} has dtype ${dtype}; only float32 and float64 weights are read`, {
        argument: d.name,
        expected: 'float32',
        actual: dtype,
      });
    const shape = [...d.shape];
    const v = d.value;
    const n = shape.reduce((a, b) => a * b, 1);
    if (!v || v.length !== n)
      throw new FormatError(`the weight ${d.name} holds ${v?.length ?? 0} values for the shape [${shape.join(', ')}]`, {
        argument: d.name,
        expected: n,
        actual: v?.length,
      });
    return { shape, data: Float32Array.from(v) };
  } catch (e) {
    if (e instanceof LstmVaeError) throw e;
    throw new FormatError(`the weight ${d.name} cannot be read: ${reason(e)}`, { argument: d.name });
  }
}

/** Where a layer's weights are: the HDF5 group of a layer, and how to list its tensors. */
export interface WeightStore {
  root: hdf5.Group;
  /** The group of the layer `name` (the `index`-th of `classes`) inside the group of its model. */
  child(parent: hdf5.Group | undefined, name: string, index: number, classes: string[]): hdf5.Group | undefined;
  /** A layer's weights as Keras lists them (kernel, recurrent_kernel, bias / kernel, bias). */
  weights(g: hdf5.Group, kind: 'lstm' | 'dense'): { kernel?: Tensor; recurrent?: Tensor; bias?: Tensor };
}

export const snake = (s: string) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();

/** Keras 3's `model.weights.h5`: `layers/<snake_case class name, deduplicated>/vars/0..n`, `vars` naming the layer. */
export function kerasV3Store(root: hdf5.Group): WeightStore {
  return {
    root,
    child(parent, name, index, classes) {
      const layers = parent && child(parent, 'layers');
      if (!isGroup(layers)) return undefined;
      for (const k of layers.keys) {
        const g = child(layers, k);
        const vars = isGroup(g) ? child(g, 'vars') : undefined;
        if (isGroup(vars) && attrText(vars.attrs.name) === name) return g as hdf5.Group;
      }
      // older files: no names; the path is the class name in snake case, numbered by repeats
      const base = snake(classes[index]);
      const seen = classes.slice(0, index).filter((c) => snake(c) === base).length;
      const g = child(layers, seen === 0 ? base : `${base}_${seen}`);
      return isGroup(g) ? g : undefined;
    },
    weights(g, kind) {
      const list = (h: hdf5.Group): Tensor[] => {
        const vars = child(h, 'vars');
        const out: Tensor[] = [];
        if (isGroup(vars))
          for (const k of [...vars.keys].sort((a, b) => Number(a) - Number(b))) {
            const d = child(vars, k);
            if (isDataset(d)) out.push(readDataset(d));
          }
        if (out.length) return out;
        for (const sub of ['cell', 'layer']) {
          const s = child(h, sub);
          if (isGroup(s)) {
            const w = list(s);
            if (w.length) return w;
          }
        }
        return out;
      };
      const w = list(g);
      return kind === 'lstm' ? { kernel: w[0], recurrent: w[1], bias: w[2] } : { kernel: w[0], bias: w[1] };
    },
  };
}

/** Legacy `.h5`: `model_weights/<layer name>/.../<kernel | recurrent_kernel | bias>[:0]`. */
export function legacyStore(root: hdf5.Group): WeightStore {
  const find = (g: hdf5.Group, name: string, depth: number): hdf5.Group | undefined => {
    const direct = child(g, name);
    if (isGroup(direct)) return direct;
    if (depth > 8) return undefined;
    for (const k of g.keys) {
      const c = child(g, k);
      if (isGroup(c)) {
        const r = find(c, name, depth + 1);
        if (r) return r;
      }
    }
    return undefined;
  };
  return {
    root,
    child(parent, name) {
      return parent ? find(parent, name, 0) : undefined;
    },
    weights(g) {
      const out: { kernel?: Tensor; recurrent?: Tensor; bias?: Tensor } = {};
      const walk = (h: hdf5.Group, depth: number) => {
        for (const k of h.keys) {
          const c = child(h, k);
          const base = k.replace(/:\d+$/, '');
          if (isDataset(c)) {
            if (base === 'kernel' && !out.kernel) out.kernel = readDataset(c);
            else if (base === 'recurrent_kernel' && !out.recurrent) out.recurrent = readDataset(c);
            else if (base === 'bias' && !out.bias) out.bias = readDataset(c);
          } else if (isGroup(c) && depth < 8) walk(c, depth + 1);
        }
      };
      walk(g, 0);
      return out;
    },
  };
}
