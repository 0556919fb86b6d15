// Types of numeric.js (plain JavaScript shared with the browser suites).
type Floats = ArrayLike<number> & { readonly buffer: ArrayBufferLike; readonly byteOffset: number; readonly byteLength: number };

export function allclose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol?: { rtol?: number; atol?: number }): void;
export function sameBits(a: Floats, b: Floats): boolean;
export function assertSameBits(what: string, got: Floats, want: Floats): void;
export function mulberry32(seed: number): () => number;
export function randomFloats(n: number, seed: number): Float32Array;
export function referenceMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number): Float64Array;
export function matmulRelError(c: ArrayLike<number>, a: Float32Array, b: Float32Array, m: number, n: number, k: number): number;
/** A fixture tensor [shape, flat]. */
export type FixtureTensor = [number[], number[]];
export function f32(t: FixtureTensor): Float32Array;
export function modelFromFixture<M extends { loadStateDict(sd: Record<string, { shape: number[]; data: Float32Array }>): void }>(
  LstmVae: new (config: never) => M,
  c: { config: unknown; params: Record<string, FixtureTensor> },
): M;
