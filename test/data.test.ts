import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { windowScoresToPoints, windows, windowStarts } from '../src/data/windows.js';
import { MinMaxNormalizer, normalizerFromJSON, ZScoreNormalizer } from '../src/data/normalize.js';
import { readCsv } from '../src/data/csv.js';
import {
  dataRoot,
  listNab,
  loadEcg5000,
  loadNabFile,
  loadNames,
  loadNamesFile,
  loadSensorNetwork,
  parseNabTime,
} from '../src/data/datasets.js';
import { ConfigError, DataError, FormatError, IOError, ShapeError } from '../src/core/errors.js';
import { escapeRegExp } from './shared/node.js';
import { describeWithRealData } from './shared/real-data.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('windows', () => {
  const series = (n: number, d: number) => ({
    data: Float32Array.from({ length: n * d }, (_, i) => i),
    shape: [n, d] as [number, number],
  });

  it('cuts [N, D] into [W, length, D] with the last window aligned to the end', () => {
    const w = windows(series(10, 2), 4, 4);
    // starts 0, 4, then 8 would overflow → one more window at 10 − 4 = 6
    expect(w.starts).toEqual([0, 4, 6]);
    expect(w.shape).toEqual([3, 4, 2]);
    // window 2 = points 6..9 = values 12..19
    expect(Array.from(w.data.subarray(16, 24))).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
    expect(windows(series(10, 1), 4, 3).starts).toEqual([0, 3, 6]); // 6 + 4 = 10: already at the end
    expect(windows(series(5, 1), 5, 1).starts).toEqual([0]);
    expect(windows(series(6, 1), 2).starts).toEqual([0, 1, 2, 3, 4]); // stride defaults to 1
    // stride > length skips points (subsampling): 0..1, 5..6, then the end 8..9; points 2–4 and 7 are in no window
    const sparse = windows(series(10, 1), 2, 5);
    expect(sparse.starts).toEqual([0, 5, 8]);
    const cover = windowScoresToPoints([1, 1, 1], sparse.starts, 2, 10);
    expect(Array.from(cover).map((v) => (Number.isNaN(v) ? 0 : 1))).toEqual([1, 1, 0, 0, 0, 1, 1, 0, 1, 1]);
  });

  it('covers every point, in order, for any N ≥ length and stride ≤ length (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 60 }), (length, s, extra) => {
        const stride = 1 + (s % length);
        const n = length + extra;
        const starts = windowStarts(n, length, stride);
        expect(starts[0]).toBe(0);
        expect(starts[starts.length - 1]).toBe(n - length);
        for (let k = 1; k < starts.length; k++) {
          expect(starts[k]).toBeGreaterThan(starts[k - 1]);
          expect(starts[k] - starts[k - 1]).toBeLessThanOrEqual(stride);
        }
        const cover = windowScoresToPoints(new Float64Array(starts.length).fill(1), starts, length, n, 'mean');
        expect(cover.every((v) => v === 1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('errors when the series is shorter than a window or sizes are wrong', () => {
    expect(() => windows(series(3, 2), 4, 1)).toThrow(DataError);
    expect(() => windows(series(3, 2), 4, 1)).toThrow(/argument: series.shape\[0\]; expected: at least length = 4 points; got: 3/);
    expect(() => windows(series(10, 1), 0, 1)).toThrow(ConfigError);
    expect(() => windows(series(10, 1), 3, 1.5)).toThrow(/argument: stride/);
    expect(() => windows({ data: new Float32Array(7), shape: [4, 2] }, 2, 1)).toThrow(ShapeError);
  });

  it('maps window scores back to points by mean or max', () => {
    // n = 6, length 3, starts [0, 2, 3]; scores 1, 4, 10
    // point: 0    1    2      3        4       5
    // wins : {0}  {0}  {0,1}  {1,2}    {1,2}   {2}
    const starts = [0, 2, 3];
    expect(Array.from(windowScoresToPoints([1, 4, 10], starts, 3, 6, 'mean'))).toEqual([1, 1, 2.5, 7, 7, 10]);
    expect(Array.from(windowScoresToPoints([1, 4, 10], starts, 3, 6, 'max'))).toEqual([1, 1, 4, 10, 10, 10]);
    // per-step scores [W, length] = w0: 1 2 3, w1: 4 5 6, w2: 7 8 9; a point averages its own step in each window:
    // p2 = (w0 step 2, w1 step 0) = (3 + 4) / 2; p3 = (5 + 7) / 2; p4 = (6 + 8) / 2
    const perStep = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(Array.from(windowScoresToPoints(perStep, starts, 3, 6, 'mean'))).toEqual([1, 2, 3.5, 6, 7, 9]);
    expect(Array.from(windowScoresToPoints(perStep, starts, 3, 6, 'max'))).toEqual([1, 2, 4, 7, 8, 9]);
    // a point no window covers is NaN
    expect(Number.isNaN(windowScoresToPoints([1], [0], 2, 3)[2])).toBe(true);
    expect(() => windowScoresToPoints([1, 2], starts, 3, 6)).toThrow(ShapeError);
    expect(() => windowScoresToPoints([1], [5], 3, 6)).toThrow(/argument: starts\[0\]/);
  });
});

describe('normalizers', () => {
  const data = Float64Array.from([1, 10, 2, 3, 20, 2, 7, 15, 2, -1, 15, 2]); // [4, 3], feature 2 constant

  it('MinMax maps to [-1, 1] by default, to [lo, hi] when asked, and round-trips', () => {
    const n = new MinMaxNormalizer().fit(data, 3);
    const t = n.transform(data);
    // feature 0: min −1, max 7; feature 1: min 10, max 20; feature 2 constant → 0 (middle)
    expect(Array.from(t.filter((_, i) => i % 3 === 0))).toEqual([-0.5, 0, 1, -1]);
    expect(Array.from(t.filter((_, i) => i % 3 === 1))).toEqual([-1, 1, 0, 0]);
    expect(Array.from(t.filter((_, i) => i % 3 === 2))).toEqual([0, 0, 0, 0]);
    const back = n.inverse(t);
    back.forEach((v, i) => expect(v).toBeCloseTo(data[i], 5));
    const u = new MinMaxNormalizer([0, 1]).fit(data, 3).transform(data);
    expect(Math.min(...u)).toBe(0);
    expect(Math.max(...u)).toBe(1);
    expect(u.every(Number.isFinite)).toBe(true);
  });

  it('ZScore gives mean 0 / std 1 per feature, handles a constant feature, and round-trips', () => {
    const n = new ZScoreNormalizer().fit(data, 3);
    const t = n.transform(data);
    expect(t.every(Number.isFinite)).toBe(true);
    for (let f = 0; f < 2; f++) {
      const col = Array.from(t.filter((_, i) => i % 3 === f));
      const m = col.reduce((a, b) => a + b, 0) / col.length;
      const v = col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length;
      expect(m).toBeCloseTo(0, 6);
      expect(v).toBeCloseTo(1, 5);
    }
    expect(Array.from(t.filter((_, i) => i % 3 === 2))).toEqual([0, 0, 0, 0]);
    n.inverse(t).forEach((v, i) => expect(v).toBeCloseTo(data[i], 5));
  });

  it('round-trips through plain JSON (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 4, maxLength: 40 }),
        (d, values) => {
          const rows = Math.floor(values.length / d);
          fc.pre(rows >= 1);
          const x = Float64Array.from(values.slice(0, rows * d));
          for (const n of [new MinMaxNormalizer().fit(x, d), new ZScoreNormalizer().fit(x, d)]) {
            const copy = normalizerFromJSON(JSON.parse(JSON.stringify(n)));
            expect(copy.constructor).toBe(n.constructor);
            expect(Array.from(copy.transform(x))).toEqual(Array.from(n.transform(x)));
            const back = n.inverse(n.transform(x));
            back.forEach((v, i) => expect(Math.abs(v - x[i])).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(x[i])) + 2e-3));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('serialises to the documented JSON and rejects bad JSON', () => {
    const n = new MinMaxNormalizer([-1, 1]).fit([0, 5, 10, 5], 2);
    expect(n.toJSON()).toEqual({ type: 'minmax', features: 2, range: [-1, 1], min: [0, 5], max: [10, 5] });
    expect(MinMaxNormalizer.fromJSON(JSON.stringify(n)).toJSON()).toEqual(n.toJSON());
    const z = new ZScoreNormalizer().fit([1, 3], 1);
    expect(z.toJSON()).toEqual({ type: 'zscore', features: 1, mean: [2], std: [1] });
    expect(() => normalizerFromJSON({ type: 'robust' })).toThrow(FormatError);
    expect(() => ZScoreNormalizer.fromJSON({ type: 'zscore', features: 2, mean: [0], std: [1, 1] })).toThrow(/argument: mean/);
    expect(() => MinMaxNormalizer.fromJSON({ type: 'zscore' })).toThrow(FormatError);
  });

  it('throws typed errors', () => {
    expect(() => new ZScoreNormalizer().transform([1])).toThrow(ConfigError);
    expect(() => new MinMaxNormalizer([1, 1])).toThrow(ConfigError);
    expect(() => new MinMaxNormalizer().fit([1, 2, 3], 2)).toThrow(ShapeError);
    expect(() => new MinMaxNormalizer().fit([], 2)).toThrow(DataError);
    expect(() => new ZScoreNormalizer().fit([1, NaN], 1)).toThrow(/data\[1\]/);
    expect(() => new MinMaxNormalizer().fit([1, 2], 1).transform([1, 2, 3, 4].slice(0, 3))).not.toThrow();
    expect(() => new MinMaxNormalizer().fit([1, 2, 3, 4], 2).transform([1, 2, 3])).toThrow(ShapeError);
  });
});

describe('readCsv', () => {
  it('reads value columns and the timestamp column', () => {
    const r = readCsv('timestamp,value,other\n2014-01-01 00:00:00,1.5,3\n2014-01-01 00:05:00,-2,4e2\n');
    expect(r.columns).toEqual(['value', 'other']);
    expect(r.shape).toEqual([2, 2]);
    expect(Array.from(r.data)).toEqual([1.5, 3, -2, 400]);
    expect(r.timestamps).toEqual(['2014-01-01 00:00:00', '2014-01-01 00:05:00']);
    const c = readCsv('t,a,b\nx,1,2\ny,3,4\n', { columns: ['b', 'a'], timestamp: 't' });
    expect(c.columns).toEqual(['b', 'a']);
    expect(Array.from(c.data)).toEqual([2, 1, 4, 3]);
    expect(c.timestamps).toEqual(['x', 'y']);
    const plain = readCsv('a,b\n1,2\n\n3,4\n');
    expect(plain.timestamps).toBeUndefined();
    expect(plain.shape).toEqual([2, 2]);
  });

  it("in a one-column file, an empty line between rows is that row's missing value; at the end it is skipped", () => {
    const r = readCsv('value\n1\n\n3\n\r\n5\n\n\n', { missing: 'nan' });
    expect(r.shape).toEqual([5, 1]);
    expect(Array.from(r.data)).toEqual([1, NaN, 3, NaN, 5]);
    // without missing: 'nan', the empty line is a missing value named by its row and line
    expect(() => readCsv('value\n1\n\n3\n')).toThrow(/missing value at row 2 \(line 3\), column "value"/);
    // several columns: an empty line is not a row (as before); a file with quotes is read as it is
    expect(readCsv('a,b\n1,2\n\n3,4\n').shape).toEqual([2, 2]);
    expect(readCsv('"v"\n1\n\n2\n').shape).toEqual([2, 1]);
  });

  it('names the row and column of a bad value', () => {
    const text = 'timestamp,value\n2014-01-01,1\n2014-01-02,abc\n';
    expect(() => readCsv(text)).toThrow(DataError);
    expect(() => readCsv(text)).toThrow(/non-numeric value at row 2 \(line 3\), column "value": "abc"/);
    expect(() => readCsv('a,b\n1,2\n3,\n')).toThrow(/missing value at row 2 \(line 3\), column "b"/);
    expect(() => readCsv('a,b\n1,NaN\n')).toThrow(/row 1 .*column "b"/);
  });

  it('rejects a column name the header holds twice (it would read the first of them twice)', () => {
    expect(() => readCsv('a,a\n1,2\n')).toThrow(DataError);
    expect(() => readCsv('a,a\n1,2\n')).toThrow(/column "a" appears 2 times in the header \(fields 1, 2\)/);
    expect(() => readCsv('t,a,b,a\nx,1,2,3\n', { columns: ['a'] })).toThrow(/fields 2, 4/);
    // a repeated name that is not read is no problem
    expect(Array.from(readCsv('a,b,b\n1,2,3\n', { columns: ['a'] }).data)).toEqual([1]);
  });

  it('lists the available columns for an unknown one', () => {
    expect(() => readCsv('a,b\n1,2\n', { columns: ['c'] })).toThrow(DataError);
    expect(() => readCsv('a,b\n1,2\n', { columns: ['c'] })).toThrow(/unknown column "c"; available columns: a, b/);
    expect(() => readCsv('a,b\n1,2\n', { timestamp: 'time' })).toThrow(/unknown column "time"; available columns: a, b/);
  });

  it('rejects malformed and empty files', () => {
    expect(() => readCsv('a,b\n1,2,3\n')).toThrow(DataError);
    expect(() => readCsv('a,b\n1,2,3\n')).toThrow(/malformed CSV at line 2/);
    expect(() => readCsv('')).toThrow(/empty/);
    expect(() => readCsv('a,b\n')).toThrow(/no data rows/);
  });
});

describe('bundled stdlib data sets', () => {
  it('loads the sensor network per mote and flat, with both classes', () => {
    const s = loadSensorNetwork();
    expect(s.features).toEqual(['humidity', 'temperature']);
    expect(s.motes.map((m) => m.moteId)).toEqual([1, 2, 3, 4]);
    expect(s.motes.map((m) => m.shape[0])).toEqual([4417, 4417, 5039, 5041]);
    expect(s.motes.map((m) => m.indoor)).toEqual([true, true, false, false]);
    const pos = s.motes.map((m) => m.labels.reduce((a, b) => a + b, 0));
    expect(pos).toEqual([117, 0, 0, 32]);
    expect(s.flat.shape).toEqual([18914, 2]);
    expect(s.flat.data.length).toBe(18914 * 2);
    expect(s.flat.labels.reduce((a, b) => a + b, 0)).toBe(149);
    expect(s.flat.labels.includes(0)).toBe(true);
    // first record of the package: reading 1, mote 1, humidity 45.93, temperature 27.97
    expect(s.flat.readings[0]).toBe(1);
    expect(s.flat.data[0]).toBeCloseTo(45.93, 4);
    expect(s.flat.data[1]).toBeCloseTo(27.97, 4);
    expect(Array.from(s.motes[3].readings.subarray(0, 3))).toEqual([1, 2, 3]);
    // the flat form stacks the motes in order
    expect(Array.from(s.flat.data.subarray(4417 * 2, 4417 * 2 + 2))).toEqual(Array.from(s.motes[1].data.subarray(0, 2)));
    // anomalies are one contiguous event per labelled mote
    const first = s.motes[0].labels.indexOf(1);
    expect(s.motes[0].labels.subarray(first, first + 117).every((v) => v === 1)).toBe(true);
  });

  it('loads the first names, lower-case and deduplicated', () => {
    const names = loadNames();
    expect(names.length).toBe(8422);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => /^[a-z][a-z-]*$/.test(n))).toBe(true);
    expect(names).toContain('aaron');
    expect(names).toContain('ann-marie');
  });
});

describe('data directory', () => {
  const saved = process.env.LSTM_VAE_DATA;
  afterEach(() => {
    if (saved === undefined) delete process.env.LSTM_VAE_DATA;
    else process.env.LSTM_VAE_DATA = saved;
  });

  it('resolves ../shared/data from the package root, or LSTM_VAE_DATA, or the argument', () => {
    delete process.env.LSTM_VAE_DATA;
    const expected = resolve(here, '..', '..', 'shared', 'data');
    if (existsSync(expected)) expect(dataRoot()).toBe(expected);
    process.env.LSTM_VAE_DATA = here;
    expect(dataRoot()).toBe(resolve(here));
    expect(dataRoot(join(here, '..'))).toBe(resolve(here, '..'));
  });

  it('throws an IOError saying where it looked and how to override', () => {
    const missing = join(here, 'no-such-data-dir');
    expect(() => dataRoot(missing)).toThrow(IOError);
    expect(() => dataRoot(missing)).toThrow(new RegExp(`looked in ${escapeRegExp(missing)}.*LSTM_VAE_DATA`));
    process.env.LSTM_VAE_DATA = missing;
    expect(() => loadEcg5000()).toThrow(/from the LSTM_VAE_DATA environment variable/);
    expect(() => listNab(missing, 'realKnownCause')).toThrow(IOError);
  });

  it('parses NAB timestamps as UTC', () => {
    expect(parseNabTime('2014-04-10 07:15:00')).toBe(Date.UTC(2014, 3, 10, 7, 15));
    expect(parseNabTime('2014-04-10 07:15:00.000000')).toBe(Date.UTC(2014, 3, 10, 7, 15));
    expect(Number.isNaN(parseNabTime('yesterday'))).toBe(true);
  });
});

// needs the shared data (../shared/data or LSTM_VAE_DATA): skipped locally without it, a failure under CI
describeWithRealData('files in the data directory', ['nab', 'ecg5000', 'names'], (root) => {
  it('loads ECG5000: 500 beats × 140, 292 normal', () => {
    const e = loadEcg5000(root);
    expect(e.shape).toEqual([500, 140]);
    expect(e.beats.length).toBe(500 * 140);
    const counts = [0, 0, 0, 0, 0, 0];
    e.labels.forEach((c) => counts[c]++);
    expect(counts.slice(1)).toEqual([292, 177, 10, 19, 2]);
    expect(e.beats[0]).toBeCloseTo(-0.11252183, 6);
    expect(e.beats.every(Number.isFinite)).toBe(true);
  });

  it('lists NAB groups and maps label windows to row indices', () => {
    expect(listNab(root, 'artificialWithAnomaly')).toEqual([
      'artificialWithAnomaly/art_daily_flatmiddle.csv',
      'artificialWithAnomaly/art_daily_jumpsdown.csv',
      'artificialWithAnomaly/art_daily_jumpsup.csv',
      'artificialWithAnomaly/art_daily_nojump.csv',
      'artificialWithAnomaly/art_increase_spike_density.csv',
      'artificialWithAnomaly/art_load_balancer_spikes.csv',
    ]);
    expect(listNab(root, 'realKnownCause').length).toBe(7);
    expect(listNab(root, 'artificialNoAnomaly').length).toBe(5);
    expect(() => listNab(root, 'realTweets')).toThrow(/available groups: .*realKnownCause/);

    const f = loadNabFile(root, 'artificialWithAnomaly/art_daily_jumpsup.csv');
    expect(f.values.length).toBe(4032);
    expect(f.timestamps.length).toBe(4032);
    expect(f.values[0]).toBeCloseTo(19.761251902999998, 12);
    expect(f.windowTimestamps).toEqual([['2014-04-10 16:15:00.000000', '2014-04-12 01:45:00.000000']]);
    expect(f.windows.length).toBe(1);
    const [s, e] = f.windows[0];
    expect(f.timestamps[s]).toBe('2014-04-10 16:15:00');
    expect(f.timestamps[e]).toBe('2014-04-12 01:45:00');
    expect(e - s + 1).toBe(403); // NAB windows are 10 % of the file

    const taxi = loadNabFile(root, 'realKnownCause/nyc_taxi.csv');
    expect(taxi.values.length).toBe(10320);
    expect(taxi.windows.length).toBe(5);
    taxi.windows.forEach(([a, b], k) => {
      expect(taxi.timestamps[a]).toBe(taxi.windowTimestamps[k][0].slice(0, 19));
      expect(taxi.timestamps[b]).toBe(taxi.windowTimestamps[k][1].slice(0, 19));
    });
    expect(loadNabFile(root, 'artificialNoAnomaly/art_flatline.csv').windows).toEqual([]);
    expect(() => loadNabFile(root, 'realKnownCause/missing.csv')).toThrow(IOError);
  });

  it('loads the names file', () => {
    const names = loadNamesFile(root);
    // the file has 32,033 lines (the last one without a newline; the README's 32,032 counts newlines)
    expect(names.length).toBe(32033);
    expect(names[names.length - 1]).toBe('zzyzx');
    expect(names.slice(0, 3)).toEqual(['emma', 'olivia', 'ava']);
  });
});
