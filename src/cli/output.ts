/**
 * Writing the CLI's outputs: files (atomically) or stdout, CSV lines, the HTML / SVG report.
 */

import { extname } from 'node:path';
import { IOError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { renderReport, type ReportInput } from '../report/index.js';
import { note } from './progress.js';

/** Writes `text` to a file atomically, or to stdout for `-` / undefined. */
export async function writeOutput(file: string | undefined, text: string | Uint8Array): Promise<void> {
  if (file === undefined || file === '-') {
    process.stdout.write(text);
    return;
  }
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  try {
    await writeFileAtomic(file, bytes);
  } catch (e) {
    if (e instanceof IOError) throw new IOError(e.message.replace('cannot write model to', 'cannot write'));
    throw e;
  }
}

function csvCell(v: string | number): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(7))) : String(v);
  return /[",\n\r]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(cells: Array<string | number>): string {
  return cells.map(csvCell).join(',') + '\n';
}

/** `model.safetensors` → `model`, `out/scores.csv` → `out/scores`. */
export function stem(file: string): string {
  const ext = extname(file);
  return ext ? file.slice(0, -ext.length) : file;
}

export function reportPaths(out: string | undefined, report: string | boolean | undefined): { html: string; svg: string } | undefined {
  if (report === false) return undefined;
  if (typeof report === 'string') return { html: report, svg: stem(report) + '.svg' };
  if (out === undefined || out === '-') return undefined;
  return { html: stem(out) + '.html', svg: stem(out) + '.svg' };
}

export async function writeReport(paths: { html: string; svg: string } | undefined, input: ReportInput, quiet?: boolean): Promise<void> {
  if (!paths) return;
  const r = renderReport(input);
  await writeOutput(paths.html, r.html);
  await writeOutput(paths.svg, r.svg);
  note(quiet, `report: ${paths.html} (chart: ${paths.svg})`);
}
