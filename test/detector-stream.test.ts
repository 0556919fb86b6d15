// det.stream(): rows pushed one at a time give, after the stated delay, the batch scores to the last bit, and a
// stream saved half-way and restored continues identically.
import { beforeAll, describe, expect, it } from 'vitest';
import { AnomalyDetector, init } from '../dist/index.node.js';
import { synthetic } from '../src/data/synthetic.js';

describe('AnomalyDetector.stream', () => {
  beforeAll(async () => {
    await init();
  });

  it.each([
    { name: 'univariate, no aggregation', n: 1500, period: 40, features: 1 },
    { name: 'two features, period 300 (aggregated rows)', n: 2400, period: 300, features: 2 },
  ])('$name: streaming scores equal batch scores; save/restore continues identically', async ({ n, period, features }) => {
    const s = synthetic(11, { n, period, features, kinds: ['spike', 'level'], anomalies: 3 });
    const series = { data: Float32Array.from(s.data), shape: [n, features] as [number, number] };
    const det = await AnomalyDetector.fit(series, { maxSteps: 60 });
    try {
      const batch = det.score(series);
      const live = det.stream();
      expect(live.delay).toBe(
        (det.plan.smoothing - 1 - Math.floor((det.plan.smoothing - 1) / 2) + det.plan.window) * det.plan.aggregate - 1,
      );
      let resumed: ReturnType<typeof det.stream> | undefined;
      let compared = 0;
      for (let i = 0; i < n; i++) {
        const row = series.data.subarray(i * features, (i + 1) * features);
        const p = live.push(row);
        if (resumed) {
          const q = resumed.push(row);
          expect(q.index).toBe(p.index);
          expect(Object.is(q.score, p.score)).toBe(true);
        }
        if (i === Math.floor(n / 2)) {
          const state = live.save();
          expect(state.length).toBeLessThan(16_384);
          resumed = det.stream(state);
        }
        expect(p.warmingUp).toBe(i < live.delay);
        if (p.warmingUp) continue;
        expect(p.index).toBe(i - live.delay);
        expect(p.score).toBe(batch.scores[p.index]);
        expect(p.anomaly).toBe(p.score > det.plan.threshold);
        for (let j = 0; j < features; j++) expect(p.contributions[j]).toBe(batch.contributions[p.index * features + j]);
        compared++;
      }
      expect(compared).toBe(n - live.delay);
    } finally {
      det.dispose();
    }
  });

  it('rejects a row of the wrong width, a non-number and a state of another detector', async () => {
    const s = synthetic(12, { n: 600, period: 30, anomalies: 1 });
    const det = await AnomalyDetector.fit(Array.from(s.data), { maxSteps: 5 });
    try {
      const live = det.stream();
      expect(() => live.push([1, 2])).toThrow(/must have 1 values/);
      expect(() => live.push(['x' as unknown as number])).toThrow(/is not a number/);
      expect(() => live.push([Number.NaN])).toThrow(/first value is missing/);
      expect(() => det.stream(new TextEncoder().encode('{"v":1}'))).toThrow(/does not belong/);
      expect(() => det.stream(new Uint8Array([1, 2, 3]))).toThrow(/not readable/);
    } finally {
      det.dispose();
    }
  });
});

describe('lstm-vae watch', () => {
  it('prints one NDJSON line per row with the stream scores, skips a malformed line, and saves its state', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, existsSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'lstm-vae-watch-'));
    try {
      const s = synthetic(13, { n: 500, period: 25, anomalies: 1 });
      const det = await AnomalyDetector.fit(Array.from(s.data), { maxSteps: 20, columns: ['value'] });
      const model = join(dir, 'd.safetensors');
      det.model.metadata = { ...det.model.metadata, cliInput: { columns: ['value'], timestamp: null } };
      writeFileSync(model, det.toSafetensors());
      const batch = det.score(Array.from(s.data));
      const delay = det.stream().delay;
      det.dispose();
      const lines = ['value', ...Array.from(s.data, (v) => String(v))];
      lines.splice(100, 0, 'not-a-number');
      const state = join(dir, 'w.state');
      const cli = join(__dirname, '..', 'dist', 'cli.js');
      // the same WebAssembly build as this process (Node 20 needs the flag for relaxed SIMD)
      const flags = process.execArgv.filter((a) => a.includes('wasm'));
      const r = spawnSync(process.execPath, [...flags, cli, 'watch', model, '--state', state], {
        input: `${lines.join('\n')}\n`,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/line 101: a value is not a number; skipped/);
      const out = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(out).toHaveLength(500);
      expect(out.filter((p) => p.warmingUp)).toHaveLength(delay);
      for (const p of out.filter((q) => !q.warmingUp)) expect(p.score).toBe(batch.scores[p.index]);
      expect(existsSync(state)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
