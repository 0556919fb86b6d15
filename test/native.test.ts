// The native Node backend (native/, docs/native.md): chosen by default when its binary loads, the
// same answers as the WebAssembly builds within the fixtures' tolerances, bit-identical on 1 and 2
// threads, and a missing or broken binary is one notice and a working WebAssembly model.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendError, backendInfo, dispose, init, LstmVae, matmul, memoryBytes, setThreads } from '../dist/index.node.js';
import { fixedData, fixedRun } from './shared/fixed-run.js';
import { NATIVE_BUILT } from './shared/native.js';
import { matmulRelError, randomFloats, sameBits } from './shared/numeric.js';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const target = `${process.platform}-${process.arch}`;
const binary = join(dist, 'native', target, 'lstm_vae_native.node');
// scripts/build-native skips (with a line saying why) when it cannot build; CI sets LSTM_VAE_REQUIRE_NATIVE=1
const required = process.env.LSTM_VAE_REQUIRE_NATIVE === '1';
const present = NATIVE_BUILT;
if (!present) console.log(`native tests skipped: ${binary} not built (scripts/build-native says why)`);

describe.runIf(present || required)(`the native build (${target})`, () => {
  afterAll(() => dispose());

  it('is the default in Node when its binary loads, and says why', async () => {
    expect(present).toBe(true);
    await dispose();
    const info = await init();
    expect(info.build).toBe('native');
    expect(info.features).toMatch(/^native,(x86_64|aarch64)/);
    expect(info.reasons[0]).toMatch(/^native: .*lstm_vae_native\.node loaded/);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(backendInfo().build).toBe('native');
    expect(await init({ build: 'native' })).toEqual(info);
  });

  it('matmul equals a float64 reference (relative error < 1e-5), bit-identical on 1 and 2 threads', async () => {
    await dispose();
    await init({ build: 'native', threads: 2 });
    for (const [m, n, k] of [
      [1, 1, 1],
      [1, 9, 5],
      [9, 1, 5],
      [37, 29, 131],
      [130, 257, 129],
      [256, 256, 256],
      [300, 200, 500],
    ]) {
      const a = randomFloats(m * k, m + n),
        b = randomFloats(k * n, k);
      setThreads(1);
      const one = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
      setThreads(2);
      const two = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
      expect(matmulRelError(two.data, a, b, m, n, k), `${m}x${n}x${k}`).toBeLessThan(1e-5);
      expect(sameBits(two.data, one.data), `${m}x${n}x${k} on 1 and 2 threads`).toBe(true);
    }
  });

  it('a fixed-seed run and a training step of the M model (B64 T64 D8 H128 Z16) are bit-identical on 1 and 2 threads', async () => {
    await dispose();
    await init({ build: 'native', threads: 2 });
    setThreads(1);
    const one = await fixedRun({ LstmVae });
    setThreads(2);
    const two = await fixedRun({ LstmVae });
    expect(two.losses).toEqual(one.losses);
    expect(two.weightsHash).toBe(one.weightsHash);
    expect(one.losses.every(Number.isFinite)).toBe(true);

    const x = fixedData(64, 64, 8);
    const step = async (threads: number) => {
      setThreads(threads);
      const m = new LstmVae({ features: 8, hidden: 128, latent: 16, seed: 3 });
      const h = await m.fit(x, { epochs: 1, batchSize: 64 });
      const w = m.stateDict();
      m.dispose();
      return { loss: h.epochs[0].loss, w };
    };
    const a = await step(1);
    const b = await step(2);
    expect(b.loss).toBe(a.loss);
    for (const k of Object.keys(a.w)) expect(sameBits(b.w[k].data, a.w[k].data), k).toBe(true);
  });

  it('more threads than the pool (made by the first init) has: the work is split as asked, on the pool, same bits', async () => {
    await dispose();
    const pool = Math.max(2, (await init({ build: 'native' })).threads); // this process's pool: its first init
    await dispose();
    const info = await init({ build: 'native', threads: pool + 1 });
    expect(info.threads).toBe(pool + 1);
    expect(info.reasons).toContain(`threads: ${pool + 1} tasks share the process's pool of ${pool} threads (made by the first init)`);
    const a = randomFloats(300 * 500, 1),
      b = randomFloats(500 * 200, 2);
    const many = matmul({ data: a, shape: [300, 500] }, { data: b, shape: [500, 200] });
    setThreads(1);
    const one = matmul({ data: a, shape: [300, 500] }, { data: b, shape: [500, 200] });
    expect(sameBits(many.data, one.data)).toBe(true);
  });

  it('the arena grows with use and starts empty again after dispose()', async () => {
    await dispose();
    await init({ build: 'native' });
    const before = memoryBytes();
    const m = new LstmVae({ features: 8, hidden: 256, latent: 32, seed: 1 });
    await m.fit(fixedData(128, 64, 8), { epochs: 1, batchSize: 128 });
    expect(memoryBytes()).toBeGreaterThan(0);
    expect(memoryBytes()).toBeGreaterThanOrEqual(before);
    await dispose();
    await init({ build: 'native' });
    expect(memoryBytes()).toBe(0);
    const again = new LstmVae({ features: 3, hidden: 20, latent: 4, layers: 2, seed: 7 });
    expect(again.weightsFinite()).toBe(true);
    again.dispose();
  });
});

/** Runs a small script against dist/ in a fresh Node (the loader's choice is made once per process). */
function child(code: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }> {
  const script = `import * as lv from ${JSON.stringify(join(dist, 'index.node.js'))};\n${code}`;
  return new Promise((ok) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env: { ...process.env, LSTM_VAE_BUILD: '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => ok({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 }),
    );
  });
}

/** Inits twice (notice once), fits a small model, prints backendInfo and the losses. */
const FIT = `
const info = await lv.init();
await lv.dispose();
await lv.init();
const m = new lv.LstmVae({ features: 2, hidden: 12, latent: 3, seed: 2 });
const data = new Float32Array(16 * 8 * 2).map((_, i) => Math.sin(i * 0.3));
const h = await m.fit({ data, shape: [16, 8, 2] }, { epochs: 2, batchSize: 8 });
console.log(JSON.stringify({ info, losses: h.epochs.map((e) => e.loss) }));
`;

describe('the native loader falls back to WebAssembly', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lstm-vae-native-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const cases: [string, () => string, RegExp][] = [
    ['the binary is missing', () => join(tmp, 'absent', 'lstm_vae_native.node'), /no native binary for .* not found/],
    [
      'the binary fails to load (a corrupt file)',
      () => {
        const f = join(tmp, 'corrupt.node');
        writeFileSync(f, 'not a shared library\n'.repeat(100));
        return f;
      },
      /the native binary .*corrupt\.node failed to load/,
    ],
  ];
  it.each(cases)('%s: one notice, a WebAssembly build, a model that trains', async (_, file, reason) => {
    const r = await child(FIT, { LSTM_VAE_NATIVE: file(), LSTM_VAE_DEBUG: '1' });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    expect(['simd', 'simd-mt', 'relaxed-mt']).toContain(out.info.build);
    expect(out.info.reasons[0]).toMatch(/^native not used: /);
    expect(out.info.reasons[0]).toMatch(reason);
    const notices = r.stderr.split('\n').filter((l) => l.includes('native backend not used'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(reason);
    expect(out.losses).toHaveLength(2);
    expect(out.losses.every(Number.isFinite)).toBe(true);
  });

  it("LSTM_VAE_NATIVE=off: WebAssembly, and init({ build: 'native' }) is a BackendError", async () => {
    const r = await child(
      `const e = await lv.init({ build: 'native' }).catch((e) => e);
console.log(JSON.stringify({ name: e.name, isBackend: e instanceof lv.BackendError, message: e.message, info: await lv.init() }));`,
      { LSTM_VAE_NATIVE: 'off' },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    expect(out.isBackend).toBe(true);
    expect(out.message).toMatch(/native build is not available here: turned off by LSTM_VAE_NATIVE=off/);
    expect(out.info.build).not.toBe('native');
  });

  it('LSTM_VAE_BUILD names the build when options.build does not; an unknown name is a ConfigError', async () => {
    const r = await child(
      `const info = await lv.init();
await lv.dispose();
process.env.LSTM_VAE_BUILD = 'avx';
const e = await lv.init().catch((e) => e);
console.log(JSON.stringify({ info, error: e.name }));`,
      { LSTM_VAE_BUILD: 'simd' },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    expect(out.info.build).toBe('simd');
    expect(out.info.reasons[0]).toBe('build simd: chosen by LSTM_VAE_BUILD');
    expect(out.error).toBe('ConfigError');
  });

  it("init({ build: 'native' }) in this process: loads it when present, a BackendError otherwise", async () => {
    await dispose();
    if (present) expect((await init({ build: 'native' })).build).toBe('native');
    else await expect(init({ build: 'native' })).rejects.toThrowError(BackendError);
    await dispose();
  });
});
