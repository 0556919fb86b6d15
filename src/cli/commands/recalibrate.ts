/**
 * `lstm-vae recalibrate`: a detector's bars (threshold, point error bar, latent statistics and bars) set again from
 * a series it should find normal, with its weights as they are; the file is rewritten atomically.
 */

import { AnomalyDetector } from '../../detect/detector.js';
import type { DetectorPlan } from '../../detect/plan.js';
import { readDetectorInput } from '../detector.js';
import { UsageError } from '../errors.js';
import { gridOf } from '../grid.js';
import { writeOutput } from '../output.js';
import { fmt } from '../progress.js';
import { initBackend, loadModel } from '../shared.js';

export interface RecalibrateOptions {
  out?: string;
  /** false: drop the latent score; true: add it; undefined: as the detector has it. */
  latentScore?: boolean;
  /** false: drop the correction of the last window's rows; true: add it; undefined: as the detector has it. */
  tailCorrection?: boolean;
  quiet?: boolean;
}

function bars(p: DetectorPlan): string {
  const parts = [`threshold ${fmt(p.threshold)}`];
  if (p.pointThreshold !== undefined) parts.push(`point error bar ${fmt(p.pointThreshold)}`);
  parts.push(p.latent ? `latent bar ${fmt(p.latent.threshold)}` : 'no latent score');
  parts.push(p.tail ? "the last window's rows corrected" : "the last window's rows as they come");
  return parts.join(', ');
}

export async function recalibrate(modelFile: string, dataFile: string, o: RecalibrateOptions): Promise<void> {
  await initBackend();
  const lm = await loadModel(modelFile);
  if (lm.model.metadata.detector === undefined) {
    lm.model.dispose();
    throw new UsageError(`${modelFile} is not an anomaly detector; train one with \`lstm-vae train data.csv --out detector.safetensors\``);
  }
  const det = AnomalyDetector.fromModel(lm.model);
  try {
    const before = det.plan;
    const input = readDetectorInput(det.model, modelFile, dataFile, { quiet: o.quiet }, {});
    const interval = (det.model.metadata.cliInput as { interval?: number } | undefined)?.interval;
    const grid = gridOf(input, typeof interval === 'number' && interval > 0 ? interval : undefined);
    const after = det.recalibrate(grid.series, {
      ...(o.latentScore === undefined ? {} : { latentScore: o.latentScore }),
      ...(o.tailCorrection === undefined ? {} : { tailCorrection: o.tailCorrection }),
    });
    const out = o.out ?? modelFile;
    await writeOutput(out, det.toSafetensors());
    if (!o.quiet)
      process.stdout.write(
        `recalibrated on ${input.segments[0].n} rows of ${dataFile}: ${bars(before)} → ${bars(after)}; written to ${out}\n`,
      );
  } finally {
    det.dispose();
  }
}
