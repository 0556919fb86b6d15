/**
 * `lstm-vae reconstruct`: the model's reconstruction of each point (or text line).
 */

import { AnomalyDetector } from '../../detect/detector.js';
import { pointReconstructions, scoreWindows } from '../../detect/scores.js';
import { type DataOptions, prepareContinuous } from '../continuous.js';
import { readDetectorInput, scoreRows } from '../detector.js';
import { UsageError } from '../errors.js';
import { readInput } from '../input.js';
import { csvLine, writeOutput } from '../output.js';
import { loadModel, modelMode } from '../shared.js';

export interface ReconstructOptions extends DataOptions {
  out?: string;
}

export async function reconstruct(modelFile: string, dataFile: string, o: ReconstructOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  if (modelMode(lm.model) === 'tokens') {
    const input = readInput(dataFile);
    if (input.kind !== 'text') throw new UsageError(`${modelFile} is a token model; reconstruct a .txt file`);
    // Greedy decoding from each sequence's posterior mean.
    const tok = lm.model.tokenizer!;
    const out: string[] = [];
    for (let a = 0; a < input.lines.length; a += 256) {
      const part = input.lines.slice(a, a + 256);
      const enc = tok.encodeBatch(part);
      const { mu } = lm.model.encode(enc);
      const ids = lm.model.generate({ n: part.length, greedy: true, maxLength: enc.shape[1] + 8, z: mu });
      for (const s of ids) out.push(tok.decode(s));
    }
    let csv = csvLine(['line', 'sequence', 'reconstruction']);
    input.lines.forEach((l, i) => (csv += csvLine([i + 1, l, out[i]])));
    await writeOutput(o.out, csv);
    lm.model.dispose();
    return;
  }
  if (lm.model.metadata.detector !== undefined) {
    // A detector: each row's reconstruction is the median over the saved windows that hold it, in the input's units.
    const det = AnomalyDetector.fromModel(lm.model);
    try {
      const input = readDetectorInput(lm.model, modelFile, dataFile, o, {});
      const r = scoreRows(det, input);
      const s = input.segments[0];
      const D = input.features;
      let csv = csvLine([input.timestampColumn ?? 'index', ...input.columns, ...input.columns.map((c) => `${c}_reconstructed`), 'score']);
      for (let t = 0; t < s.n; t++) {
        csv += csvLine([
          s.timestamps ? s.timestamps[t] : t,
          ...Array.from(s.data.subarray(t * D, (t + 1) * D)),
          ...Array.from(r.reconstruction.subarray(t * D, (t + 1) * D)),
          r.scores[t],
        ]);
      }
      await writeOutput(o.out, csv);
      if (o.out && o.out !== '-') process.stdout.write(`reconstructed ${s.n} rows → ${o.out}\n`);
    } finally {
      det.dispose();
    }
    return;
  }
  const { input, segments, ws } = prepareContinuous(lm, dataFile, o);
  const sc = scoreWindows(lm.model, ws.x, { recon: true });
  const D = input.features;
  const recon = pointReconstructions(ws, sc.recon!, segments, D).map((r) => (lm.normalizer ? lm.normalizer.inverse(r) : r));
  const asJson = o.out !== undefined && /\.(json|ndjson|jsonl)$/i.test(o.out);
  if (asJson || input.kind !== 'csv') {
    const seqs = recon.map((r, i) =>
      Array.from({ length: segments[i].n }, (_, t) =>
        D === 1 ? Number(r[t].toPrecision(7)) : Array.from(r.subarray(t * D, (t + 1) * D), (v) => Number(v.toPrecision(7))),
      ),
    );
    const text =
      o.out && /\.(ndjson|jsonl)$/i.test(o.out) ? seqs.map((s) => JSON.stringify(s)).join('\n') + '\n' : JSON.stringify(seqs) + '\n';
    await writeOutput(o.out, text);
  } else {
    const ts = input.timestampColumn;
    const times = input.segments[0].timestamps;
    let csv = csvLine([ts ?? 'index', ...input.columns, ...input.columns.map((c) => `${c}_reconstructed`), 'squared_error']);
    const x = input.segments[0].data;
    const r = recon[0];
    const xn = segments[0].data;
    const rn = lm.normalizer ? lm.normalizer.transform(r) : r;
    for (let t = 0; t < segments[0].n; t++) {
      let e = 0;
      for (let k = 0; k < D; k++) e += (xn[t * D + k] - rn[t * D + k]) ** 2;
      csv += csvLine([
        times ? times[t] : t,
        ...Array.from(x.subarray(t * D, (t + 1) * D)),
        ...Array.from(r.subarray(t * D, (t + 1) * D)),
        e,
      ]);
    }
    await writeOutput(o.out, csv);
  }
  if (o.out && o.out !== '-') process.stdout.write(`reconstructed ${segments.reduce((a, s) => a + s.n, 0)} points → ${o.out}\n`);
  lm.model.dispose();
}
