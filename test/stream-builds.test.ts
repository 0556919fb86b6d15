// Issue 13's equality on real data, on every build: the sensor-network set (an npm package) fed row by row through
// det.stream() gives, after the stated delay, the batch scores to the last bit, and a stream saved half-way and
// restored continues identically. (NAB's series are checked by the evaluation scripts, which read ../shared/data.)
import { afterAll, describe, expect, it } from 'vitest';
import { AnomalyDetector, backendInfo, dispose, init } from '../dist/index.node.js';
import { loadSensorNetwork } from '../src/data/datasets.js';
import { NATIVE_BUILDS } from './shared/native.js';

const mote = loadSensorNetwork().motes[0]; // mote 1: humidity and temperature, 4,417 rows, one labelled event
const n = mote.data.length / 2;
const series = { data: mote.data, shape: [n, 2] };

describe.each(['simd', 'simd-mt', 'relaxed-mt', ...NATIVE_BUILDS] as const)('stream = batch on the sensor-network set, %s', (build) => {
  afterAll(() => dispose());
  it('every row scored live equals its batch score; save at half-way and restore continues identically', async () => {
    await dispose();
    await init({ build });
    expect(backendInfo().build).toBe(build);
    const det = await AnomalyDetector.fit(series, { seed: 3, maxSteps: 20, columns: ['humidity', 'temperature'] });
    try {
      const batch = det.score(series);
      const rows = Array.from({ length: n }, (_, i) => mote.data.subarray(2 * i, 2 * i + 2));
      const live = det.stream();
      const half = Math.floor(n / 2);
      const first = live.pushMany(rows.slice(0, half));
      const restored = det.stream(live.save());
      const rest = restored.pushMany(rows.slice(half));
      const scored = [...first, ...rest].filter((p) => !p.warmingUp);
      expect(scored).toHaveLength(n - live.delay);
      let differ = 0;
      for (const p of scored) if (p.score !== batch.scores[p.index]) differ++;
      expect(differ).toBe(0);
      // the uninterrupted stream gives the same points as the restored one
      const again = det.stream().pushMany(rows.slice(0, n));
      expect(again.map((p) => p.score)).toEqual([...first, ...rest].map((p) => p.score));
    } finally {
      det.dispose();
    }
  }, 120_000);
});
