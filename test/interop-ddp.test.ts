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
  stepCheck,
  torchArgs,
  torchProblem,
  torchrun,
  train,
  trainDetector,
} from '../scripts/interop-ddp/node.mjs';
import { removeTmpDirs, tmpDir } from './shared/node.js';

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

  it('torchrun --nproc_per_node 2 continues training; the file loads here, the loss fell, forwards and steps agree', async (ctx) => {
    const problem = torchProblem();
    if (problem) {
      console.log(`interop-ddp: the PyTorch half is skipped: ${problem} (pip install torch safetensors)`);
      ctx.skip();
      return;
    }
    const r = torchrun(torchArgs(dir, 3), { timeoutMs: 240_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const d = torchrun(detectorArgs(dir, 1), { timeoutMs: 240_000 });
    expect(d.status, `${d.stdout}\n${d.stderr}`).toBe(0);
    const rs = [...(await after(dir, () => {})), ...(await stepCheck(dir)), ...(await afterDetector(dir, () => {}))];
    expect(failed(rs)).toEqual([]);
    expect(rs.length).toBe(9);
  }, 600_000);
});
