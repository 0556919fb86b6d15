// The development set the detector's defaults were chosen on, as the evaluation scripts load it: NAB
// artificialWithAnomaly, realKnownCause and artificialNoAnomaly (from ../shared/data or --data), the sensor network
// (npm), and seeded synthetic series (5 kinds × 3, seeds 1000 + 100·kind + i).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { readInput } from '../../src/cli/input.js';
import { readCsv } from '../../src/data/csv.js';
import { dataRoot, listNab, loadNabFile, loadSensorNetwork } from '../../src/data/datasets.js';
import { type AnomalyKind, synthetic } from '../../src/data/synthetic.js';
import { wideSynthetic } from '../../src/data/synthetic-wide.js';
import { labelRuns } from '../../src/detect/intervals.js';

export const FAMILIES = ['artificialWithAnomaly', 'realKnownCause', 'artificialNoAnomaly', 'sensor', 'synthetic'];
/**
 * Development families run only when named (`--family wide --family wide-clean`): wide tables whose anomalies are each
 * in one column (src/data/synthetic-wide.ts, seeds 2001–2008), and the same tables without their anomalies (false
 * alarms). Added 2026-12-04; the column bars (src/detect/columns.ts) were chosen on them and the sensor network.
 */
export const EXTRA_FAMILIES = ['wide', 'wide-clean'];
/** Families of series without anomalies: `eval:nab` reports their false-alarm intervals. */
export const CLEAN_FAMILIES = ['artificialNoAnomaly', 'wide-clean'];
export const KINDS: AnomalyKind[] = ['spike', 'level', 'shape', 'frequency', 'amplitude'];

export interface Series {
  name: string;
  input: { data: ArrayLike<number>; shape: [number, number] };
  /** Labelled intervals (inclusive rows) and point labels. */
  windows: Array<[number, number]>;
  labels: Uint8Array;
  /** The file (NAB series): `eval:nab` reads it as \`lstm-vae train\` does (its reader and time grid). */
  file?: string;
  /**
   * A training file without anomalies (GutenTAG's `train_no_anomaly.csv` beside a `test.csv`): the detector is fitted
   * on it and scores the series, as `lstm-vae train TRAIN` then `lstm-vae score MODEL FILE` do. Without it the
   * series is fitted whole and scored (Orion's unsupervised protocol).
   */
  train?: string;
}

function labelsFromWindows(n: number, windows: Array<[number, number]>): Uint8Array {
  const labels = new Uint8Array(n);
  for (const [a, b] of windows) labels.fill(1, a, b + 1);
  return labels;
}

/** The family name `eval:nab --csv DIR` gives a folder of labelled CSV files. */
export const CSV_FAMILY = 'csv:';

/** GutenTAG's training files: not series to score, but what the `test.csv` beside them is fitted on. */
const TRAIN_FILES = ['train_no_anomaly.csv', 'train_anomaly.csv'];

/**
 * Every CSV file under `dir` (recursively, in name order; GutenTAG writes `<name>/test.csv`) that has a column of
 * 0/1 labels (`is_anomaly`, `label`, … as `lstm-vae train` finds them): a held-out series read as the CLI reads it,
 * the label column left out of the values. A file without labels is an error, not a series without anomalies: write
 * a label column of zeros for those. GutenTAG's training files are not series of their own: a `test.csv` with a
 * `train_no_anomaly.csv` beside it gets it as `train` (fitted on it, then scored).
 */
export function labelledCsvSeries(dir: string): Series[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const f = join(d, e);
      if (statSync(f).isDirectory()) walk(f);
      else if (e.toLowerCase().endsWith('.csv') && !TRAIN_FILES.includes(e.toLowerCase())) files.push(f);
    }
  };
  walk(dir);
  if (files.length === 0) throw new Error(`no .csv file under ${dir}`);
  return files.map((file) => {
    const input = readInput(file, { missing: 'nan', findLabels: true });
    if (input.kind !== 'csv' || !input.labelColumns?.length || input.text === undefined)
      throw new Error(`${file}: no column of 0/1 labels (is_anomaly, label, …); a held-out series needs its labels`);
    const l = readCsv(input.text, { columns: input.labelColumns.slice(0, 1), timestamp: false });
    const labels = Uint8Array.from(l.data, (v) => (v === 1 ? 1 : 0));
    const seg = input.segments[0];
    const train = join(dirname(file), TRAIN_FILES[0]);
    return {
      name: relative(dir, file),
      file,
      ...(basename(file).toLowerCase() === 'test.csv' && existsSync(train) ? { train } : {}),
      input: { data: seg.data, shape: [seg.n, input.features] as [number, number] },
      windows: labelRuns(labels),
      labels,
    };
  });
}

export /** The series of a family (loaded lazily, one family at a time). */
function familySeries(family: string, data: string | undefined, quick: boolean): Series[] {
  if (family.startsWith(CSV_FAMILY)) return labelledCsvSeries(family.slice(CSV_FAMILY.length));
  if (family === 'sensor') {
    return loadSensorNetwork().motes.map((m) => ({
      name: `mote ${m.moteId}`,
      input: { data: m.data, shape: m.shape },
      windows: labelRuns(m.labels),
      labels: m.labels,
    }));
  }
  if (family === 'wide' || family === 'wide-clean') {
    return Array.from({ length: quick ? 4 : 8 }, (_, i) => {
      const s = wideSynthetic(2001 + i, family === 'wide' ? {} : { anomalies: 0 });
      return {
        name: `${s.name} (${s.d} columns; ${s.anomalies.map((a) => `${a.kind} in ${s.columns[a.column]} column ${a.column}`).join(', ') || 'no anomalies'})`,
        input: { data: s.data, shape: [s.n, s.d] as [number, number] },
        windows: s.windows,
        labels: s.labels,
      };
    });
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
