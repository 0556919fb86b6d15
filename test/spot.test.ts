// The online threshold of det.stream(state, { threshold: 'spot' }): SPOT with drift correction (Siffer et al. 2017).
import { beforeAll, describe, expect, it } from 'vitest';
import { AnomalyDetector, init } from '../dist/index.node.js';
import { newSpot, spotOptions, spotStep } from '../src/detect/spot.js';

/** Seeded scores: a level that drifts upwards, noise with an exponential tail, and spikes at known places. */
function drifting(n: number, slope: number, spikes: number[]) {
  let st = 99;
  const rand = () => {
    st = (st * 1664525 + 1013904223) >>> 0;
    return (st + 0.5) / 2 ** 32;
  };
  const x = Float64Array.from({ length: n }, (_, i) => 1 + slope * i - 0.2 * Math.log(rand()));
  for (const i of spikes) x[i] += 5;
  return x;
}

describe('SPOT threshold', () => {
  it('follows a drifting score series: few false alarms, every spike found, while a fixed threshold floods', () => {
    const n = 6000;
    const spikes = [1500, 2600, 3900, 5200];
    const x = drifting(n, 0.0005, spikes);
    const s = newSpot(spotOptions({ q: 1e-3, calibration: 500, depth: 50 }));
    const flagged: number[] = [];
    const thresholds: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = spotStep(s, x[i]);
      thresholds.push(r.threshold);
      if (r.above) flagged.push(i);
    }
    // calibrated after depth + calibration scores
    expect(Number.isNaN(thresholds[549])).toBe(true);
    expect(Number.isFinite(thresholds[550])).toBe(true);
    for (const i of spikes) expect(flagged).toContain(i);
    expect(flagged.length - spikes.length).toBeLessThan(0.005 * n);
    // the threshold rose with the level (drift 2.7 over the series) …
    expect(thresholds[n - 1] - thresholds[600]).toBeGreaterThan(2);
    // … where the first calibrated threshold, kept fixed, would flag most of the end
    const fixed = thresholds[550];
    expect(x.slice(n - 1000).filter((v) => v > fixed).length).toBeGreaterThan(900);
  });

  it('without drift correction still adapts its tail to new excesses, and rejects bad options', () => {
    const s = newSpot(spotOptions({ depth: 0, calibration: 200 }));
    const x = drifting(2000, 0, []);
    let last = NaN;
    for (const v of x) last = spotStep(s, v).threshold;
    expect(last).toBeGreaterThan(1);
    expect(() => spotOptions({ q: 2 })).toThrow(/q must be a probability/);
    expect(() => spotOptions({ calibration: 5 })).toThrow(/at least 20/);
    expect(() => spotOptions({ depth: -1 })).toThrow(/depth/);
    expect(() => spotOptions({ thresold: 'spot' })).toThrow(/unknown stream option thresold/);
  });
});

describe("det.stream(state, { threshold: 'spot' })", () => {
  beforeAll(async () => {
    await init();
  });

  it('reports the threshold each score met; save/restore continues identically; a state keeps its threshold kind', async () => {
    const n = 1400;
    const data = Float32Array.from(
      { length: n },
      (_, i) => Math.sin((2 * Math.PI * i) / 40) + 0.1 * Math.sin(i * 1.7) + (i > 1000 && i < 1010 ? 3 : 0),
    );
    const det = await AnomalyDetector.fit(Array.from(data.subarray(0, 600)), { maxSteps: 30 });
    try {
      const live = det.stream(undefined, { threshold: 'spot', calibration: 100, depth: 20 });
      const plain = det.stream();
      let resumed: ReturnType<typeof det.stream> | undefined;
      let calibrated = 0;
      for (let i = 0; i < n; i++) {
        const p = live.push([data[i]]);
        const q = plain.push([data[i]]);
        if (resumed) {
          const r = resumed.push([data[i]]);
          expect(r.threshold).toBe(p.threshold);
          expect(r.anomaly).toBe(p.anomaly);
          expect(r.event).toEqual(p.event);
        }
        if (i === 900) resumed = det.stream(live.save());
        if (p.warmingUp) continue;
        expect(p.score).toBe(q.score); // the scores do not change, only what they are compared with
        expect(typeof p.threshold).toBe('number');
        expect(p.anomaly).toBe(p.score > p.threshold!);
        if (p.threshold !== det.plan.threshold) calibrated++;
        expect(q.threshold).toBeUndefined();
      }
      expect(calibrated).toBeGreaterThan(0);
      expect(() => det.stream(live.save(), { threshold: 'saved' })).toThrow(/saved by a stream with the spot threshold/);
      expect(() => det.stream(plain.save(), { threshold: 'spot' })).toThrow(/saved by a stream with the saved threshold/);
      expect(() => det.stream(undefined, { threshold: 'other' as 'spot' })).toThrow(/threshold must be saved or spot/);
    } finally {
      det.dispose();
    }
  });
});
