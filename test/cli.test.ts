// The `lstm-vae` command line, run as a real process (`node dist/cli.js ...`) on small generated files.
//
// Uses dist/cli.js (tsup entry `cli`). When it is missing (bundle not built yet) the test bundles
// src/cli.ts with esbuild into .cache/cli-test/ next to links to dist/wasm and dist/worker.node.js.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelColumns, looksLikeDate } from '../src/cli/columns.js';
import { readInput, sniffDelimiter } from '../src/cli/input.js';
import { DataError } from '../src/core/errors.js';
import { counterTimes, timeOf } from '../src/cli/labels.js';
import { removeTmpDirs, tmpDir } from './shared/node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let cli = join(root, 'dist', 'cli.js');
let dir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, LSTM_VAE_DEBUG: '', ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[]): Run {
  const r = run(args);
  if (r.code !== 0) throw new Error(`lstm-vae ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
  return r;
}

/** A failed run: the exit code, and exactly one `lstm-vae: ...` line on stderr without a stack trace. */
function fails(args: string[], code: number, pattern?: RegExp): Run {
  const r = run(args);
  expect(r.code, `exit code of lstm-vae ${args.join(' ')} (stderr: ${r.stderr})`).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, `stderr of lstm-vae ${args.join(' ')}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^lstm-vae: \S/);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  if (pattern) expect(lines[0]).toMatch(pattern);
  return r;
}

function csv(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

function csvRows(file: string): string[][] {
  return readFileSync(join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

const N = 480;
const ANOMALY = [300, 314]; // inclusive

beforeAll(async () => {
  dir = tmpDir('lstm-vae-cli-');
  if (!existsSync(cli)) {
    // Not built by tsup yet: bundle the CLI next to the built WebAssembly files.
    if (!existsSync(join(root, 'dist', 'wasm'))) throw new Error('dist/ is not built: run `npx tsup` (or npm run build) first');
    const out = join(root, '.cache', 'cli-test');
    mkdirSync(out, { recursive: true });
    const { build } = await import('esbuild');
    await build({
      entryPoints: [join(root, 'src', 'cli.ts')],
      outfile: join(out, 'cli.js'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
    for (const f of ['wasm', 'worker.node.js']) {
      const link = join(out, f);
      rmSync(link, { force: true, recursive: false });
      symlinkSync(join(root, 'dist', f), link);
    }
    cli = join(out, 'cli.js');
  }
  // A two-feature series with a planted anomaly (a level jump in both features).
  let csv = 'time,temp,hum,label\n';
  for (let i = 0; i < N; i++) {
    const a = i >= ANOMALY[0] && i <= ANOMALY[1] ? 1 : 0;
    const t = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
    const temp = 20 + 3 * Math.sin(i / 8) + 0.1 * Math.sin(i * 1.7) + (a ? 7 : 0);
    const hum = 50 + 5 * Math.cos(i / 8) - (a ? 9 : 0);
    csv += `${t},${temp.toFixed(3)},${hum.toFixed(3)},${a}\n`;
  }
  writeFileSync(join(dir, 'series.csv'), csv);
  // Names for a token model.
  const names = [
    'anna',
    'bert',
    'carla',
    'dora',
    'emil',
    'fritz',
    'greta',
    'hanna',
    'ida',
    'jonas',
    'karl',
    'lena',
    'mia',
    'nils',
    'olga',
    'paul',
  ];
  writeFileSync(join(dir, 'names.txt'), Array.from({ length: 4 }, () => names.join('\n')).join('\n') + '\n');
  // JSON sequences of one length.
  const seqs = Array.from({ length: 40 }, (_, b) => Array.from({ length: 12 }, (_, t) => Number(Math.sin((t + b) / 3).toFixed(4))));
  writeFileSync(join(dir, 'seqs.json'), JSON.stringify(seqs));
  // Bad inputs.
  writeFileSync(join(dir, 'ragged.csv'), 'a,b\n1,2\n3,4,5\n6,7\n');
  writeFileSync(join(dir, 'text-in-numbers.csv'), 'a,b\n1,2\n3,x\n');
  writeFileSync(join(dir, 'garbage.safetensors'), Buffer.from('this is not a safetensors file at all, not even close'));
}, 120_000);

afterAll(() => {
  removeTmpDirs();
});

describe('labelColumns: which CSV columns hold labels, not measurements', () => {
  const text = (header: string, rows: string[]) => [header, ...rows].join('\n') + '\n';
  it('a label-like name with only 0 and 1 in every row; never the timestamp', () => {
    const t = text('timestamp,value,is_anomaly,Label,ground_truth,outlier,labelled_temp', [
      '0,1.5,0,1,0,0,1',
      '1,2.5,1,0,1,1,0',
      '2,0.5,0,0,0,1,1',
    ]);
    const header = t.split('\n')[0].split(',');
    expect(labelColumns(t, header, 'timestamp')).toEqual(['is_anomaly', 'Label', 'ground_truth', 'outlier']);
    // other values, an empty cell, or the timestamp column: not labels
    expect(labelColumns(text('t,value,label', ['0,1,0', '1,2,2']), ['t', 'value', 'label'], 't')).toEqual([]);
    expect(labelColumns(text('t,value,anomaly', ['0,1,0', '1,2,']), ['t', 'value', 'anomaly'], 't')).toEqual([]);
    expect(labelColumns(text('label,value', ['0,1', '1,2']), ['label', 'value'], 'label')).toEqual([]);
    expect(labelColumns(text('value,anomaly', ['1,0.0', '2,1.0']), ['value', 'anomaly'])).toEqual(['anomaly']);
    // Yahoo S5 A3/A4's header: `timestamps` is the time column, `anomaly` and `changepoint` labels
    const y = text('timestamps,value,anomaly,changepoint,trend', ['1416726000,1.5,0,0,0.1', '1416729600,2.5,1,1,0.2']);
    const yh = y.split('\n')[0].split(',');
    expect(labelColumns(y, yh, 'timestamps')).toEqual(['anomaly', 'changepoint']);
    writeFileSync(join(dir, 'yahoo.csv'), y);
    const input = readInput(join(dir, 'yahoo.csv'));
    expect(input.kind === 'csv' && input.timestampColumn).toBe('timestamps');
  });
});

describe('timestamps that are numbers', () => {
  it('Unix seconds and milliseconds are times, smaller numbers counters (never read as years)', () => {
    expect(timeOf('1476460800')).toBe(Date.UTC(2016, 9, 14, 16));
    expect(timeOf('1476460800000')).toBe(Date.UTC(2016, 9, 14, 16));
    expect(timeOf('100')).toBe(100);
    expect(timeOf(' 12.5 ')).toBe(12.5);
    expect(timeOf('2024-01-02 03:04:05')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(counterTimes(['7', '8'])).toBe(true);
    expect(counterTimes(['1476460800'])).toBe(false);
    expect(counterTimes(['2024-01-01'])).toBe(false);
  });

  it('train puts rows with gaps in Unix-second timestamps on a grid of their step, and score gives one row per row', () => {
    const rows: string[] = [];
    for (let i = 0; i < 900; i++) if (i < 400 || i >= 420) rows.push(`${1_700_000_000 + 60 * i},${Math.sin(i / 5).toFixed(4)}`);
    writeFileSync(join(dir, 'epoch.csv'), `timestamp,value\n${rows.join('\n')}\n`);
    const t = ok(['train', 'epoch.csv', '--members', '1', '--max-steps', '60', '--no-report', '--threads', '1']);
    expect(t.stdout + t.stderr).toMatch(/rows averaged onto a regular grid of 60 s \(900 slots; empty slots filled/);
    const out = csv(ok(['score', 'epoch.safetensors', 'epoch.csv', '-o', '-', '--quiet']).stdout);
    expect(out).toHaveLength(1 + 880);
    expect(out[1][0]).toBe('1700000000');
  }, 120_000);

  it('a clock set back once (as in NAB machine_temperature) keeps the rows in file order; a file sorted backwards is an error', () => {
    const t0 = Date.UTC(2024, 0, 1);
    const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
    // 600 rows every 5 minutes; at row 300 the clock is set back an hour (the row reads 55 minutes before the one above it)
    const rows = Array.from(
      { length: 600 },
      (_, i) => `${stamp(t0 + 300_000 * i - (i >= 300 ? 3_600_000 : 0))},${Math.sin(i / 6).toFixed(4)}`,
    );
    writeFileSync(join(dir, 'setback.csv'), `timestamp,value\n${rows.join('\n')}\n`);
    const t = ok(['train', 'setback.csv', '--members', '1', '--max-steps', '30', '--no-report', '--threads', '1']);
    expect(t.stdout + t.stderr).toMatch(
      /the timestamps go back in time at row 300 \(by 55m00s\): the rows are taken in file order, without a time grid/,
    );
    expect(t.stdout + t.stderr).not.toMatch(/regular grid/);
    const s2 = ok(['score', 'setback.safetensors', 'setback.csv', '-o', '-', '--no-report']);
    expect(s2.stderr).toMatch(/go back in time at row 300/);
    expect(csv(s2.stdout)).toHaveLength(1 + 600);
    // every step back: not a clock set back but a file in the wrong order
    writeFileSync(join(dir, 'backwards.csv'), `timestamp,value\n${rows.slice().reverse().join('\n')}\n`);
    fails(['train', 'backwards.csv', '--no-report'], 1, /the timestamps go back in time at row 1; sort the rows by time/);
  }, 120_000);
});

describe('readInput: a text file of numbers is one series', () => {
  /** Writes `body` to `name` in the scratch folder; its path. */
  const file = (name: string, body: string) => {
    writeFileSync(join(dir, name), body);
    return join(dir, name);
  };

  it('one number per line or one line of numbers: one column; equal comma-separated rows: a CSV without header; space-separated rows stay text', () => {
    const a = readInput(file('per-line.txt', '\n1.5\n-2\n3e-1\n4\n\n'));
    expect(a.kind).toBe('csv');
    if (a.kind === 'text') throw new Error('read as text');
    expect(a.columns).toEqual(['value']);
    expect(Array.from(a.segments[0].data)).toEqual([1.5, -2, Math.fround(0.3), 4]);
    // an empty line between numbers is that row's missing value (the rows after it keep their places), as in a CSV
    const gap = readInput(file('gap.txt', '1.5\n-2\n\n3e-1\n4\n'), { missing: 'nan' });
    expect(gap.kind === 'csv' && Array.from(gap.segments[0].data)).toEqual([1.5, -2, Number.NaN, Math.fround(0.3), 4]);
    expect(() => readInput(file('gap.txt', '1.5\n-2\n\n3e-1\n4\n'))).toThrow(/missing value at row 3/);
    const b = readInput(file('one-line.txt', '  1 2\t3,4   5\n'));
    expect(b.kind === 'csv' && b.segments[0].n).toBe(5);
    expect(readInput(file('tokens.txt', '60 62 64\n62 64 65\n')).kind).toBe('text');
    // the same count of comma-separated numbers on every line: a CSV without a header (columns x0, x1, …)
    const c = readInput(file('matrix.txt', '1,2,3\n4,5,6\n'));
    expect(c.kind === 'csv' && c.columns).toEqual(['x0', 'x1', 'x2']);
    expect(readInput(file('ragged.txt', '1,2,3\n4,5\n')).kind).toBe('text');
    // a CSV whose first line is numbers has no header: that line is data
    const h = readInput(file('headerless.csv', '1.5,2\n3,4\n5,6\n'));
    expect(h.kind === 'csv' && [h.columns, h.segments[0].n]).toEqual([['x0', 'x1'], 3]);
    const one = readInput(file('headerless1.csv', '7\n8\n'));
    expect(one.kind === 'csv' && [one.columns, Array.from(one.segments[0].data)]).toEqual([['value'], [7, 8]]);
    expect(readInput(file('words.txt', 'anna\n12\n')).kind).toBe('text');
  });

  it('NaN, NA and null are missing values in a text file of numbers; a stray word in one is a DataError naming its line, not a text model', () => {
    const body = (bad: string) => Array.from({ length: 40 }, (_, i) => (i === 17 ? bad : String(i % 7))).join('\n');
    for (const marker of ['NaN', 'nan', 'NA', 'null']) {
      const a = readInput(file('marked.txt', `${body(marker)}\n`), { missing: 'nan' });
      if (a.kind === 'text') throw new Error(`${marker}: read as text`);
      expect([a.segments[0].n, Number.isNaN(a.segments[0].data[17]), a.segments[0].data[18]]).toEqual([40, true, 18 % 7]);
    }
    expect(readInput(file('one-line-nan.txt', '1 NaN 3\n'), { missing: 'nan' }).kind).toBe('csv');
    expect(readInput(file('matrix-na.txt', '1,NA\n3,4\n'), { missing: 'nan' }).kind).toBe('csv');
    // without missing: 'nan' the marker is the CSV reader's error for that row, not text
    expect(() => readInput(file('one-line-nan.txt', '1 NaN 3\n'))).toThrow(/row 2 .*"NaN"/);
    // one line in 40 is a word: the file is a series with a bad line (line 18, counted from 1 in the file)
    expect(() => readInput(file('typo.txt', `${body('1,5')}\n`))).toThrow(
      /typo\.txt: line 18 is "1,5", not a number, but 39 of its 40 lines are numbers: as a series it needs a number on every line .*; to model the lines as text instead, give them as a JSON array of strings \(argument/,
    );
    expect(() => readInput(file('typo.txt', `\n\n${body('x')}\n`))).toThrow(DataError);
    expect(() => readInput(file('typo.txt', `\n\n${body('x')}\n`))).toThrow(/line 20 is "x"/);
    const two = Array.from({ length: 40 }, (_, i) => (i === 3 || i === 30 ? 'n/a' : String(i))).join('\n');
    expect(() => readInput(file('typo2.txt', two))).toThrow(/line 4 is "n\/a", not a number \(nor is one more line\), but 38 of its 40/);
    // fewer than 10 numbers, or under 90 % of the lines: text, as before
    expect(readInput(file('few.txt', '1\n2\n3\nanna\n')).kind).toBe('text');
    expect(readInput(file('mixed.txt', Array.from({ length: 20 }, (_, i) => (i % 4 ? String(i) : `w${i}`)).join('\n'))).kind).toBe('text');
  });

  it('tab- and semicolon-separated files (decimal commas with semicolons) read as the same series as the CSV', () => {
    const want = readInput(file('plain.csv', 'timestamp,a,b\n2024-01-01,1.5,-2\n2024-01-02,3,4e-1\n'));
    const tsv = readInput(file('tabs.tsv', 'timestamp\ta\tb\n2024-01-01\t1.5\t-2\n2024-01-02\t3\t4e-1\n'));
    const tabs = readInput(file('tabs.csv', 'timestamp\ta\tb\n2024-01-01\t1.5\t-2\n2024-01-02\t3\t4e-1\n'));
    const semi = readInput(file('semi.csv', 'timestamp;a;b\n2024-01-01;1,5;-2\n2024-01-02;3;4e-1\n'));
    for (const got of [tsv, tabs, semi]) {
      if (got.kind !== 'csv' || want.kind !== 'csv') throw new Error('not read as a series');
      expect([got.columns, got.timestampColumn, Array.from(got.segments[0].data), got.segments[0].timestamps]).toEqual([
        want.columns,
        want.timestampColumn,
        Array.from(want.segments[0].data),
        want.segments[0].timestamps,
      ]);
    }
    expect(sniffDelimiter('"x,y";a;b\n', 'q.csv')).toBe(';');
    expect(sniffDelimiter('"x;y;z",a\n', 'q.csv')).toBe(',');
    expect(sniffDelimiter('value\n1\n', 'q.csv')).toBe(',');
  });

  it('JSON: a flat array of numbers, records, or one record per NDJSON line is one series, read as the CSV would be', () => {
    const want = readInput(file('rec.csv', 'timestamp,cpu,mem,label\n2024-01-01,1.5,3,0\n2024-01-02,,4,1\n2024-01-03,2,5,0\n'), {
      findLabels: true,
      missing: 'nan',
    });
    const recs = [
      { timestamp: '2024-01-01', cpu: 1.5, mem: 3, label: 0 },
      { timestamp: '2024-01-02', cpu: null, mem: 4, label: 1 },
      { timestamp: '2024-01-03', cpu: 2, mem: 5, label: 0 },
    ];
    const json = readInput(file('rec.json', JSON.stringify(recs)), { findLabels: true, missing: 'nan' });
    const nd = readInput(file('rec.ndjson', recs.map((r) => JSON.stringify(r)).join('\n')), { findLabels: true, missing: 'nan' });
    for (const got of [json, nd]) {
      if (got.kind !== 'csv' || want.kind !== 'csv') throw new Error('not read as one series');
      expect([got.columns, got.labelColumns, got.timestampColumn, got.segments[0].timestamps]).toEqual([
        ['cpu', 'mem'],
        ['label'],
        'timestamp',
        want.segments[0].timestamps,
      ]);
      expect(Array.from(got.segments[0].data)).toEqual(Array.from(want.segments[0].data));
    }
    const flat = readInput(file('flat.json', '[1, 2.5, null, 4]'), { missing: 'nan' });
    expect(flat.kind === 'csv' && [flat.columns, Array.from(flat.segments[0].data)]).toEqual([['value'], [1, 2.5, NaN, 4]]);
    // arrays of sequences keep their meaning; --columns names record keys, not sequence features
    expect(readInput(file('seqs2.json', '[[1, 2], [3, 4, 5]]')).kind).toBe('json');
    expect(() => readInput(join(dir, 'seqs2.json'), { columns: ['value'] })).toThrow(/--columns and --timestamp apply to CSV/);
  });

  it('train leaves out columns of text (ids, hosts); a date under another name or a stray word in numbers is still an error', () => {
    const kpi = readInput(file('kpi-id.csv', 'timestamp,value,host,kpi\n1,0.5,web-1,a9f\n2,0.7,,a9f\n3,0.2,web-2,a9f\n'), {
      findLabels: true,
    });
    expect(kpi.kind === 'csv' && [kpi.columns, kpi.textColumns]).toEqual([['value'], ['host', 'kpi']]);
    // without train's detection (score reads the saved columns) nothing is left out
    expect(() => readInput(join(dir, 'kpi-id.csv'))).toThrow(/non-numeric value at row 1 \(line 2\), column "host"/);
    expect(() => readInput(file('stray.csv', 'a,b\n1,2\n3,oops\n'), { findLabels: true })).toThrow(/non-numeric value.*"oops"/);
    expect(() => readInput(file('when.csv', 'when,v\n2024-01-01,1\n2024-01-02,2\n'), { findLabels: true })).toThrow(
      /column "when".*pass --timestamp when/,
    );
    expect(() => readInput(file('all-text.csv', 'a\nx\ny\n'), { findLabels: true })).toThrow(/non-numeric value.*"x"/);
    for (const d of [
      '2024-01-02',
      '2014-07-06 20:10:00',
      '2024-01-01T00:00:00.000Z',
      '2020-01-01 00:00:00+00:00',
      '02/01/2024',
      'Jan 5 2024',
    ])
      expect(looksLikeDate(d), d).toBe(true);
    for (const d of ['web-1', 'host 3', 'a9f', '12', 'x']) expect(looksLikeDate(d), d).toBe(false);
  });

  it('a column named date, time, ds, … is the time axis when it holds dates or a counter that never goes back', () => {
    const dated = readInput(file('dated-sales.csv', 'Date,sales\n2024-01-01,3\n2024-01-02,4\n2024-01-03,2\n'));
    expect(dated.kind === 'csv' && [dated.timestampColumn, dated.columns, dated.segments[0].timestamps]).toEqual([
      'Date',
      ['sales'],
      ['2024-01-01', '2024-01-02', '2024-01-03'],
    ]);
    const counter = readInput(file('counter.csv', 'time,v\n0,3\n1,4\n1,5\n7,2\n'));
    expect(counter.kind === 'csv' && [counter.timestampColumn, counter.columns]).toEqual(['time', ['v']]);
    // other common names of a time column: Unix seconds under ts / epoch, dates under created_at / time_utc
    for (const [name, first, second] of [
      ['ts', '1700000000', '1700000060'],
      ['epoch', '1700000000', '1700000060'],
      ['created_at', '2024-01-01 00:00:00', '2024-01-01 00:01:00'],
      ['time_utc', '2024-01-01T00:00:00Z', '2024-01-01T00:01:00Z'],
      ['unix_time', '1700000000', '1700000060'],
      ['t', '0', '1'],
      ['timestep', '10', '20'],
    ]) {
      const t = readInput(file(`${name}.csv`, `${name},v\n${first},3\n${second},4\n`));
      expect(t.kind === 'csv' && [t.timestampColumn, t.columns]).toEqual([name, ['v']]);
    }
    // pandas' index column (DataFrame.to_csv): unnamed (read as `index`) or `Unnamed: 0`, row numbers or dates
    const unnamed = readInput(file('pandas.csv', ',v\n0,3\n1,4\n2,5\n'));
    expect(unnamed.kind === 'csv' && [unnamed.timestampColumn, unnamed.columns]).toEqual(['index', ['v']]);
    const named = readInput(file('pandas0.csv', 'Unnamed: 0,v\n0,3\n1,4\n'));
    expect(named.kind === 'csv' && [named.timestampColumn, named.columns]).toEqual(['Unnamed: 0', ['v']]);
    const dates = readInput(file('pandas-dates.csv', ',v\n2024-01-01,3\n2024-01-02,4\n'));
    expect(dates.kind === 'csv' && [dates.timestampColumn, dates.segments[0].timestamps]).toEqual(['index', ['2024-01-01', '2024-01-02']]);
    // an index column that is not first, or that goes back, stays a feature
    const second = readInput(file('index2.csv', 'v,index\n3,0\n4,1\n'));
    expect(second.kind === 'csv' && second.columns).toEqual(['v', 'index']);
    const back2 = readInput(file('index3.csv', 'index,v\n2,3\n1,4\n'));
    expect(back2.kind === 'csv' && back2.columns).toEqual(['index', 'v']);
    // a time-like name over values that are not times stays a feature; `timestamp` keeps its precedence
    const back = readInput(file('dt.csv', 'dt,v\n0.5,3\n0.2,4\n0.9,5\n'));
    expect(back.kind === 'csv' && [back.timestampColumn, back.columns]).toEqual([undefined, ['dt', 'v']]);
    const both = readInput(file('both.csv', 'date,timestamp,v\n1,2024-01-01,1\n2,2024-01-02,2\n'));
    expect(both.kind === 'csv' && [both.timestampColumn, both.columns]).toEqual(['timestamp', ['date', 'v']]);
    // --timestamp false-like choices are the caller's: an explicit column wins
    const given = readInput(file('given.csv', 'Date,when,v\n1,1,3\n2,2,4\n'), { timestamp: 'when' });
    expect(given.kind === 'csv' && [given.timestampColumn, given.columns]).toEqual(['when', ['Date', 'v']]);
  });

  it('without a header, a last column of 0/1 with at most half 1 is labels (value,label); any extension holding numbers is a series', () => {
    const rows = '0.5,0\n0.7,0\n3.1,1\n0.6,0\n';
    // TSB-UAD's layout (.out): value,label; the labels are found and left out of the features
    for (const name of ['tsb.out', 'tsb.csv', 'tsb.txt', 'tsb']) {
      const a = readInput(file(name, rows), { findLabels: true });
      expect(a.kind === 'csv' && [a.columns, a.labelColumns, Array.from(a.segments[0].data)]).toEqual([
        ['value'],
        ['label'],
        [0.5, 0.7, 3.1, 0.6].map(Math.fround),
      ]);
    }
    // three columns: x0, x1, label; a 0/1 column with more 1s than 0s, or a last column of other values, is a feature
    const m = readInput(file('three.dat', '1,2,0\n3,4,1\n5,6,0\n'), { findLabels: true });
    expect(m.kind === 'csv' && [m.columns, m.labelColumns]).toEqual([['x0', 'x1'], ['label']]);
    const mostly = readInput(file('mostly.csv', '1,1\n2,1\n3,0\n'), { findLabels: true });
    expect(mostly.kind === 'csv' && [mostly.columns, mostly.labelColumns]).toEqual([['x0', 'x1'], undefined]);
    const other = readInput(file('other.csv', '1,0\n2,0.5\n3,1\n'), { findLabels: true });
    expect(other.kind === 'csv' && other.columns).toEqual(['x0', 'x1']);
    // a file that is not numbers, with an extension of its own: a UsageError that names the formats
    expect(() => readInput(file('notes.out', 'hello\nworld\n'))).toThrow(
      /cannot tell the format of .*notes\.out from its extension "\.out", and it is not a file of numbers/,
    );
  });
});

/** A NumPy .npy file (version 1.0, little-endian, C order) of `values` with `shape`. */
function npy(descr: '<f4' | '<f8', shape: number[], values: number[]): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n'; // the data starts at a multiple of 64
  const size = descr === '<f4' ? 4 : 8;
  const out = Buffer.alloc(10 + header.length + values.length * size);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(out);
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  values.forEach((x, i) =>
    size === 4 ? out.writeFloatLE(x, 10 + header.length + 4 * i) : out.writeDoubleLE(x, 10 + header.length + 8 * i),
  );
  return out;
}

describe('readInput: NumPy .npy files', () => {
  it('[N] float32 is one column `value`, [N, D] float64 columns x0, x1, …; other arrays are a DataError', () => {
    writeFileSync(join(dir, 'a.npy'), npy('<f4', [3], [0.5, -1.25, 2]));
    const a = readInput(join(dir, 'a.npy'));
    expect(a.kind === 'csv' && [a.columns, Array.from(a.segments[0].data)]).toEqual([['value'], [0.5, -1.25, 2]]);
    writeFileSync(join(dir, 'b.npy'), npy('<f8', [2, 3], [1, 2, 3, 4, 5, 6.5]));
    const b = readInput(join(dir, 'b.npy'));
    expect(b.kind === 'csv' && [b.columns, Array.from(b.segments[0].data)]).toEqual([
      ['x0', 'x1', 'x2'],
      [1, 2, 3, 4, 5, 6.5],
    ]);
    writeFileSync(join(dir, 'c.npy'), npy('<f8', [1, 2, 3], [1, 2, 3, 4, 5, 6]));
    expect(() => readInput(join(dir, 'c.npy'))).toThrow(/shape \(1, 2, 3\); expected \[N\] or \[N, D\]/);
    writeFileSync(join(dir, 'd.npy'), Buffer.from('not numpy at all'));
    expect(() => readInput(join(dir, 'd.npy'))).toThrow(/not a NumPy \.npy file/);
    writeFileSync(join(dir, 'e.npy'), npy('<f8', [4], [1, 2]));
    expect(() => readInput(join(dir, 'e.npy'))).toThrow(/fewer values than its shape/);
  });

  it('lstm-vae train / score take a .npy series with no flags', () => {
    const v = Array.from({ length: 400 }, (_, i) => Math.sin((2 * Math.PI * i) / 25) + (i >= 300 && i < 303 ? 3 : 0));
    writeFileSync(join(dir, 'telemetry.npy'), npy('<f4', [400], v));
    const t = ok(['train', 'telemetry.npy', '--threads', '1']);
    expect(t.stdout + t.stderr).toMatch(/training an anomaly detector on 400 rows × 1 column \(value\)/);
    const rows = csv(ok(['score', 'telemetry.safetensors', 'telemetry.npy', '-o', '-', '--quiet']).stdout);
    expect(rows).toHaveLength(401);
    expect(rows.slice(301, 304).every((r) => r[2] === '1')).toBe(true);
  }, 120_000);
});

describe('lstm-vae CLI: continuous data', () => {
  const trainArgs = [
    'train',
    'series.csv',
    '--timestamp',
    'time',
    '--labels',
    'label',
    '--window',
    '24',
    '--stride',
    '4',
    '--epochs',
    '12',
    '--threads',
    '1',
    '--out',
    'model.safetensors',
    '-q',
  ];

  it('train writes the model, an HTML report and an SVG', () => {
    const r = ok(trainArgs);
    expect(r.stdout).toMatch(/saved model\.safetensors: \d+ parameters/);
    for (const f of ['model.safetensors', 'model.html', 'model.svg']) expect(existsSync(join(dir, f)), f).toBe(true);
    const html = readFileSync(join(dir, 'model.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src="http/);
    expect(readFileSync(join(dir, 'model.svg'), 'utf8')).toMatch(/<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });

  it('train says whether the window model learnt the windows’ shape: a warning after one epoch, with the flags to change', () => {
    const r = ok([
      'train',
      'series.csv',
      '--timestamp',
      'time',
      '--window',
      '24',
      '--stride',
      '4',
      '--epochs',
      '1',
      '--threads',
      '1',
      '--out',
      'one-epoch.safetensors',
    ]);
    expect(r.stderr).toMatch(
      /^warning: the model has not learnt the shape of the windows: its reconstruction error is \d+% of the window mean's .*(train longer \(--epochs\) or try another window \(--window\)|look like noise)/m,
    );
    expect(readFileSync(join(dir, 'one-epoch.html'), 'utf8')).toMatch(/Warning: the model has not learnt the shape of the windows/);
    // and info says it too, from the file
    expect(ok(['info', 'one-epoch.safetensors']).stdout).toMatch(
      /diagnostics\s+warning: the model has not learnt the shape of the windows/,
    );
  });

  it('info shows the configuration, parameters and training summary', () => {
    const r = ok(['info', 'model.safetensors']);
    expect(r.stdout).toMatch(/mode\s+continuous/);
    expect(r.stdout).toMatch(/parameters\s+[\d,]+/);
    expect(r.stdout).toMatch(/columns temp, hum, timestamp time/);
    expect(r.stdout).toMatch(/history\s+12 epochs/);
    const j = JSON.parse(ok(['info', 'model.safetensors', '--json']).stdout);
    expect(j.config).toMatchObject({ mode: 'continuous', features: 2, hidden: 32, latent: 8 });
    expect(j.parameters).toBeGreaterThan(1000);
    expect(j.training.epochs).toBe(12);
    expect(j.window).toEqual({ length: 24, stride: 4, whole: false });
    expect(j.normalizer.type).toBe('minmax');
    expect(Number.isFinite(j.scoring.threshold)).toBe(true);
  });

  it('score writes one row per time point; the planted anomaly scores above the median', () => {
    const r = ok(['score', 'model.safetensors', 'series.csv', '--out', 'scores.csv', '--threads', '1']);
    expect(r.stdout).toMatch(/scored 480 points/);
    const rows = csvRows('scores.csv');
    expect(rows[0]).toEqual(['time', 'score', 'anomaly']);
    expect(rows).toHaveLength(N + 1);
    const scores = rows.slice(1).map((c) => Number(c[1]));
    expect(scores.every(Number.isFinite)).toBe(true);
    expect(rows.slice(1).every((c) => c[2] === '0' || c[2] === '1')).toBe(true);
    expect(rows[1][0]).toBe('2024-01-01T00:00:00.000Z');
    const median = [...scores].sort((a, b) => a - b)[N >> 1];
    const planted = scores.slice(ANOMALY[0], ANOMALY[1] + 1);
    const mean = planted.reduce((a, v) => a + v, 0) / planted.length;
    expect(mean).toBeGreaterThan(median);
    expect(Math.max(...planted)).toBe(Math.max(...scores));
    expect(existsSync(join(dir, 'scores.html'))).toBe(true);
    expect(existsSync(join(dir, 'scores.svg'))).toBe(true);
  });

  it('score --windows writes one row per window; --threshold overrides the saved one', () => {
    ok(['score', 'model.safetensors', 'series.csv', '--windows', '--threshold', '1e9', '--out', 'windows.csv', '--no-report']);
    const rows = csvRows('windows.csv');
    expect(rows[0]).toEqual(['window', 'start', 'end', 'time_start', 'time_end', 'score', 'anomaly']);
    expect(rows).toHaveLength(1 + (N - 24) / 4 + 1); // starts 0, 4, …, 456
    expect(rows.slice(1).every((c) => c[6] === '0')).toBe(true);
    expect(existsSync(join(dir, 'windows.html'))).toBe(false);
  });

  it('eval reports ROC-AUC, PR-AUC, best F1 and segment F1', () => {
    const text = ok(['eval', 'model.safetensors', 'series.csv', '--labels', 'label']).stdout;
    expect(text).toMatch(/ROC-AUC\s+[01]\.\d{4}/);
    expect(text).toMatch(/PR-AUC/);
    expect(text).toMatch(/best F1/);
    expect(text).toMatch(/segment F1/);
    const j = JSON.parse(ok(['eval', 'model.safetensors', 'series.csv', '--labels', 'label', '--json']).stdout);
    expect(j.count).toBe(N);
    expect(j.anomalies).toBe(ANOMALY[1] - ANOMALY[0] + 1);
    expect(j.rocAuc).toBeGreaterThan(0.9);
    expect(j.averagePrecision).toBeGreaterThan(0.5);
    expect(j.bestF1.f1).toBeGreaterThan(0.5);
    expect(j.segments).toMatchObject({ labelled: 1 });
    // labels from a file of intervals
    writeFileSync(join(dir, 'labels.json'), JSON.stringify([ANOMALY]));
    const k = JSON.parse(ok(['eval', 'model.safetensors', 'series.csv', '--labels', 'labels.json', '--json']).stdout);
    expect(k.rocAuc).toBeCloseTo(j.rocAuc, 10);
  });

  it('reconstruct and sample write CSV in the data units', () => {
    ok(['reconstruct', 'model.safetensors', 'series.csv', '--out', 'recon.csv']);
    const rows = csvRows('recon.csv');
    expect(rows[0]).toEqual(['time', 'temp', 'hum', 'temp_reconstructed', 'hum_reconstructed', 'squared_error']);
    expect(rows).toHaveLength(N + 1);
    const s = ok(['sample', 'model.safetensors', '-n', '3', '--length', '10']).stdout.trim().split('\n');
    expect(s[0]).toBe('sample,step,temp,hum');
    expect(s).toHaveLength(31);
    // the samples are roughly in the training data's range (the min-max normalizer is inverted)
    const temps = s.slice(1).map((l) => Number(l.split(',')[2]));
    expect(temps.every((v) => v > 0 && v < 60)).toBe(true);
  });

  it('trains on JSON sequences and scores per sequence step', () => {
    ok(['train', 'seqs.json', '--epochs', '3', '--hidden', '8', '--latent', '2', '--out', 'seqs.safetensors', '--no-report', '-q']);
    expect(existsSync(join(dir, 'seqs.html'))).toBe(false);
    ok(['score', 'seqs.safetensors', 'seqs.json', '--out', 'seq-scores.csv', '-q']);
    const rows = csvRows('seq-scores.csv');
    expect(rows[0]).toEqual(['sequence', 'step', 'score', 'anomaly']);
    expect(rows).toHaveLength(1 + 40 * 12);
  });
});

describe('lstm-vae CLI: the anomaly detector (train / score / eval / reconstruct with no flags)', () => {
  // A seasonal series (period 40) with a trend and three labelled spikes.
  const spikes = [500, 800, 1100];
  beforeAll(() => {
    let csv = 'timestamp,value,label\n';
    for (let i = 0; i < 1400; i++) {
      const t = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString();
      const a = spikes.includes(i) ? 1 : 0;
      const v = Math.sin((2 * Math.PI * i) / 40) + i / 700 + 0.05 * Math.sin(i * 2.3) + (a ? 3 : 0);
      csv += `${t},${v.toFixed(4)},${a}\n`;
    }
    writeFileSync(join(dir, 'seasonal.csv'), csv);
    // no flags at all: the model goes beside the data, as seasonal.safetensors (with seasonal.html), and the 0/1
    // `label` column is recognised as labels, not used as a feature (reconstruct's header below shows the one feature)
    const t = ok(['train', 'seasonal.csv']);
    expect(t.stdout + t.stderr).toMatch(/column label holds 0\/1 labels: not used as a feature/);
    expect(t.stdout + t.stderr).toMatch(/on 1400 rows × 1 column \(value\)/);
  }, 200_000);

  it('a file that holds the components of its value column (Yahoo S5 A3/A4: trend, noise, seasonalities) trains on value alone, and score reads the same', () => {
    let csv = 'timestamps,value,anomaly,changepoint,trend,noise,seasonality1,seasonality2,seasonality3\n';
    for (let i = 0; i < 600; i++) {
      const [trend, noise, s1, s2, s3] = [i / 100, 0.1 * Math.sin(i * 2.3), Math.sin(i / 2), 0.5 * Math.sin(i / 4), 0.2 * Math.sin(i / 24)];
      csv += `${1416726000 + 3600 * i},${(trend + noise + s1 + s2 + s3).toFixed(4)},0,0,${trend},${noise.toFixed(4)},${s1.toFixed(4)},${s2.toFixed(4)},${s3.toFixed(4)}\n`;
    }
    writeFileSync(join(dir, 'yahoo-a3.csv'), csv);
    const args = ['--members', '1', '--max-steps', '20', '--no-report'];
    const t = ok(['train', 'yahoo-a3.csv', '--out', 'a3.safetensors', ...args]);
    expect(t.stderr).toMatch(
      /^columns trend, noise, seasonality1, seasonality2, seasonality3 are named as components of column value .*: not used as features; --columns chooses the features yourself$/m,
    );
    expect(t.stderr).toMatch(/on 600 rows × 1 column \(value\)/);
    const scored = ok(['score', 'a3.safetensors', 'yahoo-a3.csv', '--out', 'a3.csv', '--no-report']);
    expect(scored.stdout + scored.stderr).toMatch(/scored 600 rows/);
    expect(csvRows('a3.csv')[0]).toEqual(['timestamps', 'score', 'anomaly']);
    // its times are Unix seconds: the summary line gives them as dates (the CSV keeps them as written)
    const all = ok(['score', 'a3.safetensors', 'yahoo-a3.csv', '--out', 'a3.csv', '--no-report', '--threshold', '0']).stdout;
    expect(all).toMatch(/: 2014-11-23T07:00:00Z–2014-12-18T06:00:00Z \(peak 2014-1\d-\d\dT\d\d:00:00Z\)/);
    expect(csvRows('a3.csv')[1][0]).toBe('1416726000');
    // --columns names them when they are wanted; without a value column such names are measurements
    const both = ok(['train', 'yahoo-a3.csv', '--out', 'a3b.safetensors', '--columns', 'value,trend', ...args]);
    expect(both.stderr).toMatch(/× 2 columns \(value, trend\)/);
    expect(both.stderr).not.toMatch(/components/);
    writeFileSync(join(dir, 'no-value.csv'), csv.replace(/^timestamps,value,/, 'timestamps,level,'));
    expect(ok(['train', 'no-value.csv', '--out', 'nv.safetensors', ...args]).stderr).toMatch(/× 6 columns \(level, trend, noise/);
  }, 120_000);

  it('score says how many rows of an interval were filled (missing in the file), not measured', () => {
    const rows = Array.from({ length: 1200 }, (_, i) => (i >= 500 && i < 800 ? '' : Math.sin(i / 6).toFixed(4)));
    writeFileSync(join(dir, 'gap.csv'), `value\n${rows.join('\n')}\n`);
    ok(['train', 'gap.csv', '--out', 'gap.safetensors', '--members', '1', '--max-steps', '20', '--no-report', '-q']);
    // --threshold 0: one interval over every row, 300 of them filled
    const all = ok(['score', 'gap.safetensors', 'gap.csv', '--out', 'gap-s.csv', '--threshold', '0', '--no-report']).stdout;
    expect(all).toMatch(/: 0–1199 \(peak \d+; 300 of its 1200 rows filled, not measured\)/);
    // the same series without its gap: no such words
    writeFileSync(join(dir, 'nogap.csv'), `value\n${rows.map((v, i) => v || Math.sin(i / 6).toFixed(4)).join('\n')}\n`);
    const none = ok(['score', 'gap.safetensors', 'nogap.csv', '--out', 'gap-s.csv', '--threshold', '0', '--no-report']).stdout;
    expect(none).toMatch(/: 0–1199 \(peak \d+\)/);
  }, 120_000);

  it('the report of a wide table draws the 8 columns with the largest error in the detected intervals, and in each reconstruction panel the 4 with the largest around its point', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const rows = Array.from({ length: 1200 }, (_, i) =>
      names.map((_, j) => (Math.sin(i / (4 + j)) + (j === 4 && i >= 900 && i < 920 ? 8 : 0)).toFixed(4)).join(','),
    );
    writeFileSync(join(dir, 'wide.csv'), `${names.join(',')}\n${rows.join('\n')}\n`);
    ok(['train', 'wide.csv', '--out', 'wide.safetensors', '--members', '1', '--max-steps', '100', '--no-report', '-q']);
    ok(['score', 'wide.safetensors', 'wide.csv', '--out', 'wide-s.csv', '--threshold', '0', '-q']);
    const html = readFileSync(join(dir, 'wide-s.html'), 'utf8');
    expect(html).toContain('score: input (8 of 10 columns: largest error in the detected intervals)');
    // one interval (every row): its panel is around the peak, at the step in e, and e is among its columns
    const titles = [...html.matchAll(/(detected|typical)[^<]*\(4 of 10 columns\)/g)].map((m) => m[0]);
    expect(titles).toHaveLength(2);
    const detected = html.slice(html.indexOf(titles[0]), html.indexOf(titles[1]));
    expect(detected).toContain('e (reconstructed)');
    expect((detected.match(/\((reconstructed)\)/g) ?? []).length).toBe(4);
  }, 120_000);

  it('a long series: train says how far the threshold is, score how far the scoring is, and train scores its series once', () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => (Math.sin(i / 6) + 0.1 * Math.sin(i / 97)).toFixed(4));
    writeFileSync(join(dir, 'long.csv'), `value\n${rows.join('\n')}\n`);
    const t = run(['train', 'long.csv', '--out', 'long.safetensors', '--max-steps', '10', '--no-report']);
    expect(t.code, t.stderr).toBe(0);
    // not a terminal: a line at each quarter of the windows of the three models
    const quarters = [
      ...t.stderr.matchAll(
        /^setting the threshold: the trained models reconstruct every window of the series: (\d+)% of ([\d,]+) windows$/gm,
      ),
    ];
    expect(quarters.map((m) => m[1])).toEqual(['25', '50', '75', '100']);
    const windows = Number(quarters[0][2].replace(/,/g, ''));
    expect(windows % 3).toBe(0);
    expect(windows).toBeGreaterThan(100_000);
    // the summary on the training series reuses those reconstructions: no second pass
    expect(t.stderr).not.toMatch(/^scoring:/m);
    expect(t.stdout).toMatch(/on the training series: \d+ anomalous interval/);
    const s = run(['score', 'long.safetensors', 'long.csv', '--out', 'long-s.csv', '--no-report']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(
      new RegExp(`^scoring: the models reconstruct every window of the series: 100% of ${quarters[0][2]} windows$`, 'm'),
    );
    expect(run(['score', 'long.safetensors', 'long.csv', '--out', 'long-s.csv', '--no-report', '-q']).stderr).toBe('');
  }, 180_000);

  it('eval scores a detector with its own scores and intervals (its saved rule); --k is refused', () => {
    const r = ok(['eval', 'seasonal.safetensors', 'seasonal.csv', '--labels', 'label', '--json']);
    const m = JSON.parse(r.stdout);
    expect(m.count).toBe(1400);
    expect(m.anomalies).toBe(3);
    expect(m.rocAuc).toBeGreaterThan(0.95);
    expect(m.segments.labelled).toBe(3);
    expect(m.segments.tp).toBe(3);
    const text = ok(['eval', 'seasonal.safetensors', 'seasonal.csv', '--labels', 'label']).stdout;
    expect(text).toMatch(/segment F1 .*mean \+ 3·std of the training series' smoothed errors .*or a point's own error above/);
    // without --labels, a detector takes the file's column of 0/1 labels, and says so
    const found = ok(['eval', 'seasonal.safetensors', 'seasonal.csv']).stdout;
    expect(found).toMatch(/^points: 1400 \(3 labelled anomalous, labels from column label\)/);
    expect(found.split('\n').slice(1).join('\n')).toBe(text.split('\n').slice(1).join('\n'));
    writeFileSync(join(dir, 'seasonal-unlabelled.csv'), readFileSync(join(dir, 'seasonal.csv'), 'utf8').replace(/,label$/m, ',state'));
    fails(['eval', 'seasonal.safetensors', 'seasonal-unlabelled.csv'], 2, /has no column of 0\/1 labels .*pass --labels/);
    fails(
      ['eval', 'seasonal.safetensors', 'seasonal.csv', '--labels', 'label', '--k', '3'],
      2,
      /anomaly detector.*--k applies to window models/,
    );
  }, 120_000);

  it('train says how many models it trained; --members 1 trains one (info tells), --members 0 is refused; --no-latent-score, --no-tail-correction', () => {
    const three = ok(['info', 'seasonal.safetensors']).stdout;
    expect(three).toMatch(/3 models \(seeds apart\), their point errors averaged/);
    expect(three).toMatch(/the last \d+ points' errors first put on the scale of points that every window holds/);
    expect(three).toMatch(/or the latent score .* \(point error bar [0-9.e+-]+; latent bars [0-9.e+-]+ and [0-9.e+-]+ \(point\)\)/);
    const t = ok([
      'train',
      'seasonal.csv',
      '--members',
      '1',
      '--max-steps',
      '30',
      '--no-latent-score',
      '--no-tail-correction',
      '--out',
      'one.safetensors',
      '--no-report',
    ]);
    expect(t.stdout + t.stderr).toMatch(/trained 30 steps in/);
    const one = ok(['info', 'one.safetensors']).stdout;
    expect(one).toMatch(/30 steps/);
    expect(one).not.toMatch(/models \(seeds apart\)/);
    expect(one).not.toMatch(/latent score|latent bars/);
    expect(one).not.toMatch(/the last \d+ points' errors/);
    fails(['train', 'seasonal.csv', '--members', '0', '--out', 'zero.safetensors'], 2, /--members/);
    fails(
      ['train', 'seasonal.csv', '--members', '2', '--epochs', '3', '--out', 'w.safetensors', '-q'],
      2,
      /--members, --no-latent-score and --no-tail-correction go with the anomaly detector/,
    );
  }, 120_000);

  it('reconstruct writes every row with its reconstruction and score, and the reconstruction follows the series', () => {
    ok(['reconstruct', 'seasonal.safetensors', 'seasonal.csv', '-o', 'det-rec.csv']);
    const rows = csvRows('det-rec.csv');
    expect(rows[0]).toEqual(['timestamp', 'value', 'value_reconstructed', 'score']);
    expect(rows.length).toBe(1401);
    const score = csv(ok(['score', 'seasonal.safetensors', 'seasonal.csv', '-o', '-', '--quiet']).stdout);
    let se = 0;
    let sv = 0;
    const mean = rows.slice(1).reduce((a, r) => a + Number(r[1]), 0) / 1400;
    for (let i = 1; i <= 1400; i++) {
      expect(Number(rows[i][3])).toBeCloseTo(Number(score[i][1]), 5); // the same scores as score
      if (spikes.includes(i - 1)) continue;
      se += (Number(rows[i][1]) - Number(rows[i][2])) ** 2;
      sv += (Number(rows[i][1]) - mean) ** 2;
    }
    expect(se / sv).toBeLessThan(0.05);
    // the report shows the series beside the reconstruction around the detected intervals and a typical row
    const html = readFileSync(join(dir, 'seasonal.html'), 'utf8');
    expect(html).toContain('Reconstructions (solid: input, dashed: reconstruction)');
    expect((html.match(/detected 2024-/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('typical: around 2024-');
    // the summary line gives each interval's peak (its highest score's row), inside it and within 3 rows of a spike
    const said = ok(['score', 'seasonal.safetensors', 'seasonal.csv', '-o', 'peaks.csv']).stdout;
    const row = (t: string) => (Date.parse(t) - Date.UTC(2024, 0, 1)) / 3_600_000;
    const found = [...said.matchAll(/(\S+)–(\S+) \(peak ([^;)]+)/g)].map((m) => m.slice(1, 4).map(row));
    expect(found.length).toBeGreaterThanOrEqual(3);
    for (const [a, b, peak] of found) expect(a <= peak && peak <= b && b - a > 6).toBe(true);
    for (const spike of spikes) expect(found.some(([, , peak]) => Math.abs(peak - spike) <= 3)).toBe(true);
  }, 120_000);
});

describe('lstm-vae CLI: text (token) models', () => {
  it('a .txt of numbers (one per line, as the UCR anomaly archive; NaN for a missing value) trains and scores an anomaly detector, not a text model', () => {
    const v = Array.from({ length: 600 }, (_, i) => Math.sin((2 * Math.PI * i) / 30) + (i >= 400 && i < 403 ? 3 : 0));
    // row 100 is missing (NaN): filled, and said so
    writeFileSync(join(dir, 'ucr.txt'), v.map((x, i) => (i === 100 ? 'NaN' : x.toFixed(5))).join('\n') + '\n');
    const t = ok(['train', 'ucr.txt', '--threads', '1']);
    expect(t.stdout + t.stderr).toMatch(/training an anomaly detector on 600 rows × 1 column \(value\)/);
    expect(t.stdout + t.stderr).toMatch(/missing values: 1 of 600 cells \(0\.17%\) filled by linear interpolation/);
    const rows = csv(ok(['score', 'ucr.safetensors', 'ucr.txt', '-o', '-', '--quiet']).stdout);
    expect(rows[0]).toEqual(['index', 'score', 'anomaly']);
    expect(rows).toHaveLength(601);
    // the spike's rows are flagged
    expect(rows.slice(401, 404).every((r) => r[2] === '1')).toBe(true);
    const sc = ok(['score', 'ucr.safetensors', 'ucr.txt', '-o', 'ucr-scores.csv', '--no-report']);
    expect(sc.stdout + sc.stderr).toMatch(/missing values: 1 of 600 cells \(0\.17%\) filled/);
  }, 120_000);

  it('train on .txt, then generate, info and score', () => {
    ok(['train', 'names.txt', '--epochs', '4', '--hidden', '16', '--latent', '4', '--out', 'names.safetensors', '-q']);
    expect(existsSync(join(dir, 'names.html'))).toBe(true);
    const g = ok(['generate', 'names.safetensors', '-n', '7', '--temperature', '0.8', '--max-length', '12']).stdout;
    const lines = g.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(7);
    expect(lines.every((l) => /^[a-z]{0,12}$/.test(l))).toBe(true);
    expect(ok(['info', 'names.safetensors']).stdout).toMatch(/mode\s+tokens[\s\S]*tokenizer\s+characters/);
    ok(['score', 'names.safetensors', 'names.txt', '--out', 'name-scores.csv', '--no-report', '-q']);
    const rows = csvRows('name-scores.csv');
    expect(rows[0]).toEqual(['line', 'sequence', 'score', 'anomaly']);
    expect(rows).toHaveLength(1 + 64);
  });
});

describe('lstm-vae CLI: errors', () => {
  it('bad files give exit code 1 and one line on stderr', () => {
    fails(['train', 'missing.csv', '--out', 'x.safetensors'], 1, /missing\.csv.*does not exist/);
    fails(['train', 'ragged.csv', '--window', '2', '--out', 'x.safetensors'], 1, /malformed CSV/);
    fails(['train', 'text-in-numbers.csv', '--window', '2', '--out', 'x.safetensors'], 1, /non-numeric value.*"x"/);
    fails(['train', 'series.csv', '--columns', 'temp,nope', '--out', 'x.safetensors'], 1, /unknown column "nope"/);
    fails(['info', 'garbage.safetensors'], 1, /garbage\.safetensors is not a safetensors model file \(header length \d+ is absurdly large/);
    fails(['score', 'nothere.safetensors', 'series.csv'], 1, /nothere\.safetensors.*does not exist/);
    const bytes = readFileSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'truncated.safetensors'), bytes.subarray(0, bytes.length - 100));
    fails(['score', 'truncated.safetensors', 'series.csv'], 1, /truncated\.safetensors is truncated: it ends before its data does \(/);
    // a time column under another name: the hint says how to name it
    writeFileSync(join(dir, 'dated.csv'), 'recorded,value\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,2\n');
    fails(
      ['train', 'dated.csv', '--out', 'x.safetensors'],
      1,
      /non-numeric value.*column "recorded".*If "recorded" holds the times, pass --timestamp recorded/,
    );
    fails(
      ['train', 'text-in-numbers.csv', '--out', 'x.safetensors'],
      1,
      /"x" \(argument: row 2, column b; expected: a finite number; got: x\)$/,
    );
    fails(['score', 'model.safetensors', 'seqs.json'], 1, /value column/);
    fails(['eval', 'model.safetensors', 'series.csv', '--labels', 'nolabels'], 2, /no such column/);
    // constant columns in a header-less table (as SMD's): kept, said in one line with the --columns that leaves them
    // out, shown by info; a file whose every column is constant: nothing to learn, nothing written
    writeFileSync(
      join(dir, 'flat-columns.txt'),
      Array.from({ length: 300 }, (_, i) => `${Math.sin(i / 4).toFixed(4)},0,${Math.cos(i / 7).toFixed(4)},3`).join('\n'),
    );
    const flat = ok(['train', 'flat-columns.txt', '--out', 'flat.safetensors', '--members', '1', '--max-steps', '20']);
    expect(flat.stderr).toMatch(
      /^2 columns are constant in the training file \(x1 = 0, x3 = 3\): kept, so a change from those values in a scored file counts as anomalous; to ignore them, train with --columns x0,x2$/m,
    );
    expect(ok(['info', 'flat.safetensors']).stdout).toMatch(/constant.*x1 = 0, x3 = 3 in training/);
    writeFileSync(join(dir, 'all-flat.csv'), 'a,b\n' + '1,2\n'.repeat(300));
    fails(
      ['train', 'all-flat.csv', '--out', 'x.safetensors', '-q'],
      1,
      /^lstm-vae: every column is constant \(a = 1, b = 2\): there is nothing to learn from this series/,
    );
    expect(existsSync(join(dir, 'x.safetensors'))).toBe(false);
    // a series in a .txt with one stray word: the line named, no text model trained, nothing written
    writeFileSync(
      join(dir, 'typo-series.txt'),
      Array.from({ length: 300 }, (_, i) => (i === 150 ? 'n/a' : Math.sin(i / 5).toFixed(4))).join('\n'),
    );
    fails(
      ['train', 'typo-series.txt', '--out', 'typo.safetensors', '-q'],
      1,
      /^lstm-vae: .*typo-series\.txt: line 151 is "n\/a", not a number/,
    );
    expect(existsSync(join(dir, 'typo.safetensors'))).toBe(false);
    // several series one after another (an id column changes where the times start again): refused by train and score
    const kpi = ['timestamp,value,label,KPI ID'];
    for (const id of ['a1', 'b2', 'c3'])
      for (let i = 0; i < 200; i++) kpi.push(`${1_500_000_000 + 60 * i},${Math.sin(i / 6).toFixed(4)},0,${id}`);
    writeFileSync(join(dir, 'kpi-stacked.csv'), `${kpi.join('\n')}\n`);
    const stacked =
      /kpi-stacked\.csv: the file holds 3 series one after another, one for each value of column "KPI ID" \(a1, b2, c3\), each with its own times \(they start again at row 200\): a detector learns one series; split the file by KPI ID/;
    fails(['train', 'kpi-stacked.csv', '--out', 'kpi.safetensors', '-q'], 1, stacked);
    expect(existsSync(join(dir, 'kpi.safetensors'))).toBe(false);
    fails(['score', 'ucr.safetensors', 'kpi-stacked.csv', '--timestamp', 'timestamp', '-q'], 1, stacked);
  });

  it('bad arguments give exit code 2 and one line on stderr', () => {
    fails([], 2, /no command/);
    fails(['frobnicate'], 2, /unknown command/);
    fails(['train', 'series.csv', '--out', 'x.safetensors', '--epochs', 'abc'], 2, /--epochs.*whole number/);
    fails(['train', 'series.csv', '--out', 'x.safetensors', '--lr', '-1'], 2, /--lr/);
    fails(['train', 'series.csv', '--out', 'x.safetensors', '--bogus'], 2, /unknown option/);
    fails(['score', 'model.safetensors'], 2, /missing required argument/);
    fails(['train', 'data.xyz', '--out', 'x.safetensors'], 1, /data\.xyz.*does not exist/);
    writeFileSync(join(dir, 'data.xyz'), 'a,b\n1,2\n');
    fails(['train', 'data.xyz', '--out', 'x.safetensors'], 2, /extension ".xyz", and it is not a file of numbers/);
    fails(['generate', 'model.safetensors'], 2, /continuous model/);
    fails(['train', 'names.txt', '--window', '5', '--out', 'x.safetensors'], 2, /--window/);
  });

  it('LSTM_VAE_DEBUG=1 adds the stack trace; --help shows examples', () => {
    const r = run(['info', 'garbage.safetensors'], { LSTM_VAE_DEBUG: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\s+at /m);
    for (const cmd of [[], ['train'], ['score'], ['eval'], ['generate'], ['sample'], ['reconstruct'], ['info'], ['bench']]) {
      const h = ok([...cmd, '--help']);
      expect(h.stdout, cmd.join(' ')).toMatch(/Examples:\n\s+\$ lstm-vae/);
    }
    expect(ok(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
