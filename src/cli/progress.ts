/**
 * Training progress on stderr: a live bar (cli-progress) with loss, KL, seq/s and ETA on a terminal,
 * one plain line per epoch otherwise (pipes, CI logs).
 */

import cliProgress, { type SingleBar } from 'cli-progress';
import type { BatchStats, EpochStats } from '../train/index.js';

export function fmt(v: number | undefined, digits = 4): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '-';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toString();
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - 60 * m);
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface ProgressOptions {
  epochs: number;
  quiet?: boolean;
  /** Default: whether stderr is a terminal. */
  tty?: boolean;
  stream?: NodeJS.WriteStream;
}

export class TrainingProgress {
  private bar?: SingleBar;
  private readonly epochs: number;
  private readonly quiet: boolean;
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;
  private readonly started = Date.now();
  private lastEpochAt = Date.now();

  constructor(o: ProgressOptions) {
    this.epochs = o.epochs;
    this.quiet = !!o.quiet;
    this.stream = o.stream ?? process.stderr;
    this.tty = o.tty ?? !!this.stream.isTTY;
  }

  onBatchEnd(s: BatchStats): void {
    if (this.quiet || !this.tty) return;
    const payload = {
      ep: `${s.epoch + 1}/${this.epochs}`,
      loss: fmt(s.loss),
      kl: fmt(s.kl, 3),
      sps: s.seqPerSec !== undefined ? Math.round(s.seqPerSec).toString() : '-',
    };
    const value = s.epoch * s.batches + s.batch + 1;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          format: ' epoch {ep} {bar} {percentage}% | loss {loss} | KL {kl} | {sps} seq/s | ETA {eta_formatted}',
          stream: this.stream,
          fps: 8,
          etaBuffer: Math.max(10, s.batches),
          hideCursor: true,
          clearOnComplete: false,
          barsize: 24,
          gracefulExit: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.epochs * s.batches, value, payload);
    } else this.bar.update(value, payload);
  }

  onEpochEnd(s: EpochStats): void {
    if (this.quiet || this.tty) return;
    const now = Date.now();
    const parts = [`epoch ${s.epoch + 1}/${this.epochs}`, `loss ${fmt(s.loss)}`, `recon ${fmt(s.recon)}`, `kl ${fmt(s.kl)}`];
    if (s.valLoss !== undefined && Number.isFinite(s.valLoss)) parts.push(`val ${fmt(s.valLoss)}`);
    if (s.seqPerSec !== undefined) parts.push(`${Math.round(s.seqPerSec)} seq/s`);
    const elapsed = (now - this.started) / 1000;
    const perEpoch = elapsed / (s.epoch + 1);
    parts.push(`${duration((now - this.lastEpochAt) / 1000)}`);
    if (s.epoch + 1 < this.epochs) parts.push(`ETA ${duration(perEpoch * (this.epochs - s.epoch - 1))}`);
    this.lastEpochAt = now;
    this.stream.write(parts.join('  ') + '\n');
  }

  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    }
  }
}

/**
 * A progress line on stderr for long work done in chunks (`(done, total) => void`): on a terminal one line redrawn at
 * each percent, elsewhere a line at each quarter when the work is large (`total` ≥ 100,000). Nothing when quiet, nor
 * when the first call says the work is already done (e.g. reconstructions kept from training).
 */
export function chunkProgress(quiet: boolean | undefined, label: string): (done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  let shown = -1;
  let started = false;
  return (done, total) => {
    if (quiet || total <= 0) return;
    if (!started && done >= total) return;
    started = true;
    const pct = Math.floor((100 * done) / total);
    if (tty) {
      if (pct === shown) return;
      shown = pct;
      process.stderr.write(`\r${label}: ${pct}% of ${total.toLocaleString('en-US')} windows\x1b[K${done >= total ? '\n' : ''}`);
    } else if (total >= 100_000) {
      const quarter = Math.floor(pct / 25);
      if (quarter === shown || quarter === 0) return;
      shown = quarter;
      process.stderr.write(`${label}: ${quarter * 25}% of ${total.toLocaleString('en-US')} windows\n`);
    }
  };
}

/** A status line on stderr (suppressed by --quiet). */
export function note(quiet: boolean | undefined, message: string): void {
  if (!quiet) process.stderr.write(message + '\n');
}
