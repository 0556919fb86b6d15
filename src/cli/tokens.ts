/**
 * Token (text) models in the CLI: scores of lines and the table of the most anomalous ones.
 */

import { FormatError } from '../core/errors.js';
import type { LstmVae } from '../index.node.js';
import { fmt } from './progress.js';

export function scoreTokens(model: LstmVae, lines: string[]): Float32Array {
  const tok = model.tokenizer;
  if (!tok) throw new FormatError('the token model has no tokenizer saved with it');
  const out = new Float32Array(lines.length);
  const chunk = 512;
  for (let a = 0; a < lines.length; a += chunk) {
    const part = lines.slice(a, a + chunk);
    out.set(model.anomalyScores(tok.encodeBatch(part), { method: 'error' }), a);
  }
  return out;
}

export function topTable(lines: string[], scores: ArrayLike<number>, k: number): { title: string; header: string[]; rows: string[][] } {
  const idx = Array.from(scores, (_, i) => i)
    .sort((a, b) => scores[b] - scores[a])
    .slice(0, k);
  return {
    title: `Most anomalous sequences (top ${idx.length})`,
    header: ['#', 'line', 'sequence', 'score'],
    rows: idx.map((i, r) => [String(r + 1), String(i + 1), lines[i], fmt(scores[i])]),
  };
}
