/**
 * Activation buffers in WebAssembly memory, reused across batches.
 */

import { WasmBuffer } from '../backend/memory.js';

/** Buffers reused between calls of the same sizes (freed with the model). */
export class Workspace {
  private bufs = new Map<string, WasmBuffer>();
  get(name: string, n: number, kind: 'f32' | 'i32' = 'f32'): WasmBuffer {
    let b = this.bufs.get(name);
    if (!b || b.length !== n || b.kind !== kind) {
      b?.free();
      b = new WasmBuffer(n, kind);
      this.bufs.set(name, b);
    }
    return b;
  }
  free(): void {
    for (const b of this.bufs.values()) b.free();
    this.bufs.clear();
  }
}
