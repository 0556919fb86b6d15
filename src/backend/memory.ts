import { memory, wasm } from './index.js';

/**
 * A float32 (or int32) buffer in WebAssembly memory. Kernels read and write it in place; views are
 * made afresh on each access because the memory may grow (which replaces its ArrayBuffer).
 */
export class WasmBuffer {
  private _ptr: number;
  readonly length: number;
  readonly kind: 'f32' | 'i32';
  constructor(length: number, kind: 'f32' | 'i32' = 'f32') {
    this.length = length;
    this.kind = kind;
    const k = wasm();
    this._ptr = length === 0 ? 0 : kind === 'f32' ? k.alloc_f32(length) : k.alloc_i32(length);
    if (length > 0 && this._ptr === 0) throw new RangeError(`out of WebAssembly memory allocating ${length * 4} bytes`);
  }
  get ptr(): number {
    if (this._ptr < 0) throw new Error('WasmBuffer used after free');
    return this._ptr;
  }
  /** A Float32Array over the buffer (valid until the next allocation). */
  f32(): Float32Array {
    return new Float32Array(memory().buffer, this.ptr, this.length);
  }
  /** An Int32Array over the buffer (valid until the next allocation). */
  i32(): Int32Array {
    return new Int32Array(memory().buffer, this.ptr, this.length);
  }
  /** Copies `src` into the buffer. */
  set(src: ArrayLike<number>, offset = 0): this {
    if (this.kind === 'f32') this.f32().set(src, offset);
    else this.i32().set(src, offset);
    return this;
  }
  /** A copy of the contents (outside WebAssembly memory). */
  toFloat32Array(): Float32Array {
    return this.f32().slice();
  }
  fill(v: number): this {
    if (this.kind === 'f32') this.f32().fill(v);
    else this.i32().fill(v);
    return this;
  }
  free(): void {
    if (this._ptr > 0) {
      const k = wasm();
      if (this.kind === 'f32') k.free_f32(this._ptr, this.length);
      else k.free_i32(this._ptr, this.length);
    }
    this._ptr = -1;
  }
  static from(src: ArrayLike<number>, kind: 'f32' | 'i32' = 'f32'): WasmBuffer {
    return new WasmBuffer(src.length, kind).set(src);
  }
}

/** Runs `f` and frees every buffer it registered, whatever happens. */
export function withBuffers<R>(f: (alloc: (n: number | ArrayLike<number>, kind?: 'f32' | 'i32') => WasmBuffer) => R): R {
  const bufs: WasmBuffer[] = [];
  try {
    return f((n, kind) => {
      const b = typeof n === 'number' ? new WasmBuffer(n, kind) : WasmBuffer.from(n, kind);
      bufs.push(b);
      return b;
    });
  } finally {
    for (const b of bufs) b.free();
  }
}
