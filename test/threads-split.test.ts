// Large problems must be split between threads. On wasm32 a work estimate such as B·T·4H·H is a
// 32-bit product: at B = T = 128, H = 256 it was exactly 2³², wrapped to 0 and silently ran the
// whole LSTM on one thread. The kernels count the parallel regions they enter; these tests run the
// raw simd-mt kernels with a pool of 2 threads and check that the count grows.
import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
// the benchmark's loader of a raw build (its wasm-bindgen glue plus kernel threads from dist/worker.node.js)
// @ts-expect-error plain JavaScript without type declarations
import { loadRaw, disposeRaw } from '../bench/lib/kernels.mjs';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

describe('threads on large problems (simd-mt, 2 threads)', () => {
  afterAll(() => disposeRaw());

  it('splits the LSTM forward and backward time loops at B = T = 128, H = 256 (B·T·4H·H = 2³²)', async () => {
    const { glue, memory } = await loadRaw(root, 'simd-mt');
    glue.set_threads(2);
    const [B, T, I, H] = [128, 128, 1, 256];
    const len = { x: B * T * I, wih: 4 * H * I, whh: 4 * H * H, b: 4 * H, seq: B * T * H, g: B * T * 4 * H };
    const p = {
      x: glue.alloc_f32(len.x),
      wih: glue.alloc_f32(len.wih),
      whh: glue.alloc_f32(len.whh),
      bih: glue.alloc_f32(len.b),
      bhh: glue.alloc_f32(len.b),
      hs: glue.alloc_f32(len.seq),
      cs: glue.alloc_f32(len.seq),
      g: glue.alloc_f32(len.g),
      dhs: glue.alloc_f32(len.seq),
      dwih: glue.alloc_f32(len.wih),
      dwhh: glue.alloc_f32(len.whh),
      dbih: glue.alloc_f32(len.b),
      dbhh: glue.alloc_f32(len.b),
    };
    try {
      // an input that varies over time (a constant one is projected once per sequence: a smaller GEMM)
      new Float32Array(memory.buffer, p.x, len.x).forEach((_, i, a) => {
        a[i] = (i % 7) / 7;
      });
      glue.take_parallel_regions();
      glue.lstm_forward(B, T, I, H, p.x, 0, p.wih, p.whh, p.bih, p.bhh, 0, 0, p.hs, p.cs, p.g, 0, 0);
      // the input projection GEMM (16384 × 1024 × 1) and the time loop; with the overflow only the GEMM was split
      expect(glue.take_parallel_regions()).toBe(2);
      glue.lstm_backward(B, T, I, H, p.x, 0, p.wih, p.whh, 0, 0, p.hs, p.cs, p.g, p.dhs, 0, 0, 0, 0, 0, p.dwih, p.dwhh, p.dbih, p.dbhh);
      // the time loop and the two weight-gradient GEMMs (dW_hh's M·N·K is 2³² too); with the overflow only dW_ih was split
      expect(glue.take_parallel_regions()).toBe(3);
    } finally {
      glue.free_f32(p.x, len.x);
      glue.free_f32(p.wih, len.wih);
      glue.free_f32(p.whh, len.whh);
      glue.free_f32(p.bih, len.b);
      glue.free_f32(p.bhh, len.b);
      for (const k of ['hs', 'cs', 'dhs'] as const) glue.free_f32(p[k], len.seq);
      glue.free_f32(p.g, len.g);
      glue.free_f32(p.dwih, len.wih);
      glue.free_f32(p.dwhh, len.whh);
      glue.free_f32(p.dbih, len.b);
      glue.free_f32(p.dbhh, len.b);
    }
  }, 60_000);

  it('splits a GEMM whose M·N·K is 2³² (2048 × 2048 × 1024)', async () => {
    const { glue } = await loadRaw(root, 'simd-mt');
    glue.set_threads(2);
    const [M, N, K] = [2048, 2048, 1024];
    const a = glue.alloc_f32(M * K),
      b = glue.alloc_f32(K * N),
      c = glue.alloc_f32(M * N);
    try {
      glue.take_parallel_regions();
      glue.sgemm(false, false, M, N, K, 1, a, K, b, N, 0, c, N);
      expect(glue.take_parallel_regions()).toBe(1);
      // and a small one is not split
      glue.sgemm(false, false, 8, 8, 8, 1, a, 8, b, 8, 0, c, 8);
      expect(glue.take_parallel_regions()).toBe(0);
    } finally {
      glue.free_f32(a, M * K);
      glue.free_f32(b, K * N);
      glue.free_f32(c, M * N);
    }
  }, 60_000);
});
