// Per-column bars (src/detect/columns.ts): each column's own smoothed error against its own bar, for tables of two or
// more columns. The pure pieces against a direct computation, then the detector: univariate plans have none, an event
// in one quiet column of a noisy table is found by its column's bar and not without it, one-point spikes in one column
// by its point bar, and the live stream gives the batch's scores to the last bit with them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AnomalyDetector, decodeSafetensors, encodeSafetensors, type IntervalExplanation, init } from '../dist/index.node.js';
import { synthetic } from '../src/data/synthetic.js';
import { columnBars, columnPointErrors, columnRatios, smoothColumnErrors, withColumns } from '../src/detect/columns.js';
import type { DetectorPlan } from '../src/detect/plan.js';
import { scoreSource } from '../src/detect/postprocess.js';
import { mulberry32 } from './shared/numeric.js';

beforeAll(async () => {
  await init();
});

/** The plan's file with `edit` applied to its detector plan. */
function forged(det: AnomalyDetector, edit: (p: Record<string, unknown>) => void): AnomalyDetector {
  const file = decodeSafetensors(det.toSafetensors());
  const meta = JSON.parse(file.metadata.metadata);
  edit(meta.detector);
  return AnomalyDetector.fromSafetensors(encodeSafetensors(file.tensors, { ...file.metadata, metadata: JSON.stringify(meta) }));
}

describe('column bars: the pure pieces', () => {
  const n = 60;
  const d = 3;
  const w = 8;
  const g = mulberry32(5);
  const sq = Float64Array.from({ length: n * d }, () => g() ** 2);

  it('each column is smoothed over the points every window holds, as a direct mean of their roots', () => {
    for (const smoothing of [1, 4, 7]) {
      const sm = smoothColumnErrors(columnPointErrors(sq, n, d, w), n, w, smoothing);
      const before = Math.floor((smoothing - 1) / 2);
      const after = smoothing - 1 - before;
      for (let j = 0; j < d; j++) {
        for (let p = 0; p < n; p++) {
          if (p < w - 1 || p > n - w) {
            expect(sm[j][p]).toBeNaN();
            continue;
          }
          let s = 0;
          let c = 0;
          for (let q = Math.max(w - 1, p - before); q <= Math.min(n - w, p + after); q++) {
            s += Math.sqrt(sq[q * d + j]);
            c++;
          }
          expect(sm[j][p]).toBeCloseTo(s / c, 12);
        }
      }
    }
  });

  it('bars are mean + k·std of each column over those points; ratios are the largest column over its bar', () => {
    const sm = smoothColumnErrors(columnPointErrors(sq, n, d, w), n, w, 3);
    const bars = columnBars(sm, n, w, 6) as number[];
    for (let j = 0; j < d; j++) {
      const v = Array.from(sm[j].subarray(w - 1, n - w + 1));
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
      expect(bars[j]).toBeCloseTo(mean + 6 * std, 12);
    }
    // a column without a bar (0) takes no part
    const { ratio, column } = columnRatios(sm, [bars[0], 0, bars[2]], n);
    for (let p = 0; p < n; p++) {
      if (p < w - 1 || p > n - w) {
        expect(ratio[p]).toBeNaN();
        expect(column[p]).toBe(-1);
      } else {
        expect(ratio[p]).toBe(Math.max(sm[0][p] / bars[0], sm[2][p] / bars[2]));
        expect(column[p]).toBe(sm[0][p] / bars[0] >= sm[2][p] / bars[2] ? 0 : 2);
      }
    }
    expect(columnBars(sm, 10, w, 6)).toBeUndefined(); // no point has every window
    const zero = smoothColumnErrors(columnPointErrors(new Float64Array(n * d), n, d, w), n, w, 3);
    expect(columnBars(zero, n, w, 6)).toEqual([0, 0, 0]);
  });

  it("point bars: each column's point error is the root of its squared error where every window holds it; the ratio takes the larger", () => {
    const pts = columnPointErrors(sq, n, d, w);
    for (let j = 0; j < d; j++)
      for (let p = 0; p < n; p++) {
        if (p < w - 1 || p > n - w) expect(pts[j][p]).toBeNaN();
        else expect(pts[j][p]).toBe(Math.sqrt(sq[p * d + j]));
      }
    const sm = smoothColumnErrors(pts, n, w, 5);
    for (let j = 0; j < d; j++) expect(pts[j][0]).toBeNaN(); // the smoothing leaves the point errors as they were (score reuses them)
    const bars = columnBars(sm, n, w, 6) as number[];
    const pbars = columnBars(pts, n, w, 1) as number[];
    const v = Array.from(pts[1].subarray(w - 1, n - w + 1));
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(pbars[1]).toBeCloseTo(mean + std, 12);
    // column 1 has a point bar only, column 2 a smoothed bar only
    const { ratio, column } = columnRatios(sm, [bars[0], 0, bars[2]], n, pts, [pbars[0], pbars[1], 0]);
    let byPoint = 0;
    for (let p = w - 1; p <= n - w; p++) {
      const cands = [sm[0][p] / bars[0], sm[2][p] / bars[2], pts[0][p] / pbars[0], pts[1][p] / pbars[1]];
      const cols = [0, 2, 0, 1];
      const best = Math.max(...cands);
      expect(ratio[p]).toBe(best);
      expect(column[p]).toBe(cols[cands.indexOf(best)]);
      if (cands.indexOf(best) >= 2) byPoint++;
    }
    expect(byPoint).toBeGreaterThan(0);
  });

  it('a column crossing its bar crosses the threshold, and is named as the source when it is the largest', () => {
    const plan = { threshold: 2, columnBars: { threshold: [1, 1], k: 6 } } as unknown as DetectorPlan;
    expect(withColumns(1.5, 1.2, plan)).toBeCloseTo(2.4, 12);
    expect(withColumns(3, 1.2, plan)).toBe(3);
    expect(withColumns(1.5, Number.NaN, plan)).toBe(1.5);
    expect(withColumns(1.5, 1.2, { threshold: 2 } as DetectorPlan)).toBe(1.5);
    expect(scoreSource(1.5, 0, Number.NaN, Number.NaN, plan, 1.2)).toBe('column');
    expect(scoreSource(3, 0, Number.NaN, Number.NaN, plan, 1.2)).toBe('error');
    expect(scoreSource(1.5, 0, Number.NaN, Number.NaN, plan)).toBe('error');
  });
});

describe('column bars in the detector', () => {
  it('a univariate plan has none; a table of several columns has one bar per column, saved and read back', async () => {
    const s = synthetic(21, { n: 900, period: 30, anomalies: 0 });
    const one = await AnomalyDetector.fit(s.data, { maxSteps: 20, members: 1 });
    try {
      expect(one.plan.columnBars).toBeUndefined();
      expect(one.plan.thresholdRule).not.toMatch(/column/);
    } finally {
      one.dispose();
    }
    const t = synthetic(21, { n: 900, period: 30, anomalies: 0, features: 3 });
    const three = await AnomalyDetector.fit({ data: t.data, shape: [t.n, 3] }, { maxSteps: 20, members: 1 });
    try {
      const bars = three.plan.columnBars;
      expect(bars?.threshold).toHaveLength(3);
      expect(bars?.threshold.every((b) => b > 0)).toBe(true);
      expect(three.plan.thresholdRule).toMatch(/a column's own smoothed error above mean \+ 6·std/);
      expect(three.plan.thresholdRule).toMatch(/or its point error above mean \+ 8·std of its point errors/);
      expect(bars?.point).toHaveLength(3);
      expect(bars?.point?.every((b, j) => b > bars.threshold[j])).toBe(true);
      expect(bars?.pointK).toBe(8);
      const again = AnomalyDetector.fromSafetensors(three.toSafetensors());
      expect(again.plan.columnBars).toEqual(bars);
      again.dispose();
      type Bars = { threshold: unknown[]; k: unknown; point?: unknown[]; pointK?: unknown };
      const cases: Array<[(b: Bars, p: Record<string, unknown>) => void, RegExp]> = [
        [(b) => b.threshold.pop(), /columnBars are not one number >= 0 per column and a k/],
        [(b) => (b.threshold[1] = -1), /columnBars are not/],
        [(b) => (b.k = 'six'), /columnBars are not/],
        [(_b, p) => (p.columnBars = null), /columnBars are not/],
        [(b) => b.point?.pop(), /with point bars, one per column and a pointK/],
        [(b) => (b.point = [1, Number.NaN, 1]), /with point bars/],
        [(b) => delete b.pointK, /with point bars/],
      ];
      for (const [edit, message] of cases) {
        expect(() => forged(three, (p) => edit(p.columnBars as Bars, p))).toThrow(message);
      }
    } finally {
      three.dispose();
    }
  });

  it('an event in one quiet column of a noisy table is found by its column bar, and missed without it', async () => {
    // 12 columns: 11 noisy sines and one quiet one, whose swing grows by 60 % for a period and a half (rows 1000-1059)
    const n = 3600;
    const d = 12;
    const g = mulberry32(3);
    const x = new Float64Array(n * d);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) {
        const quiet = j === d - 1;
        const amp = quiet && i >= 1000 && i < 1060 ? 1.6 : 1;
        x[i * d + j] = amp * Math.sin((2 * Math.PI * i) / 40 + j) + (quiet ? 0.02 : 1) * (g() - 0.5) * 3.46;
      }
    const series = { data: x, shape: [n, d] as [number, number] };
    const names = Array.from({ length: d }, (_, j) => (j === d - 1 ? 'valve' : `c${j}`));
    const det = await AnomalyDetector.fit(series, { members: 1, maxSteps: 400, columns: names });
    try {
      const r = det.score(series);
      const k = r.intervals.findIndex(([a, b]) => a <= 1059 && b >= 1000);
      expect(k).toBeGreaterThanOrEqual(0);
      expect(r.explanations[k].by).toBe('column');
      // the quiet column decided it, though the noisy ones hold most of the interval's squared error
      expect(r.explanations[k].column).toEqual({ feature: d - 1, name: 'valve' });
      expect(r.explanations[k].features[0].feature).not.toBe(d - 1);
      // the live stream closes the same interval with the same bar and column
      const live = det.stream();
      const closed: IntervalExplanation[] = [];
      for (let i = 0; i < n; i++) {
        const e = live.push(x.subarray(i * d, (i + 1) * d)).event;
        if (e?.type === 'close') closed.push(e.explanation);
      }
      const same = closed.find((e) => e.interval[0] === r.intervals[k][0]);
      expect(same?.by).toBe('column');
      expect(same?.column).toEqual(r.explanations[k].column);
      // the command line names the column beside the interval
      const dir = mkdtempSync(join(tmpdir(), 'lstm-vae-columns-'));
      try {
        det.model.metadata = { ...det.model.metadata, cliInput: { columns: names, timestamp: null } };
        writeFileSync(join(dir, 'd.safetensors'), det.toSafetensors());
        const rows = [names.join(',')];
        for (let i = 0; i < n; i++) rows.push(Array.from(x.subarray(i * d, (i + 1) * d), (v) => v.toPrecision(9)).join(','));
        writeFileSync(join(dir, 't.csv'), `${rows.join('\n')}\n`);
        const cli = join(__dirname, '..', 'dist', 'cli.js');
        const run = spawnSync(
          process.execPath,
          [cli, 'score', join(dir, 'd.safetensors'), join(dir, 't.csv'), '-o', join(dir, 'o.csv'), '--no-report'],
          {
            encoding: 'utf8',
          },
        );
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout).toMatch(/\d+–\d+ \(peak \d+; valve above its own bar\)/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const without = forged(det, (p) => delete p.columnBars);
      try {
        const r0 = without.score(series);
        expect(r0.intervals.some(([a, b]) => a <= 1059 && b >= 1000)).toBe(false);
        for (let i = 0; i < n; i++) expect(r0.scores[i]).toBeLessThanOrEqual(r.scores[i]);
      } finally {
        without.dispose();
      }
    } finally {
      det.dispose();
    }
  });

  it("one-point spikes in one column of a noisy table are found by that column's point bar, and missed without it", async () => {
    // 11 noisy sines and a quiet one ('valve'), which jumps by its swing at three single rows
    const n = 3600;
    const d = 12;
    const g = mulberry32(8);
    const x = new Float64Array(n * d);
    const spikes = [900, 1700, 2500];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) x[i * d + j] = Math.sin((2 * Math.PI * i) / 40 + j) + (j === d - 1 ? 0.02 : 1) * (g() - 0.5) * 3.46;
    for (const i of spikes) x[i * d + d - 1] += 1;
    const series = { data: x, shape: [n, d] as [number, number] };
    const names = Array.from({ length: d }, (_, j) => (j === d - 1 ? 'valve' : `c${j}`));
    const det = await AnomalyDetector.fit(series, { members: 1, maxSteps: 400, columns: names });
    try {
      const r = det.score(series);
      const found = spikes.map((i) => r.intervals.findIndex(([a, b]) => a <= i && b >= i));
      expect(found.every((k) => k >= 0)).toBe(true);
      for (const k of found) {
        expect(r.explanations[k].by).toBe('column');
        expect(r.explanations[k].column).toEqual({ feature: d - 1, name: 'valve' });
      }
      // the live stream gives the same scores to the last bit (the spikes' decided by the point bar) and names the column
      const live = det.stream();
      const closed: IntervalExplanation[] = [];
      let compared = 0;
      for (let i = 0; i < n; i++) {
        const p = live.push(x.subarray(i * d, (i + 1) * d));
        if (!p.warmingUp) {
          expect(p.score).toBe(r.scores[p.index]);
          compared++;
        }
        if (p.event?.type === 'close') closed.push(p.event.explanation);
      }
      expect(compared).toBeGreaterThan(n - 2 * det.plan.window);
      for (const k of found) {
        const same = closed.find((e) => e.interval[0] === r.intervals[k][0]);
        expect(same?.by).toBe('column');
        expect(same?.column).toEqual({ feature: d - 1, name: 'valve' });
      }
      // a file made before the point bars (column bars without them) scores no higher anywhere, and misses them
      const older = forged(det, (p) => {
        const b = p.columnBars as Record<string, unknown>;
        delete b.point;
        delete b.pointK;
      });
      try {
        const r0 = older.score(series);
        expect(spikes.some((i) => r0.intervals.some(([a, b]) => a <= i && b >= i))).toBe(false);
        for (let i = 0; i < n; i++) expect(r0.scores[i]).toBeLessThanOrEqual(r.scores[i]);
      } finally {
        older.dispose();
      }
    } finally {
      det.dispose();
    }
  });

  it('the live stream gives the batch scores with column bars to the last bit, and they decide some of them', async () => {
    const n = 1500;
    const s = synthetic(12, { n, period: 40, features: 3, kinds: ['spike', 'level'], anomalies: 3 });
    const series = { data: Float32Array.from(s.data), shape: [n, 3] as [number, number] };
    const det = await AnomalyDetector.fit(series, { maxSteps: 60 });
    try {
      expect(det.plan.columnBars).toBeDefined();
      const batch = det.score(series);
      const live = det.stream();
      let resumed: ReturnType<typeof det.stream> | undefined;
      for (let i = 0; i < n; i++) {
        const row = series.data.subarray(i * 3, (i + 1) * 3);
        const p = live.push(row);
        if (resumed) expect(Object.is(resumed.push(row).score, p.score)).toBe(true);
        if (i === 700) resumed = det.stream(live.save());
        if (!p.warmingUp) expect(p.score).toBe(batch.scores[p.index]);
      }
      const without = forged(det, (p) => delete p.columnBars);
      try {
        const e = without.score(series).scores;
        let decides = 0;
        for (let i = 0; i < n; i++) {
          expect(e[i]).toBeLessThanOrEqual(batch.scores[i]);
          if (e[i] < batch.scores[i]) decides++;
        }
        expect(decides).toBeGreaterThan(0);
      } finally {
        without.dispose();
      }
    } finally {
      det.dispose();
    }
  });
});
