// The README's anomaly-detection example: node examples/node/anomaly-detector.mjs (after `npm run build`).
import { init, AnomalyDetector } from 'lstm-vae';

await init();
// a daily-looking signal with a trend, a spike and a flat stretch; NaN marks a missing value
const n = 3000;
const values = Array.from(
  { length: n },
  (_, i) =>
    Math.sin((2 * Math.PI * i) / 60) +
    (2 * i) / n +
    (i === 2100 ? 2.5 : 0) -
    (i >= 1500 && i < 1530 ? Math.sin((2 * Math.PI * i) / 60) : 0),
);
values[1200] = NaN;
const det = await AnomalyDetector.fit(values); // or { data: Float32Array(N*D), shape: [N, D] }
console.log(det.plan.windowReason, '|', det.diagnostics.message);
const r = det.score(values); // scores [N], anomalies [N], intervals, threshold, contributions [N*D]
console.log(r.intervals, r.threshold);
const bytes = det.toSafetensors(); // windows, scaling, model and threshold in one file
const again = AnomalyDetector.fromSafetensors(bytes);
console.log(
  'reloaded scores equal:',
  again.score(values).scores.every((v, i) => v === r.scores[i]),
);
det.dispose();
again.dispose();
