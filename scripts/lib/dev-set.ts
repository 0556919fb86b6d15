// The development set the detector's defaults were chosen on, as the evaluation scripts load it: NAB
// artificialWithAnomaly, realKnownCause and artificialNoAnomaly (from ../shared/data or --data), the sensor network
// (npm), and seeded synthetic series (5 kinds × 3, seeds 1000 + 100·kind + i).
import { join } from 'node:path';
import { dataRoot, listNab, loadNabFile, loadSensorNetwork } from '../../src/data/datasets.js';
import { type AnomalyKind, synthetic } from '../../src/data/synthetic.js';
import { labelRuns } from '../../src/detect/intervals.js';

export const FAMILIES = ['artificialWithAnomaly', 'realKnownCause', 'artificialNoAnomaly', 'sensor', 'synthetic'];
export const KINDS: AnomalyKind[] = ['spike', 'level', 'shape', 'frequency', 'amplitude'];

export interface Series {
  name: string;
  input: { data: ArrayLike<number>; shape: [number, number] };
  /** Labelled intervals (inclusive rows) and point labels. */
  windows: Array<[number, number]>;
  labels: Uint8Array;
  /** The file (NAB series): `eval:nab` reads it as \`lstm-vae train\` does (its reader and time grid). */
  file?: string;
}

function labelsFromWindows(n: number, windows: Array<[number, number]>): Uint8Array {
  const labels = new Uint8Array(n);
  for (const [a, b] of windows) labels.fill(1, a, b + 1);
  return labels;
}

export /** The series of a family (loaded lazily, one family at a time). */
function familySeries(family: string, data: string | undefined, quick: boolean): Series[] {
  if (family === 'sensor') {
    return loadSensorNetwork().motes.map((m) => ({
      name: `mote ${m.moteId}`,
      input: { data: m.data, shape: m.shape },
      windows: labelRuns(m.labels),
      labels: m.labels,
    }));
  }
  if (family === 'synthetic') {
    return KINDS.flatMap((kind, k) =>
      Array.from({ length: quick ? 2 : 3 }, (_, i) => {
        const s = synthetic(1000 + 100 * k + i, { kinds: [kind] });
        return {
          name: `${kind} ${s.name}`,
          input: { data: s.data, shape: [s.n, s.d] as [number, number] },
          windows: s.windows,
          labels: s.labels,
        };
      }),
    );
  }
  return listNab(data, family).map((rel) => {
    const f = loadNabFile(data, rel);
    return {
      name: rel,
      file: join(dataRoot(data), 'nab', ...rel.split('/')),
      input: { data: f.values, shape: [f.values.length, 1] as [number, number] },
      windows: f.windows,
      labels: labelsFromWindows(f.values.length, f.windows),
    };
  });
}
