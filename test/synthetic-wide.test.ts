import { describe, expect, it } from 'vitest';
import { wideSynthetic } from '../src/data/synthetic-wide.js';

describe('wideSynthetic (the wide development family)', () => {
  it('puts each anomaly in one column, inside its labelled rows, and leaves every other value as the clean series has it', () => {
    for (const seed of [2001, 2002, 2003, 2004]) {
      const s = wideSynthetic(seed);
      const clean = wideSynthetic(seed, { anomalies: 0 });
      expect(clean.anomalies).toEqual([]);
      expect(clean.labels.includes(1)).toBe(false);
      expect([s.n, s.d]).toEqual([clean.n, clean.d]);
      expect(s.anomalies.length).toBeGreaterThanOrEqual(3);
      const changed = new Set<string>();
      for (let i = 0; i < s.n; i++)
        for (let j = 0; j < s.d; j++) if (s.data[i * s.d + j] !== clean.data[i * s.d + j]) changed.add(`${i},${j}`);
      const expected = new Set<string>();
      for (const { rows, column, kind } of s.anomalies) {
        // every row of an anomaly but a flat stretch's or an amplitude change's first (their pivot) is changed
        for (let i = rows[0]; i <= rows[1]; i++) {
          expect(s.labels[i]).toBe(1);
          if (kind === 'spike' || kind === 'level' || i > rows[0]) expected.add(`${i},${column}`);
        }
      }
      for (const key of changed) {
        const [i, j] = key.split(',').map(Number);
        expect(s.anomalies.some((a) => a.column === j && i >= a.rows[0] && i <= a.rows[1])).toBe(true);
      }
      for (const key of expected) expect(changed.has(key)).toBe(true);
      let labelled = 0;
      for (const v of s.labels) labelled += v;
      expect(labelled).toBe(s.anomalies.reduce((a, { rows }) => a + rows[1] - rows[0] + 1, 0));
    }
  });

  it('draws columns of every kind and differs from seed to seed', () => {
    const kinds = new Set<string>();
    for (let seed = 2001; seed <= 2008; seed++) for (const k of wideSynthetic(seed).columns) kinds.add(k);
    expect([...kinds].sort()).toEqual(['noise', 'seasonal', 'walk']);
    expect(wideSynthetic(2001).data).not.toEqual(wideSynthetic(2002).data);
    expect(wideSynthetic(2001).data).toEqual(wideSynthetic(2001).data);
  });
});
