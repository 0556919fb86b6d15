// The native backend's loader (Node only: imported by ./node.ts, never by the browser entry).
// The same kernels compiled for the host CPU and loaded through Node-API; see docs/native.md.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { GLUES, type KernelGlue, WASM_ONLY } from './glue.js';

/** Must equal ABI_VERSION in native/src/lib.rs: a binary from another version is not loaded. */
export const NATIVE_ABI = 1;

/** What the native module exports: the kernels under the names of the WebAssembly builds, and its arena. */
export interface NativeGlue extends KernelGlue {
  abi_version(): number;
  /** The GEMM micro-kernel in use on this CPU and why (e.g. "avx2: the CPU has AVX2 and FMA, not AVX-512F"). */
  gemm_isa(): string;
  /** The arena as one external ArrayBuffer (once per realm: V8 refuses two over the same memory). */
  arena_buffer(): ArrayBuffer;
  /** Bytes of the arena in use so far (grows, never shrinks until the last backend releases it). */
  arena_used(): number;
  /** A backend starts using the arena. */
  arena_acquire(): void;
  /** A backend is disposed: the last one to go empties the arena (like dropping a WebAssembly instance). */
  arena_release(): void;
}

export type NativeLoad = { ok: true; glue: NativeGlue; buffer: ArrayBuffer; file: string } | { ok: false; reason: string };

/** `<platform>-<arch>` of this process, the folder of its binary under dist/native (e.g. linux-x64). */
export function nativeTarget(): string {
  return `${process.platform}-${process.arch}`;
}

/** Where the binary of this platform lies next to the bundle (dist/native/<platform>-<arch>/). */
export function nativeFile(): string {
  return fileURLToPath(new URL(`./native/${nativeTarget()}/lstm_vae_native.node`, import.meta.url));
}

/** Kernel functions the native module lacks (by the names the WebAssembly glue exports). */
export function missingKernels(mod: Record<string, unknown>): string[] {
  const skip = new Set<string>(WASM_ONLY);
  return Object.keys(GLUES.simd).filter(
    (k) => !skip.has(k) && typeof (GLUES.simd as unknown as Record<string, unknown>)[k] === 'function' && typeof mod[k] !== 'function',
  );
}

let loaded: NativeLoad | undefined;

/**
 * Loads the native module once per realm: `LSTM_VAE_NATIVE` may name another file, or be `off`
 * (or `0`) to never load it. The result (success or the reason for failure) is kept.
 */
export function loadNative(): NativeLoad {
  if (!loaded) loaded = tryLoad();
  return loaded;
}

function tryLoad(): NativeLoad {
  const env = process.env.LSTM_VAE_NATIVE;
  if (env === 'off' || env === '0') return { ok: false, reason: `turned off by LSTM_VAE_NATIVE=${env}` };
  let file: string;
  try {
    file = env ? env : nativeFile();
  } catch (e) {
    return { ok: false, reason: `no native binary next to this bundle (${(e as Error).message})` };
  }
  if (!existsSync(file)) return { ok: false, reason: `no native binary for ${nativeTarget()} (${file} not found)` };
  let mod: Record<string, unknown>;
  try {
    mod = createRequire(import.meta.url)(file) as Record<string, unknown>;
  } catch (e) {
    return { ok: false, reason: `the native binary ${file} failed to load: ${firstLine(e)}` };
  }
  const abi = typeof mod.abi_version === 'function' ? (mod.abi_version as () => unknown)() : undefined;
  if (abi !== NATIVE_ABI) return { ok: false, reason: `the native binary ${file} has ABI ${String(abi)}, this bundle needs ${NATIVE_ABI}` };
  const missing = missingKernels(mod);
  if (missing.length > 0) return { ok: false, reason: `the native binary ${file} lacks ${missing.join(', ')}` };
  const glue = mod as unknown as NativeGlue;
  let buffer: ArrayBuffer;
  try {
    buffer = glue.arena_buffer();
  } catch (e) {
    return { ok: false, reason: `the native arena could not be mapped: ${firstLine(e)}` };
  }
  return { ok: true, glue, buffer, file };
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
