// `eval:nab --csv DIR` (scripts/lib/dev-set.ts): a folder of labelled CSV files, as GutenTAG and TimeEval write them,
// read as held-out series: values as `lstm-vae train` reads them (the label column left out), labels and windows
// from the 0/1 column.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { labelledCsvSeries } from '../scripts/lib/dev-set.js';

describe('labelled CSV folders for held-out checks', () => {
  const dirs: string[] = [];
  const scratch = () => {
    const d = mkdtempSync(join(tmpdir(), 'lstm-vae-heldout-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reads every CSV under the folder, values without the labels, windows from the runs of 1', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'b-two'));
    mkdirSync(join(dir, 'a-one'));
    const rows = (n: number, ones: number[], d: number) =>
      Array.from({ length: n }, (_, i) => [i, ...Array.from({ length: d }, (_, j) => i * 10 + j), ones.includes(i) ? 1 : 0].join(','));
    writeFileSync(join(dir, 'b-two', 'test.csv'), `timestamp,value-0,value-1,is_anomaly\n${rows(8, [2, 3, 6], 2).join('\n')}\n`);
    writeFileSync(join(dir, 'a-one', 'test.csv'), `timestamp,value-0,is_anomaly\n${rows(5, [], 1).join('\n')}\n`);
    const list = labelledCsvSeries(dir);
    expect(list.map((s) => s.name)).toEqual([join('a-one', 'test.csv'), join('b-two', 'test.csv')]);
    const [a, b] = list;
    expect(a.input.shape).toEqual([5, 1]);
    expect(Array.from(a.labels)).toEqual([0, 0, 0, 0, 0]);
    expect(a.windows).toEqual([]);
    expect(b.input.shape).toEqual([8, 2]);
    expect(Array.from(b.input.data).slice(0, 6)).toEqual([0, 1, 10, 11, 20, 21]);
    expect(Array.from(b.labels)).toEqual([0, 0, 1, 1, 0, 0, 1, 0]);
    expect(b.windows).toEqual([
      [2, 3],
      [6, 6],
    ]);
    expect(b.file).toBe(join(dir, 'b-two', 'test.csv'));
  });

  it('pairs a test.csv with the train_no_anomaly.csv beside it (fitted on it), which is not a series of its own', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'paired'));
    mkdirSync(join(dir, 'alone'));
    const rows = (n: number, ones: number[]) => Array.from({ length: n }, (_, i) => `${i},${i * 2},${ones.includes(i) ? 1 : 0}`).join('\n');
    writeFileSync(join(dir, 'paired', 'test.csv'), `timestamp,value-0,is_anomaly\n${rows(6, [4])}\n`);
    writeFileSync(join(dir, 'paired', 'train_no_anomaly.csv'), `timestamp,value-0,is_anomaly\n${rows(9, [])}\n`);
    writeFileSync(join(dir, 'paired', 'train_anomaly.csv'), `timestamp,value-0,is_anomaly\n${rows(9, [1])}\n`);
    writeFileSync(join(dir, 'alone', 'test.csv'), `timestamp,value-0,is_anomaly\n${rows(5, [])}\n`);
    const list = labelledCsvSeries(dir);
    expect(list.map((s) => s.name)).toEqual([join('alone', 'test.csv'), join('paired', 'test.csv')]);
    expect(list[0].train).toBeUndefined();
    expect(list[1].train).toBe(join(dir, 'paired', 'train_no_anomaly.csv'));
    expect(Array.from(list[1].labels)).toEqual([0, 0, 0, 0, 1, 0]);
  });

  it('refuses a file without a label column and a folder without CSV files', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'x.csv'), 'timestamp,value\n0,1\n1,2\n2,3\n');
    expect(() => labelledCsvSeries(dir)).toThrow(/no column of 0\/1 labels/);
    expect(() => labelledCsvSeries(scratch())).toThrow(/no \.csv file/);
  });
});
