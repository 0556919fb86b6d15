/**
 * An online threshold on a stream of scores: SPOT with drift correction (DSPOT), Siffer et al., "Anomaly detection in
 * streams with extreme value theory", KDD 2017. The scores' excesses over a high initial quantile `t` follow a
 * generalised Pareto distribution (GPD); the threshold is its quantile of probability `q`:
 *
 *     z = t + σ/γ · ((q·n / Nt)^(−γ) − 1)        (γ ≠ 0; t − σ·ln(q·n / Nt) when γ = 0)
 *
 * with n scores seen and Nt excesses. Each score above z is an anomaly (and not learnt from); a score between t and z
 * adds an excess and refits the GPD, so the threshold follows the scores. Drift: each score is first taken relative to
 * the mean of the last `depth` scores that were not anomalies (DSPOT). The GPD is fitted by the method of moments
 * (running sums: O(1) per score, a state of a few numbers) rather than the paper's Grimshaw maximum likelihood.
 */

import { ConfigError } from '../core/errors.js';

export interface SpotOptions {
  /** Probability of a normal score above the threshold (default 1e-3). */
  q?: number;
  /** Scores that calibrate the threshold before it is used (default 500). */
  calibration?: number;
  /** Drift correction over the mean of the last `depth` normal scores (default 50; 0: none). */
  depth?: number;
}

/** What a SPOT threshold saves (inside the stream's state). */
export interface SpotState {
  q: number;
  calibration: number;
  depth: number;
  /** Calibration scores (drift-corrected) until calibrated, then empty. */
  init: number[];
  /** The last `depth` normal scores (raw), for the drift correction. */
  recent: number[];
  /** Initial quantile, scores seen, excesses over t and their sum and sum of squares. */
  t: number;
  n: number;
  nt: number;
  sum: number;
  sumSq: number;
}

const KEYS = ['threshold', 'q', 'calibration', 'depth'];

/** Checks the stream's threshold options (ConfigError naming what is wrong). */
export function spotOptions(o: unknown): Required<SpotOptions> {
  if (o === null || typeof o !== 'object')
    throw new ConfigError('stream options must be an object', { argument: 'options', expected: 'object', actual: o });
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r))
    if (!KEYS.includes(k)) throw new ConfigError(`unknown stream option ${k}`, { argument: `options.${k}`, expected: KEYS, actual: k });
  const q = r.q ?? 1e-3;
  const calibration = r.calibration ?? 500;
  const depth = r.depth ?? 50;
  if (typeof q !== 'number' || !(q > 0 && q < 1))
    throw new ConfigError('q must be a probability', { argument: 'options.q', expected: '0 < q < 1', actual: q });
  if (!Number.isInteger(calibration) || (calibration as number) < 20)
    throw new ConfigError('calibration must be a whole number of scores, at least 20', {
      argument: 'options.calibration',
      expected: '>= 20',
      actual: calibration,
    });
  if (!Number.isInteger(depth) || (depth as number) < 0)
    throw new ConfigError('depth must be a whole number, 0 for no drift correction', {
      argument: 'options.depth',
      expected: '>= 0',
      actual: depth,
    });
  return { q, calibration: calibration as number, depth: depth as number };
}

export function newSpot(o: Required<SpotOptions>): SpotState {
  return { ...o, init: [], recent: [], t: NaN, n: 0, nt: 0, sum: 0, sumSq: 0 };
}

export function isSpotState(v: unknown): v is SpotState {
  const s = v as SpotState;
  return (
    !!s &&
    typeof s === 'object' &&
    [s.q, s.calibration, s.depth, s.n, s.nt, s.sum, s.sumSq].every((x) => typeof x === 'number' && Number.isFinite(x)) &&
    (typeof s.t === 'number' || s.t === null) &&
    Array.isArray(s.init) &&
    Array.isArray(s.recent)
  );
}

function drift(s: SpotState): number {
  if (s.depth === 0 || s.recent.length === 0) return 0;
  let m = 0;
  for (const v of s.recent) m += v;
  return m / s.recent.length;
}

/** The threshold on excesses over `t` (without the drift term). */
function excessThreshold(s: SpotState): number {
  if (s.nt === 0) return s.t;
  const m = s.sum / s.nt;
  const v = s.sumSq / s.nt - m * m;
  const r = (s.q * s.n) / s.nt;
  if (!(m > 0)) return s.t;
  if (!(v > 1e-12 * m * m)) return s.t - m * Math.log(r); // exponential tail (γ = 0, σ = mean)
  const gamma = 0.5 * (1 - (m * m) / v);
  const sigma = 0.5 * m * ((m * m) / v + 1);
  if (Math.abs(gamma) < 1e-9) return s.t - sigma * Math.log(r);
  return s.t + (sigma / gamma) * (r ** -gamma - 1);
}

/**
 * One score: returns the threshold it was compared with (NaN while calibrating: the caller's fixed threshold applies)
 * and whether it is above; updates the state.
 */
export function spotStep(s: SpotState, x: number): { threshold: number; above: boolean } {
  const remember = () => {
    if (s.depth === 0) return;
    s.recent.push(x);
    if (s.recent.length > s.depth) s.recent.splice(0, s.recent.length - s.depth);
  };
  if (s.recent.length < s.depth && s.n === 0 && s.init.length === 0) {
    // the first `depth` scores only fill the drift window
    remember();
    return { threshold: NaN, above: false };
  }
  const m = drift(s);
  if (s.n === 0) {
    s.init.push(x - m);
    remember();
    if (s.init.length >= s.calibration) {
      const sorted = [...s.init].sort((a, b) => a - b);
      s.t = sorted[Math.floor(0.98 * (sorted.length - 1))];
      for (const v of sorted) {
        if (v > s.t) {
          s.nt++;
          s.sum += v - s.t;
          s.sumSq += (v - s.t) ** 2;
        }
      }
      s.n = sorted.length;
      s.init = [];
    }
    return { threshold: NaN, above: false };
  }
  const z = m + excessThreshold(s);
  if (x > z) return { threshold: z, above: true };
  const y = x - m;
  if (y > s.t) {
    s.nt++;
    s.sum += y - s.t;
    s.sumSq += (y - s.t) ** 2;
  }
  s.n++;
  remember();
  return { threshold: z, above: false };
}
