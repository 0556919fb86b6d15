// `npm run interop:ddp`: the PyTorch DistributedDataParallel round trip (docs/scale-out.md).
//
//   node scripts/interop-ddp/run.mjs [--keep]
//
// 1. here: lstm-vae trains a small continuous model (a few hundred Adam steps) and writes a checkpoint
// 2. torchrun --nproc_per_node 2 scripts/interop-ddp/train_ddp.py continues training with DDP (gloo, CPU)
// 3. here: the file loads, the loss kept falling, our forward equals PyTorch's, fit resumes from it, it scores
// Without torch only the light half runs (1, and the file checks that need no torch); it says why and exits 0.
// Exits 1 if a check fails. The temporary folder is removed unless --keep (or a failure).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, light, report, STEP_CHECK, stepArgs, stepCheck, torchArgs, torchProblem, torchrun, train } from './node.mjs';

const keep = process.argv.includes('--keep');
const dir = mkdtempSync(join(tmpdir(), 'lstm-vae-ddp-'));
let ok = true;
console.log(`lstm-vae -> PyTorch DDP (2 processes) -> lstm-vae (folder ${dir})\n\n1. train here`);
await train(dir);
ok = report(await light(dir)) && ok;
const problem = torchProblem();
if (problem) {
  console.log(
    `\n2-3. not run: ${problem}.\n     The light half ran (training here and the file checks that need no torch); ` +
      'pip install torch safetensors to run the 2-process round trip.',
  );
} else {
  console.log('\n2. torchrun --standalone --nproc_per_node 2 scripts/interop-ddp/train_ddp.py (gloo, CPU)');
  const r = torchrun(torchArgs(dir), { inherit: true });
  console.log(`\n   and ${STEP_CHECK} steps on the first batches in file order with eps = 0, for the step check`);
  const s = torchrun(stepArgs(dir));
  if (r.status !== 0 || s.status !== 0) {
    const why = (x) => `${x.status}${x.error ? ` (${x.error.message})` : ''}`;
    console.log(`   FAIL torchrun exited with ${why(r)}, ${why(s)}\n${s.stderr.slice(-2000)}`);
    ok = false;
  } else {
    console.log('\n3. back here');
    ok = report([...(await after(dir)), ...(await stepCheck(dir))]) && ok;
  }
}
console.log(`\n${ok ? (problem ? 'light half passed (PyTorch half not run)' : 'all DDP round-trip checks passed') : 'FAILED'}`);
if (keep || !ok) console.log(`files kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
