// `npm run interop:ddp`: the PyTorch DistributedDataParallel round trip (docs/scale-out.md).
//
//   node scripts/interop-ddp/run.mjs [--keep]
//
// 1. here: lstm-vae trains a small continuous model (a few hundred Adam steps) and writes a checkpoint;
//    an anomaly detector (AnomalyDetector.fit, as `lstm-vae train`) is trained on the same series
// 2. torchrun --nproc_per_node 2 scripts/interop-ddp/train_ddp.py continues training each with DDP (gloo, CPU)
// 3. here: the file loads, the loss kept falling, our forward equals PyTorch's, fit resumes from it, it scores,
//    a few steps here equal PyTorch's; the detector keeps its plan and its scores fell
// Without torch only the light half runs (1, and the file checks that need no torch); it says why and exits 0.
// Exits 1 if a check fails. The temporary folder is removed unless --keep (or a failure).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  after,
  afterDetector,
  detectorArgs,
  light,
  lightDetector,
  report,
  stepCheck,
  torchArgs,
  torchProblem,
  torchrun,
  train,
  trainDetector,
} from './node.mjs';

const keep = process.argv.includes('--keep');
const dir = mkdtempSync(join(tmpdir(), 'lstm-vae-ddp-'));
let ok = true;
console.log(`lstm-vae -> PyTorch DDP (2 processes) -> lstm-vae (folder ${dir})\n\n1. train here`);
await train(dir);
await trainDetector(dir);
ok = report([...(await light(dir)), ...(await lightDetector(dir))]) && ok;
const problem = torchProblem();
const why = (x) => `${x.status}${x.error ? ` (${x.error.message})` : ''}`;
if (problem) {
  console.log(
    `\n2-3. not run: ${problem}.\n     The light half ran (training here and the file checks that need no torch); ` +
      'pip install torch safetensors numpy to run the 2-process round trip.',
  );
} else {
  console.log('\n2. torchrun --standalone --nproc_per_node 2 scripts/interop-ddp/train_ddp.py (gloo, CPU): the checkpoint');
  const r = torchrun(torchArgs(dir), { inherit: true });
  console.log('\n   and the detector, on its series');
  const d = torchrun(detectorArgs(dir), { inherit: true });
  if (r.status !== 0 || d.status !== 0) {
    console.log(`   FAIL torchrun exited with ${why(r)}, ${why(d)}`);
    ok = false;
  } else {
    console.log('\n3. back here');
    ok = report([...(await after(dir)), ...(await stepCheck(dir)), ...(await afterDetector(dir))]) && ok;
  }
}
console.log(`\n${ok ? (problem ? 'light half passed (PyTorch half not run)' : 'all DDP round-trip checks passed') : 'FAILED'}`);
if (keep || !ok) console.log(`files kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
