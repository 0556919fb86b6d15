/**
 * `lstm-vae watch`: live scoring of rows read from stdin (or a file) with a detector's `stream()`: one NDJSON
 * line per row (or, with `--alarms`, one per alarm opened or closed), flushed as it is written; malformed lines are
 * skipped with one warning each. An alarm opens on the first score above the threshold (its start, `padding` points
 * earlier, is known then) and closes once no later score can join it (its end known, with the features and the row that
 * carry its error): the batch score's intervals.
 */

import { existsSync, readFileSync, createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { AnomalyDetector } from '../../detect/detector.js';
import type { DetectorStream, StreamEvent } from '../../detect/stream.js';
import { writeFileAtomicSync } from '../../io/atomic-write.js';
import { UsageError } from '../errors.js';
import { decimalPoint, sniffDelimiter } from '../input.js';
import { loadModel } from '../shared.js';

export interface WatchOptions {
  alarms?: boolean;
  state?: string;
  /** 'saved' (the detector's threshold, default) or 'spot' (an online threshold that follows the scores). */
  threshold?: 'saved' | 'spot';
  input?: string;
}

interface Layout {
  /** Index in a CSV row (or key of an NDJSON object) of each feature, and of the timestamp. */
  columns: Array<number | string>;
  timestamp?: number | string;
  /** CSV: the number of fields of every row (the header's, or the first row's). */
  width?: number;
}

export async function watch(modelFile: string, o: WatchOptions): Promise<void> {
  const lm = await loadModel(modelFile);
  if (lm.model.metadata.detector === undefined) {
    lm.model.dispose();
    throw new UsageError(`${modelFile} is not an anomaly detector; train one with \`lstm-vae train data.csv --out detector.safetensors\``);
  }
  const det = AnomalyDetector.fromModel(lm.model);
  const saved = lm.model.metadata.cliInput as { columns?: string[]; timestamp?: string | null } | undefined;
  const names = saved?.columns ?? det.plan.columns ?? Array.from({ length: det.plan.features }, (_, j) => `column ${j}`);
  const d = det.plan.features;
  let live: DetectorStream;
  const options = { threshold: o.threshold ?? 'saved' } as const;
  if (o.state && existsSync(o.state)) live = det.stream(new Uint8Array(readFileSync(o.state)), options);
  else live = det.stream(undefined, options);
  // timestamps of the last rows: enough to name the rows of a closing interval's end and of an opening one's start
  // (and, while an alarm is open, every row since its start)
  const keepTimes = live.delay + 1 + (Math.max(det.plan.gap, 2 * det.plan.padding) + 1) * det.plan.aggregate;
  const times: string[] = [];
  let lastRow = -1;
  const timeAt = (row: number) => times[times.length - 1 - (lastRow - row)];
  let openedAt: string | undefined;
  /** The first row of the open alarm: its rows' timestamps are kept until it closes (to name its peak). */
  let openRow: number | undefined;
  const alarm = (e: StreamEvent) => {
    const a = e.interval[0];
    const from = timeAt(a) ?? (e.type === 'close' ? openedAt : undefined);
    if (e.type === 'open') {
      openedAt = from;
      openRow = a;
      return { alarm: 'open', start: a, ...(from !== undefined ? { from } : {}) };
    }
    const b = e.interval[1];
    openRow = undefined;
    const to = timeAt(b);
    const top = e.explanation.features.slice(0, 3).filter((f, k) => k === 0 || f.share >= 0.05);
    const peak = e.explanation.steps[0];
    return {
      alarm: 'close',
      interval: [a, b],
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(e.explanation.by ? { by: e.explanation.by } : {}),
      ...(e.explanation.column ? { column: e.explanation.column.name } : {}),
      features: Object.fromEntries(top.map((f) => [f.name, Number(f.share.toFixed(3))])),
      ...(peak ? { peak: peak.index, ...(timeAt(peak.index) !== undefined ? { peakTime: timeAt(peak.index) } : {}) } : {}),
    };
  };
  let layout: Layout | undefined;
  let delimiter: ',' | ';' | '\t' | undefined;
  let lineNo = 0;
  let stopped = false;
  const out = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj)}\n`);
  const warn = (m: string) => process.stderr.write(`lstm-vae watch: line ${lineNo}: ${m}; skipped\n`);
  const finish = () => {
    if (o.state) writeFileAtomicSync(o.state, live.save());
    det.dispose();
  };
  const input = o.input && o.input !== '-' ? createReadStream(o.input) : process.stdin;
  const rl = createInterface({ input, crlfDelay: Infinity });
  const onSignal = () => {
    stopped = true;
    rl.close();
  };
  process.once('SIGINT', onSignal);
  try {
    for await (const raw of rl) {
      if (stopped) break;
      lineNo++;
      const line = raw.trim();
      // in a one-column CSV an empty line is that row's missing value, as train and score read such a file
      if (!line && layout?.width !== 1) continue;
      let values: number[] | undefined;
      let time: string | undefined;
      if (!line) values = [NaN];
      else if (line.startsWith('{')) {
        let obj: Record<string, unknown>;
        try {
          obj = JSON.parse(line);
        } catch {
          warn('not valid JSON');
          continue;
        }
        values = names.map((c) => (obj[c] === null || obj[c] === '' ? NaN : Number(obj[c])));
        const ts = saved?.timestamp ?? 'timestamp';
        if (obj[ts] !== undefined) time = String(obj[ts]);
        if (values.some((v, j) => Number.isNaN(v) && obj[names[j]] !== null && obj[names[j]] !== '')) {
          warn(`expected the numeric fields ${names.join(', ')}`);
          continue;
        }
      } else {
        // the delimiter of the first CSV line (comma, tab, or semicolon with decimal commas), as train and score read files
        delimiter ??= sniffDelimiter(line, o.input && o.input !== '-' ? o.input : 'stdin.csv');
        const cells = line
          .split(delimiter)
          .map((c) => c.trim())
          .map((c) => (delimiter === ';' ? decimalPoint(c) : c));
        if (!layout) {
          const header = cells.every((c) => c !== '' && Number.isNaN(Number(c)));
          if (header) {
            const idx = names.map((c) => cells.indexOf(c));
            if (idx.some((i) => i < 0))
              throw new UsageError(`the header has no column ${names[idx.findIndex((i) => i < 0)]} (columns: ${cells.join(', ')})`);
            const ts = saved?.timestamp ? cells.indexOf(saved.timestamp) : -1;
            layout = { columns: idx, ...(ts >= 0 ? { timestamp: ts } : {}), width: cells.length };
            continue;
          }
          // no header: the D values, after a timestamp when there is one more cell
          layout =
            cells.length === d + 1
              ? { columns: names.map((_, j) => j + 1), timestamp: 0, width: d + 1 }
              : { columns: names.map((_, j) => j), width: cells.length };
        }
        const need = Math.max(...(layout.columns as number[]), typeof layout.timestamp === 'number' ? layout.timestamp : 0) + 1;
        if (cells.length < need || (layout.width !== undefined && cells.length !== layout.width)) {
          warn(`expected ${layout.width ?? need} fields, got ${cells.length}`);
          continue;
        }
        values = (layout.columns as number[]).map((i) => (cells[i] === '' || /^(nan|na|null)$/i.test(cells[i]) ? NaN : Number(cells[i])));
        if (
          values.some(
            (v, j) =>
              Number.isNaN(v) &&
              !(cells[(layout!.columns as number[])[j]] === '' || /^(nan|na|null)$/i.test(cells[(layout!.columns as number[])[j]])),
          )
        ) {
          warn('a value is not a number');
          continue;
        }
        if (typeof layout.timestamp === 'number') time = cells[layout.timestamp];
      }
      let p: ReturnType<DetectorStream['push']>;
      try {
        p = live.push(values);
      } catch (e) {
        warn((e as Error).message);
        continue;
      }
      lastRow = p.warmingUp ? p.index : p.index + live.delay;
      if (time !== undefined) {
        times.push(time);
        while (times.length > keepTimes && (openRow === undefined || lastRow - times.length + 1 < openRow)) times.shift();
      }
      if (p.warmingUp) {
        if (!o.alarms) out({ index: p.index, warmingUp: true });
        continue;
      }
      if (o.alarms) {
        if (p.event)
          out({
            index: p.index,
            ...(timeAt(p.index) !== undefined ? { timestamp: timeAt(p.index) } : {}),
            score: p.score,
            ...alarm(p.event),
          });
        continue;
      }
      const contributions: Record<string, number> = {};
      names.forEach((c, j) => {
        contributions[c] = Number(p.contributions[j].toFixed(4));
      });
      out({
        index: p.index,
        ...(timeAt(p.index) !== undefined ? { timestamp: timeAt(p.index) } : {}),
        score: p.score,
        anomaly: p.anomaly,
        ...(p.threshold !== undefined ? { threshold: p.threshold } : {}),
        ...(d > 1 ? { contributions } : {}),
        ...(p.event ? { event: alarm(p.event) } : {}),
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    finish();
  }
}
