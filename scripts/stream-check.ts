// Streaming = batch on a real NAB series, on every build and the native backend (issue 13): the detector fitted on the series (a short
// training: equality does not depend on how well it learnt), every row pushed through det.stream(), saved and
// restored half-way, each live score compared with det.score's to the last bit.
//   node scripts/run-ts.mjs scripts/stream-check.ts [--data DIR] [--file realKnownCause/nyc_taxi.csv]
import { AnomalyDetector, backendInfo, dispose, init } from 'lstm-vae';
import { loadNabFile } from '../src/data/datasets.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback?: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const file = opt('--file', 'realKnownCause/nyc_taxi.csv')!;
const nab = loadNabFile(opt('--data'), file);
const values = Array.from(nab.values);
let failed = 0;
for (const build of ['simd', 'simd-mt', 'relaxed-mt', 'native'] as const) {
  await dispose();
  try {
    await init({ build });
  } catch (e) {
    console.log(`${build}: not available here (${(e as Error).message})`);
    continue;
  }
  const t0 = performance.now();
  const det = await AnomalyDetector.fit(values, { seed: 1, maxSteps: 20 });
  const batch = det.score(values);
  const live = det.stream();
  const half = Math.floor(values.length / 2);
  const first = live.pushMany(values.slice(0, half).map((v) => [v]));
  const rest = det.stream(live.save()).pushMany(values.slice(half).map((v) => [v]));
  const scored = [...first, ...rest].filter((p) => !p.warmingUp);
  const differ = scored.filter((p) => p.score !== batch.scores[p.index]).length;
  const ok = differ === 0 && scored.length === values.length - live.delay;
  if (!ok) failed++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${backendInfo().build}: ${file}, ${values.length} rows (window ${det.plan.window}, aggregate ${det.plan.aggregate}, delay ${live.delay}); ${scored.length} live scores, ${differ} differ from the batch; restored at row ${half}; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  det.dispose();
}
process.exitCode = failed ? 1 : 0;
