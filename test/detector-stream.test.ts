// det.stream(): rows pushed one at a time give, after the stated delay, the batch scores to the last bit, and a
// stream saved half-way and restored continues identically.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AnomalyDetector,
  decodeSafetensors,
  encodeSafetensors,
  type DetectorPlan,
  type IntervalExplanation,
  init,
  type StreamPoint,
} from '../dist/index.node.js';
import { synthetic } from '../src/data/synthetic.js';

/** Seeded sines with a phase and an amplitude per feature and a little noise; each anomaly flips one feature's sign for a while. */
function wavy(seed: number, n: number, d: number, period: number, anomalies: Array<{ feature: number; start: number; length: number }>) {
  let st = seed * 2654435761;
  const rand = () => {
    st = (st * 1664525 + 1013904223) >>> 0;
    return st / 2 ** 32 - 0.5;
  };
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) data[i * d + j] = (1 + 0.5 * j) * Math.sin((2 * Math.PI * i) / period + j) + 0.1 * rand() + j;
  for (const a of anomalies)
    for (let i = a.start; i < a.start + a.length; i++) data[i * d + a.feature] = 2 * a.feature - data[i * d + a.feature];
  return { data, shape: [n, d] as [number, number] };
}

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
      // the latent score decides some of these scores (the comparison covers it): without it (the plan's latent part
      // taken out of the file) the error score alone is lower there, and never higher
      expect(det.plan.latent).toBeDefined();
      const file = decodeSafetensors(det.toSafetensors());
      const plan = JSON.parse(file.metadata.metadata);
      delete plan.detector.latent;
      const errorOnly = AnomalyDetector.fromSafetensors(
        encodeSafetensors(file.tensors, { ...file.metadata, metadata: JSON.stringify(plan) }),
      );
      try {
        const e = errorOnly.score(series).scores;
        let latentDecides = 0;
        for (let i = live.delay; i < n - live.delay; i++) {
          expect(e[i]).toBeLessThanOrEqual(batch.scores[i]);
          if (e[i] < batch.scores[i]) latentDecides++;
        }
        expect(latentDecides).toBeGreaterThan(0);
      } finally {
        errorOnly.dispose();
      }
    } finally {
      det.dispose();
    }
  });

  // A series with a known anomaly in one feature: a clean series of the same shape trains the detector.
  it.each([
    {
      name: 'univariate',
      n: 2000,
      period: 40,
      features: 1,
      anomalies: [
        { feature: 0, start: 600, length: 12 },
        { feature: 0, start: 1500, length: 40 },
      ],
    },
    {
      name: 'three features',
      n: 3000,
      period: 50,
      features: 3,
      anomalies: [
        { feature: 1, start: 1000, length: 30 },
        { feature: 2, start: 2200, length: 30 },
      ],
    },
    {
      name: 'two features, aggregated rows',
      n: 4200,
      period: 300,
      features: 2,
      anomalies: [
        { feature: 1, start: 1500, length: 90 },
        { feature: 0, start: 3000, length: 90 },
      ],
    },
  ])(
    '$name: alarms opened and closed by the stream are the batch intervals, explained alike, across save/restore',
    async ({ n, period, features, anomalies }) => {
      const det = await AnomalyDetector.fit(wavy(1, n, features, period, []), { maxSteps: 300 });
      try {
        const series = wavy(2, n, features, period, anomalies);
        const batch = det.score(series);
        const live = det.stream();
        let resumed: ReturnType<typeof det.stream> | undefined;
        const events: Array<NonNullable<StreamPoint['event']> & { at: number }> = [];
        const resumedEvents: typeof events = [];
        for (let i = 0; i < n; i++) {
          const row = series.data.subarray(i * features, (i + 1) * features);
          const p = live.push(row);
          if (p.event) events.push({ ...p.event, at: p.index });
          if (resumed) {
            const q = resumed.push(row);
            if (q.event) resumedEvents.push({ ...q.event, at: q.index });
          }
          if (i === Math.floor(n / 2)) resumed = det.stream(live.save());
          if (!p.warmingUp) expect(p.score).toBe(batch.scores[p.index]);
        }
        // Alarms: every batch interval the stream could close (its closing score emitted) is reported, with the same rows.
        const { padding, gap, aggregate: f } = det.plan;
        const join = Math.max(gap, 2 * padding);
        const lastEmitted = n - 1 - live.delay;
        const closable = batch.intervals.filter(([, b]) => b < n - 1 && ((b + 1) / f - 1 - padding + join + 1) * f <= lastEmitted);
        const closed = events.filter((e) => e.type === 'close');
        const opened = events.filter((e) => e.type === 'open');
        expect(closable.length).toBeGreaterThan(0);
        expect(closed.map((e) => e.interval)).toEqual(closable);
        expect(opened.map((e) => e.interval[0])).toEqual(batch.intervals.slice(0, opened.length).map(([a]) => a));
        expect(opened.length - closed.length).toBeLessThanOrEqual(1);
        for (const e of events) {
          // an interval opens at its first score above the threshold, and closes after its end
          if (e.type === 'open') expect(batch.scores[e.at]).toBeGreaterThan(det.plan.threshold);
          else expect(e.at).toBeGreaterThan(e.interval[1]);
        }
        // … with the batch's explanation of the same rows (sums merged in another order: equal to rounding)
        const sameExplanation = (a: IntervalExplanation, b: IntervalExplanation) => {
          expect(a.interval).toEqual(b.interval);
          expect(a.by).toBeDefined();
          expect(a.by).toBe(b.by);
          expect(a.features.map((x) => x.feature)).toEqual(b.features.map((x) => x.feature));
          a.features.forEach((x, k) => expect(x.share).toBeCloseTo(b.features[k].share, 9));
          expect(a.steps.map((x) => x.index)).toEqual(b.steps.map((x) => x.index));
          a.steps.forEach((x, k) => expect(x.share).toBeCloseTo(b.steps[k].share, 9));
        };
        closed.forEach((e, k) => {
          if (e.type === 'close') sameExplanation(e.explanation, batch.explanations[k]);
        });
        // a stream restored half-way reports the same alarms from then on
        const after = events.filter((e) => e.at > Math.floor(n / 2) - live.delay);
        expect(after.length).toBeGreaterThan(0);
        expect(resumedEvents.map((e) => [e.type, e.interval])).toEqual(after.map((e) => [e.type, e.interval]));
        // the injected anomalies: the feature that carries each one's error and the rows it was injected into
        for (const a of anomalies) {
          const k = batch.intervals.findIndex(([lo, hi]) => lo <= a.start && a.start <= hi);
          expect(k, `an interval holds the anomaly at ${a.start}`).toBeGreaterThanOrEqual(0);
          const x = batch.explanations[k];
          expect(x.features[0].feature).toBe(a.feature);
          expect(x.steps[0].index).toBeGreaterThanOrEqual(a.start - 2 * det.plan.aggregate);
          expect(x.steps[0].index).toBeLessThan(a.start + a.length + 2 * det.plan.aggregate);
          if (features > 1) expect(x.steps[0].features.indexOf(Math.max(...x.steps[0].features))).toBe(a.feature);
        }
      } finally {
        det.dispose();
      }
    },
  );

  it('an alarm that the latent score decides names it (by), as the batch interval does, across save/restore', async () => {
    const n = 2000;
    const trained = await AnomalyDetector.fit(wavy(1, n, 1, 40, []), { maxSteps: 300 });
    const file = decodeSafetensors(trained.toSafetensors());
    trained.dispose();
    const series = wavy(2, n, 1, 40, [{ feature: 0, start: 900, length: 30 }]);
    // the error's bars raised (by the first factor that leaves the latent score to decide an interval that ends well
    // before the series does; the latent score is unchanged), so that the comparison covers latent-decided alarms
    let det: AnomalyDetector | undefined;
    let batch: ReturnType<AnomalyDetector['score']> | undefined;
    for (const factor of [1, 2, 4, 8, 16]) {
      const meta = JSON.parse(file.metadata.metadata);
      meta.detector.threshold *= factor;
      if (meta.detector.pointThreshold !== undefined) meta.detector.pointThreshold *= factor;
      const d = AnomalyDetector.fromSafetensors(encodeSafetensors(file.tensors, { ...file.metadata, metadata: JSON.stringify(meta) }));
      const r = d.score(series);
      if (r.explanations.some((e) => e.interval[1] < n / 2 + 200 && (e.by === 'latent' || e.by === 'latent-point'))) {
        [det, batch] = [d, r];
        break;
      }
      d.dispose();
    }
    if (!det || !batch) throw new Error('no factor made the latent score decide an interval');
    try {
      const live = det.stream();
      let resumed: ReturnType<typeof det.stream> | undefined;
      const closed: IntervalExplanation[] = [];
      const resumedClosed: IntervalExplanation[] = [];
      for (let i = 0; i < n; i++) {
        const row = series.data.subarray(i, i + 1);
        const p = live.push(row);
        if (p.event?.type === 'close') closed.push(p.event.explanation);
        const q = resumed?.push(row);
        if (q?.event?.type === 'close') resumedClosed.push(q.event.explanation);
        if (i === 700) resumed = det.stream(live.save());
      }
      expect(closed.length).toBeGreaterThan(0);
      closed.forEach((e, k) => {
        expect(e.interval).toEqual(batch.explanations[k].interval);
        expect(e.by).toBe(batch.explanations[k].by);
      });
      expect(closed.some((e) => e.by === 'latent' || e.by === 'latent-point')).toBe(true);
      const late = closed.filter((e) => resumedClosed.some((r) => r.interval[0] === e.interval[0]));
      expect(resumedClosed.length).toBeGreaterThan(0);
      expect(resumedClosed.map((e) => [e.interval, e.by])).toEqual(late.map((e) => [e.interval, e.by]));
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

const CLI = join(__dirname, '..', 'dist', 'cli.js');

/** Runs `f` in a new temporary folder, removed afterwards. */
async function inScratchDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-vae-watch-'));
  try {
    await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A detector fitted on a seeded one-column series, saved in `dir` as the CLI saves it; its batch scores and delay. */
async function watchModel(dir: string, seed: number, n: number) {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const s = synthetic(seed, { n, period: 25, anomalies: 1 });
  const det = await AnomalyDetector.fit(Array.from(s.data), { maxSteps: 20, columns: ['value'] });
  const model = join(dir, 'd.safetensors');
  det.model.metadata = { ...det.model.metadata, cliInput: { columns: ['value'], timestamp: null } };
  writeFileSync(model, det.toSafetensors());
  const batch = det.score(Array.from(s.data));
  const delay = det.stream().delay;
  det.dispose();
  return { s, model, batch, delay };
}

describe('lstm-vae watch', () => {
  beforeAll(async () => {
    await init();
  });

  it("reads an empty line of a one-column CSV as that row's missing value: every row keeps its index", async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'lstm-vae-watch-'));
    try {
      const { s, model, batch, delay } = await watchModel(scratch, 13, 500);
      const rows = Array.from(s.data, (v, i) => (i === 300 ? '' : String(v))); // row 300's value missing
      const wasm = process.execArgv.filter((a) => a.includes('wasm'));
      const r = spawnSync(process.execPath, [...wasm, join(__dirname, '..', 'dist', 'cli.js'), 'watch', model], {
        input: `value\n${rows.join('\n')}\n`,
        encoding: 'utf8',
      });
      expect([r.status, r.stderr]).toEqual([0, '']);
      const scored = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((p) => !p.warmingUp);
      expect(scored.map((p) => p.index)).toEqual(Array.from({ length: 500 - delay }, (_, i) => i));
      // rows whose scores do not reach row 300 are the batch's; the last one is still finite
      for (const p of scored.filter((q) => q.index + delay < 300)) expect(p.score).toBe(batch.scores[p.index]);
      expect(Number.isFinite(scored[scored.length - 1].score)).toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('prints one NDJSON line per row with the stream scores, skips a malformed line, and saves its state', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, existsSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'lstm-vae-watch-'));
    try {
      const { s, model, batch, delay } = await watchModel(dir, 13, 500);
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

  it('reads semicolon-separated rows with decimal commas and tab-separated rows as the comma-separated ones', () =>
    inScratchDir(async (dir) => {
      const { spawnSync } = await import('node:child_process');
      await init();
      const { s, model } = await watchModel(dir, 14, 300);
      const flags = process.execArgv.filter((a) => a.includes('wasm'));
      const run = (text: string) => {
        const r = spawnSync(process.execPath, [...flags, CLI, 'watch', model], { input: text, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        return r.stdout;
      };
      const values = Array.from(s.data, (v) => v.toFixed(6));
      const comma = run(`t,value\n${values.map((v, i) => `${i},${v}`).join('\n')}\n`);
      expect(comma.trim().split('\n')).toHaveLength(300);
      expect(run(`t;value\n${values.map((v, i) => `${i};${v.replace('.', ',')}`).join('\n')}\n`)).toBe(comma);
      expect(run(`t\tvalue\n${values.map((v, i) => `${i}\t${v}`).join('\n')}\n`)).toBe(comma);
    }));

  it('end to end: rows written slowly by another process with malformed lines, SIGINT half-way, then resumed from its state: no line lost, no stack trace, the batch scores', async () => {
    const { spawn, spawnSync } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'lstm-vae-watch-'));
    try {
      await init();
      const n = 600;
      const half = 330;
      const { s, model, batch, delay } = await watchModel(dir, 15, n);
      const state = join(dir, 'w.state');
      const cli = join(__dirname, '..', 'dist', 'cli.js');
      const flags = process.execArgv.filter((a) => a.includes('wasm'));
      const child = spawn(process.execPath, [...flags, cli, 'watch', model, '--state', state], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (b) => (out += b));
      child.stderr.on('data', (b) => (err += b));
      const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      const lines = () => out.split('\n').filter((l) => l.length > 0).length;
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      child.stdin.write('value\n');
      for (let i = 0; i < half; i++) {
        if (i === 40) child.stdin.write('oops\n');
        if (i === 200) child.stdin.write('1,2,3,4\n');
        child.stdin.write(`${s.data[i]}\n`);
        if (i % 15 === 14) await sleep(5); // a slow writer
      }
      const t0 = Date.now();
      while (lines() < half && Date.now() - t0 < 60_000) await sleep(20);
      expect(lines()).toBe(half); // every row written so far has its line
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(err).not.toMatch(/^\s+at /m);
      expect(err.match(/skipped/g)).toHaveLength(2);
      const first = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      // resumed from the state file with the rest of the rows
      const rest = Array.from(s.data.subarray(half), (v) => String(v));
      const r = spawnSync(process.execPath, [...flags, cli, 'watch', model, '--state', state], {
        input: `value\n${rest.join('\n')}\n`,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const second = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(second).toHaveLength(n - half);
      const scored = [...first, ...second].filter((p) => !p.warmingUp);
      expect(scored.map((p) => p.index)).toEqual(Array.from({ length: n - delay }, (_, i) => i));
      for (const p of scored) expect(p.score).toBe(batch.scores[p.index]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('--threshold spot: each line carries the online threshold, as det.stream(undefined, { threshold: "spot" }) gives it', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'lstm-vae-watch-'));
    try {
      await init();
      const s = synthetic(14, { n: 1500, period: 25, anomalies: 2 });
      const det = await AnomalyDetector.fit(Array.from(s.data), { maxSteps: 20, columns: ['value'] });
      const model = join(dir, 'd.safetensors');
      det.model.metadata = { ...det.model.metadata, cliInput: { columns: ['value'], timestamp: null } };
      writeFileSync(model, det.toSafetensors());
      const live = det.stream(undefined, { threshold: 'spot' });
      const want = Array.from(s.data, (v) => live.push([v])).filter((p) => !p.warmingUp);
      det.dispose();
      const cli = join(__dirname, '..', 'dist', 'cli.js');
      const flags = process.execArgv.filter((a) => a.includes('wasm'));
      const r = spawnSync(process.execPath, [...flags, cli, 'watch', model, '--threshold', 'spot'], {
        input: `value\n${Array.from(s.data, (v) => String(v)).join('\n')}\n`,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const got = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((p) => !p.warmingUp);
      expect(got.map((p) => [p.index, p.score, p.threshold, p.anomaly])).toEqual(
        want.map((p) => [p.index, p.score, p.threshold, p.anomaly]),
      );
      // the online threshold moves once calibrated
      expect(new Set(got.map((p) => p.threshold)).size).toBeGreaterThan(1);
      const bad = spawnSync(process.execPath, [...flags, cli, 'watch', model, '--threshold', 'pot'], { input: '', encoding: 'utf8' });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/--threshold.*pot.*(saved|spot)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lstm-vae watch --alarms', () => {
  beforeAll(async () => {
    await init();
  });

  it('prints one line per alarm opened and closed: the batch intervals, with the feature that carries each', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'lstm-vae-watch-'));
    try {
      const n = 2000;
      const columns = ['cpu', 'mem'];
      const det = await AnomalyDetector.fit(wavy(1, n, 2, 40, []), { maxSteps: 300, columns });
      const series = wavy(2, n, 2, 40, [
        { feature: 1, start: 700, length: 20 },
        { feature: 0, start: 1400, length: 20 },
      ]);
      const model = join(dir, 'd.safetensors');
      det.model.metadata = { ...det.model.metadata, cliInput: { columns, timestamp: 'time' } };
      writeFileSync(model, det.toSafetensors());
      const batch = det.score(series);
      const delay = det.stream().delay;
      const join2 = Math.max(det.plan.gap, 2 * det.plan.padding);
      det.dispose();
      const stamp = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
      const lines = ['time,cpu,mem', ...Array.from({ length: n }, (_, i) => `${stamp(i)},${series.data[2 * i]},${series.data[2 * i + 1]}`)];
      const cli = join(__dirname, '..', 'dist', 'cli.js');
      const flags = process.execArgv.filter((a) => a.includes('wasm'));
      const r = spawnSync(process.execPath, [...flags, cli, 'watch', model, '--alarms'], {
        input: `${lines.join('\n')}\n`,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const out = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const closable = batch.intervals.filter(([, b]) => b < n - 1 && b - det.plan.padding + join2 + 1 <= n - 1 - delay);
      const closed = out.filter((p) => p.alarm === 'close');
      expect(closable.length).toBeGreaterThanOrEqual(2);
      expect(closed.map((p) => p.interval)).toEqual(closable);
      // an alarm opens on its first score above the threshold (`padding` rows after its start), which the stream
      // reports `delay` rows later: an interval whose first such row is among the last `delay` rows cannot open yet
      const openable = batch.intervals.filter(([a]) => (a === 0 ? 0 : a + det.plan.padding) <= n - 1 - delay);
      expect(out.filter((p) => p.alarm === 'open').map((p) => p.start)).toEqual(openable.map(([a]) => a));
      closed.forEach((p, k) => {
        expect(p.from).toBe(stamp(closable[k][0]));
        expect(p.to).toBe(stamp(closable[k][1]));
        expect(p.peakTime).toBe(stamp(p.peak));
        expect(Object.keys(p.features)[0]).toBe(batch.explanations[k].features[0].name);
        expect(p.by).toBe(batch.explanations[k].by);
      });
      // the injected anomalies: the feature named first is the one that was changed
      for (const [start, name] of [
        [700, 'mem'],
        [1400, 'cpu'],
      ] as const) {
        const p = closed.find((q) => q.interval[0] <= start && start <= q.interval[1]);
        expect(p, `an alarm holds row ${start}`).toBeDefined();
        expect(Object.keys(p.features)[0]).toBe(name);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The commands below on detector files written here: each test in its own scratch folder, the CLI run as a child process
// on the same WebAssembly build as this process (Node 20 needs the flag for relaxed SIMD).
describe('lstm-vae score and recalibrate on detector files', () => {
  let dir = '';
  beforeAll(async () => {
    await init();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lstm-vae-cli-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [...process.execArgv.filter((a) => a.includes('wasm')), join(__dirname, '..', 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
    });
  /** `file`'s plan edited, written as `name` in the scratch folder (with the CLI's reading of a `value` column). */
  const writeEdited = (
    file: ReturnType<typeof decodeSafetensors>,
    name: string,
    edit: (meta: { detector: DetectorPlan; cliInput?: unknown }) => void,
  ) => {
    const meta = JSON.parse(file.metadata.metadata);
    edit(meta);
    const bytes = encodeSafetensors(file.tensors, { ...file.metadata, metadata: JSON.stringify(meta) });
    writeFileSync(join(dir, name), bytes);
    return bytes;
  };

  it('score names the latent score beside an interval it decided, and nothing beside one the smoothed error decided', async () => {
    const n = 2000;
    const trained = await AnomalyDetector.fit(wavy(1, n, 1, 40, []), { maxSteps: 300, columns: ['value'] });
    const file = decodeSafetensors(trained.toSafetensors());
    trained.dispose();
    const series = wavy(2, n, 1, 40, [{ feature: 0, start: 900, length: 30 }]);
    writeFileSync(join(dir, 's.csv'), `value\n${Array.from(series.data).join('\n')}\n`);
    const words = {
      error: 'smoothed error',
      point: "one point's error",
      latent: 'latent score',
      'latent-point': "one point's latent score",
      column: "one column's own error",
    };
    const lines: string[] = [];
    for (const factor of [1, 4]) {
      // the error's bars raised fourfold: the latent score (unchanged) then decides the interval of the anomaly
      const bytes = writeEdited(file, `d${factor}.safetensors`, (meta) => {
        meta.detector.threshold *= factor;
        if (meta.detector.pointThreshold !== undefined) meta.detector.pointThreshold *= factor;
        meta.cliInput = { columns: ['value'], timestamp: null };
      });
      const det = AnomalyDetector.fromSafetensors(bytes);
      const by = det.score(series).explanations.map((e) => e.by);
      det.dispose();
      const r = cli('score', join(dir, `d${factor}.safetensors`), join(dir, 's.csv'), '-o', join(dir, 'o.csv'), '--no-report');
      expect(r.status, r.stderr).toBe(0);
      const line = r.stdout.split('\n').find((l) => l.startsWith('scored')) ?? '';
      lines.push(line);
      // each interval: `a–b (peak p)` or `a–b (peak p; what decided it)` when not the smoothed error
      const tags = [...line.matchAll(/(\d+)–(\d+) \(peak (\d+)(?:; ([^)]*))?\)/g)].map((m) => {
        expect(Number(m[1]) <= Number(m[3]) && Number(m[3]) <= Number(m[2])).toBe(true);
        return m[4] ?? 'smoothed error';
      });
      expect(tags.length).toBeGreaterThan(0);
      expect(tags).toEqual(by.map((b) => words[b ?? 'error']));
    }
    expect(lines[0]).not.toMatch(/latent score\)/);
    expect(lines[1]).toMatch(/latent score\)/);
  });

  it("recalibrate rewrites the detector with det.recalibrate's bars for the file's series; a file of other columns writes nothing", async () => {
    const n = 1200;
    const det = await AnomalyDetector.fit(wavy(1, n, 1, 40, []), { maxSteps: 40, columns: ['value'] });
    det.model.metadata = { ...det.model.metadata, cliInput: { columns: ['value'], timestamp: null } };
    const model = join(dir, 'd.safetensors');
    writeFileSync(model, det.toSafetensors());
    // a noisier week of the same signal
    const week = wavy(3, n, 1, 40, []);
    const noisy = Float32Array.from(week.data, (v, i) => v + 0.3 * Math.sin(i * 12.9898));
    writeFileSync(join(dir, 'week.csv'), `value,other\n${Array.from(noisy, (v) => `${v},1`).join('\n')}\n`);
    const expected = det.recalibrate({ data: noisy, shape: [n, 1] });
    det.dispose();
    const out = join(dir, 'week.safetensors');
    const r = cli('recalibrate', model, join(dir, 'week.csv'), '-o', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^recalibrated on 1200 rows of .*week\.csv: threshold [\d.]+, point error bar [\d.]+, latent bar [\d.]+, the last window's rows corrected → threshold /,
    );
    const loaded = AnomalyDetector.fromSafetensors(new Uint8Array(readFileSync(out)));
    try {
      expect(loaded.plan).toEqual(expected);
    } finally {
      loaded.dispose();
    }
    // --no-tail-correction drops the correction of the last window's rows, and says so
    const plain = join(dir, 'week-plain.safetensors');
    const r2 = cli('recalibrate', model, join(dir, 'week.csv'), '-o', plain, '--no-tail-correction');
    expect(r2.status, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/→ threshold .*the last window's rows as they come;/);
    const dropped = AnomalyDetector.fromSafetensors(new Uint8Array(readFileSync(plain)));
    try {
      expect(dropped.plan.tail).toBeUndefined();
      expect(dropped.plan.latent).toEqual(expected.latent);
    } finally {
      dropped.dispose();
    }
    // a file without the detector's column is one sentence, and nothing is written
    writeFileSync(join(dir, 'other.csv'), `x\n${Array.from(noisy).join('\n')}\n`);
    const bad = cli('recalibrate', model, join(dir, 'other.csv'), '-o', join(dir, 'bad.safetensors'));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/value/);
    expect(existsSync(join(dir, 'bad.safetensors'))).toBe(false);
  });

  it("score takes a file without the training file's time column in file order, says so, and gives the scores of the same rows with their times", async () => {
    const n = 800;
    const det = await AnomalyDetector.fit(wavy(1, n, 1, 40, []), { maxSteps: 20, columns: ['value'] });
    det.model.metadata = { ...det.model.metadata, cliInput: { columns: ['value'], timestamp: 'time' } };
    const model = join(dir, 'd.safetensors');
    writeFileSync(model, det.toSafetensors());
    det.dispose();
    const series = wavy(2, n, 1, 40, []);
    const stamp = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
    writeFileSync(join(dir, 'timed.csv'), `time,value\n${Array.from(series.data, (v, i) => `${stamp(i)},${v}`).join('\n')}\n`);
    writeFileSync(join(dir, 'plain.csv'), `value\n${Array.from(series.data).join('\n')}\n`);
    const score = (f: string) => cli('score', model, join(dir, f), '-o', join(dir, `${f}.out`), '--no-report');
    const plain = score('plain.csv');
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/plain\.csv has no column time \(the training file's times\): its rows are taken in file order/);
    const timed = score('timed.csv');
    expect(timed.status, timed.stderr).toBe(0);
    const col = (f: string) =>
      readFileSync(join(dir, `${f}.out`), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[1]);
    expect(col('plain.csv')).toEqual(col('timed.csv'));
  });
});
