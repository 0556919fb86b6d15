// The PyTorch DDP round trip (scripts/interop-ddp, docs/scale-out.md). The light half always runs: lstm-vae
// trains a checkpoint and a detector, and they carry what PyTorch needs (config, normalizer, threshold, Adam
// state of every weight, the detector's plan; train_ddp.py --plan maps them with python3's standard library).
// The PyTorch half (torchrun on 2 processes, gloo, CPU) runs when python3 has torch; without it, it is skipped
// with the reason printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  after,
  afterDetector,
  detectorArgs,
  light,
  lightDetector,
  readSeriesCsv,
  torchDetectorWindows,
  stepCheck,
  torchArgs,
  torchProblem,
  torchrun,
  train,
  trainDetector,
} from '../scripts/interop-ddp/node.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregate, centredWindows, fillMissing, strideStarts } from '../src/detect/preprocess.js';
import { decodeSafetensors } from '../dist/index.node.js';
import { pythonProblem, removeTmpDirs, tmpDir } from './shared/node.js';

let dir: string;
let steps: number;
afterAll(removeTmpDirs);
beforeAll(async () => {
  dir = tmpDir('lstmvae-ddp-');
  steps = (await train(dir, () => {})).steps;
  await trainDetector(dir, () => {});
});

const failed = (rs: { name: string; ok: boolean; detail: string }[]) => rs.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);

describe('PyTorch DDP round trip', () => {
  it('light half: the checkpoint carries config, normalizer, threshold and Adam state, and train_ddp.py --plan maps it', async () => {
    expect(steps).toBeGreaterThanOrEqual(200);
    const rs = [...(await light(dir)), ...(await lightDetector(dir))];
    for (const r of rs) if (r.detail.startsWith('skipped')) console.log(`interop-ddp: ${r.name} ${r.detail}`);
    expect(failed(rs)).toEqual([]);
    expect(rs.length).toBe(4);
  });

  it("light half: train_ddp.py --series makes the detector's windows exactly as the package does (numpy, no torch)", async (ctx) => {
    const problem = pythonProblem(['numpy']);
    if (problem) {
      console.log(`interop-ddp: the windows check is skipped: ${problem}`);
      ctx.skip();
      return;
    }
    const py = torchDetectorWindows(dir);
    expect(py.error).toBeUndefined();
    const { metadata } = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'detector.safetensors'))));
    const p = JSON.parse(metadata.metadata).detector;
    const s = readSeriesCsv(dir);
    const [n, d] = s.shape;
    const x = Float64Array.from(s.data);
    expect(x.some(Number.isNaN)).toBe(true); // the CSV has missing values
    fillMissing(x, n, d);
    const m = Math.floor(n / p.aggregate);
    const a = aggregate(x, n, d, p.aggregate);
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) a[i * d + j] = (a[i * d + j] - p.center[j]) / p.scale[j];
    const ours = centredWindows(a, d, p.window, strideStarts(m, p.window, 1)).data;
    expect(py.shape).toEqual([m - p.window + 1, p.window, d]);
    expect(py.data).toEqual(ours);
  });

  it('torchrun --nproc_per_node 2 continues training; the file loads here, the loss fell, forwards and steps agree', async (ctx) => {
    const problem = torchProblem();
    if (problem) {
      console.log(`interop-ddp: the PyTorch half is skipped: ${problem} (pip install torch safetensors numpy)`);
      ctx.skip();
      return;
    }
    const r = torchrun(torchArgs(dir, 3), { timeoutMs: 240_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const d = torchrun(detectorArgs(dir), { timeoutMs: 240_000 });
    expect(d.status, `${d.stdout}\n${d.stderr}`).toBe(0);
    const rs = [...(await after(dir, () => {})), ...(await stepCheck(dir)), ...(await afterDetector(dir, () => {}))];
    expect(failed(rs)).toEqual([]);
    expect(rs.length).toBe(9);
  }, 600_000);
});
