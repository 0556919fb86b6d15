// Hand-built safetensors files for the format tests: the 8-byte little-endian header length, the
// header bytes as given (not padded, not checked) and a data buffer.

/**
 * A file of `header` (text or bytes) and `data` (bytes, or that many zero bytes). `headerLength`
 * overrides the length written in the first 8 bytes (to test lengths that lie).
 */
export function rawSafetensors(header: string | Uint8Array, data: Uint8Array | number = 0, headerLength?: bigint): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

/** The header length a file's first 8 bytes give. */
export function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
}
