/**
 * A small protobuf writer and the subset of ONNX's messages that an exported model needs (ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto and the types they hold), written
 * from the ONNX IR documentation. Only encoding: nothing here parses protobuf.
 *
 * Wire format: each field is a varint key `(field << 3) | wire type`, then a varint (type 0), 4 bytes
 * (type 5, float) or a varint length and that many bytes (type 2: strings, bytes, sub-messages). Repeated
 * scalar fields are written one element per key (unpacked), which every protobuf reader accepts.
 */

const VARINT = 0;
const LEN = 2;
const FIXED32 = 5;

/** Appends protobuf fields to a growing byte buffer. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private n = 0;
  private static readonly text = new TextEncoder();

  private reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  /** An unsigned varint (a non-negative safe integer) or a negative int64 (two's complement, 10 bytes). */
  private varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`internal: varint of ${v}`);
    this.reserve(10);
    if (v < 0) {
      let u = BigInt.asUintN(64, BigInt(v));
      while (u >= 0x80n) {
        this.buf[this.n++] = Number(u & 0x7fn) | 0x80;
        u >>= 7n;
      }
      this.buf[this.n++] = Number(u);
      return;
    }
    while (v >= 0x80) {
      this.buf[this.n++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.n++] = v;
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** An int32, int64 or enum field. */
  int(field: number, v: number): this {
    this.key(field, VARINT);
    this.varint(v);
    return this;
  }

  /** A float field (little-endian fixed32). */
  float(field: number, v: number): this {
    this.key(field, FIXED32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.n, 4).setFloat32(0, v, true);
    this.n += 4;
    return this;
  }

  /** A bytes field, or an embedded message given as its encoding. */
  bytes(field: number, b: Uint8Array): this {
    this.key(field, LEN);
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, s: string): this {
    return this.bytes(field, ProtoWriter.text.encode(s));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

// -------------------------------------------------------------------------------------------------
// ONNX messages (field numbers from the ONNX IR specification)

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** An initializer or attribute tensor. */
export interface Tensor {
  name?: string;
  dims: number[];
  type: DataTypeCode;
  /** Values in row-major order (int64 values must be safe integers). */
  data: Float32Array | Int32Array | number[];
}

/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian values). */
export function encodeTensor(t: Tensor): Uint8Array {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type);
  if (t.name !== undefined) w.string(8, t.name);
  const n = t.data.length;
  const size = t.type === DataType.INT64 ? 8 : 4;
  const raw = new Uint8Array(n * size);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    const v = t.data[i];
    if (t.type === DataType.FLOAT) dv.setFloat32(i * 4, v, true);
    else if (t.type === DataType.INT32) dv.setInt32(i * 4, v, true);
    else dv.setBigInt64(i * 8, BigInt(v), true);
  }
  w.bytes(9, raw);
  return w.finish();
}

/** An attribute value: a number is INT unless `float` is set; number[] is INTS; a string is STRING; a Tensor is TENSOR. */
export type AttrValue = number | number[] | string | { float: number } | { tensor: Tensor };

/** AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, ints = 8, type = 20 (FLOAT 1, INT 2, STRING 3, TENSOR 4, INTS 7). */
function encodeAttribute(name: string, v: AttrValue): Uint8Array {
  const w = new ProtoWriter().string(1, name);
  if (typeof v === 'number') w.int(3, v).int(20, 2);
  else if (typeof v === 'string') w.string(4, v).int(20, 3);
  else if (Array.isArray(v)) {
    for (const i of v) w.int(8, i);
    w.int(20, 7);
  } else if ('float' in v) w.float(2, v.float).int(20, 1);
  else w.bytes(5, encodeTensor(v.tensor)).int(20, 4);
  return w.finish();
}

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, AttrValue>;
}

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
function encodeNode(n: Node): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.bytes(5, encodeAttribute(k, v));
  return w.finish();
}

/** A graph input or output: element type and shape (a string is a symbolic dimension). */
export interface ValueInfo {
  name: string;
  type: DataTypeCode;
  shape: (number | string)[];
  doc?: string;
}

/**
 * ValueInfoProto: name = 1, type = 2 (TypeProto), doc_string = 3. TypeProto: tensor_type = 1;
 * TypeProto.Tensor: elem_type = 1, shape = 2; TensorShapeProto: dim = 1; Dimension: dim_value = 1, dim_param = 2.
 */
function encodeValueInfo(v: ValueInfo): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.bytes(1, dim.finish());
  }
  const tensor = new ProtoWriter().int(1, v.type).bytes(2, shape.finish()).finish();
  const type = new ProtoWriter().bytes(1, tensor).finish();
  const w = new ProtoWriter().string(1, v.name).bytes(2, type);
  if (v.doc !== undefined) w.string(3, v.doc);
  return w.finish();
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  doc?: string;
}

/** GraphProto: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12. */
function encodeGraph(g: Graph): Uint8Array {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.bytes(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, encodeTensor(t));
  if (g.doc !== undefined) w.string(10, g.doc);
  for (const i of g.inputs) w.bytes(11, encodeValueInfo(i));
  for (const o of g.outputs) w.bytes(12, encodeValueInfo(o));
  return w.finish();
}

export interface Model {
  irVersion: number;
  /** Version of the default ('ai.onnx') operator set. */
  opset: number;
  producerName: string;
  producerVersion: string;
  doc?: string;
  graph: Graph;
  /** metadata_props (string → string). */
  metadata?: Record<string, string>;
}

/**
 * ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6, graph = 7,
 * opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2), metadata_props = 14 (StringStringEntryProto:
 * key = 1, value = 2).
 */
export function encodeModel(m: Model): Uint8Array {
  const w = new ProtoWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.doc !== undefined) w.string(6, m.doc);
  w.bytes(7, encodeGraph(m.graph));
  w.bytes(8, new ProtoWriter().string(1, '').int(2, m.opset).finish());
  for (const [k, v] of Object.entries(m.metadata ?? {})) w.bytes(14, new ProtoWriter().string(1, k).string(2, v).finish());
  return w.finish();
}
