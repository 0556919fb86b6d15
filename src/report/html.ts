/**
 * Self-contained HTML reports (inline CSS and SVG, no scripts, no network) for training and scoring runs.
 */

import { escapeXml, heatmapChart, lineChart, PALETTE, scatterChart, type ScatterPoint } from './svg.js';

export interface HistoryRecord {
  epoch: number;
  loss: number;
  recon: number;
  kl: number;
  valLoss?: number;
}

export interface ScoreSeries {
  /** Name of the series (file, mote, sequence…). */
  name: string;
  /** Per-point anomaly scores. */
  scores: ArrayLike<number>;
  threshold?: number;
  /** Labelled anomalous intervals (inclusive point indices), shaded. */
  labels?: ReadonlyArray<readonly [number, number]>;
  /** Detected anomalous intervals (inclusive point indices), marked under the curve. */
  detected?: ReadonlyArray<readonly [number, number]>;
  /** Optional raw values to draw above the scores: one array per feature. */
  values?: {
    columns: string[];
    data: ArrayLike<number>[] /** Said beside the chart's title (e.g. which columns it shows). */;
    note?: string;
  };
  /** Optional per-point, per-feature errors `[N, D]` row-major, drawn as a features × time heatmap under the scores. */
  errors?: { columns: string[]; data: ArrayLike<number>; label?: string };
}

export interface ReconstructionPanel {
  title: string;
  columns: string[];
  /** `[T, D]` row-major, in the data's units. */
  input: ArrayLike<number>;
  output: ArrayLike<number>;
  steps: number;
}

export interface LatentPanel {
  /** `[N, Z]` row-major latent means. */
  mu: ArrayLike<number>;
  latent: number;
  /** Colour by score … */
  values?: ArrayLike<number>;
  valueLabel?: string;
  /** … or by group (0 normal, 1 highlighted …). */
  groups?: ArrayLike<number>;
  groupNames?: string[];
}

export interface ReportInput {
  title: string;
  subtitle?: string;
  summary: Array<[string, string]>;
  history?: HistoryRecord[];
  series?: ScoreSeries[];
  reconstructions?: ReconstructionPanel[];
  latent?: LatentPanel;
  lists?: Array<{ title: string; items: string[] }>;
  tables?: Array<{ title: string; header: string[]; rows: string[][] }>;
  /** Which chart is written as the standalone SVG: 'loss' (default when history exists) or 'scores'. */
  main?: 'loss' | 'scores';
  notes?: string[];
}

export interface RenderedReport {
  html: string;
  /** The main chart as a standalone SVG document. */
  svg: string;
}

/** Stacks several SVG strings vertically into one SVG document. */
export function stackSvgs(svgs: string[], gap = 8): string {
  let y = 0;
  let w = 0;
  let body = '';
  for (const s of svgs) {
    const m = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(s);
    const sw = m ? Number(m[1]) : 760;
    const sh = m ? Number(m[2]) : 260;
    body += s.replace('<svg ', `<svg x="0" y="${y}" `);
    y += sh + gap;
    w = Math.max(w, sw);
  }
  const h = Math.max(1, y - gap);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">${body}</svg>`;
}

function lossCharts(history: HistoryRecord[]): string[] {
  const epochs = history.map((h) => h.epoch + 1);
  const series = [
    { name: 'loss (train)', x: epochs, y: history.map((h) => h.loss), color: PALETTE[0] },
    { name: 'reconstruction', x: epochs, y: history.map((h) => h.recon), color: PALETTE[2], dash: '4 3' },
  ];
  if (history.some((h) => typeof h.valLoss === 'number' && Number.isFinite(h.valLoss))) {
    series.push({
      name: 'loss (validation)',
      x: epochs,
      y: history.map((h) => (typeof h.valLoss === 'number' ? h.valLoss : NaN)),
      color: PALETTE[3],
    });
  }
  const positive = series.every((s) => s.y.every((v) => !Number.isFinite(v) || v > 0));
  const spread = Math.max(...history.map((h) => h.loss)) / Math.max(1e-12, Math.min(...history.map((h) => h.loss)));
  const loss = lineChart(series, {
    title: 'Loss per epoch (ELBO: reconstruction + β·KL)',
    xLabel: 'epoch',
    yLabel: 'loss per sequence',
    logY: positive && spread > 20,
  });
  const kl = lineChart([{ name: 'KL', x: epochs, y: history.map((h) => h.kl), color: PALETTE[4] }], {
    title: 'KL divergence per epoch',
    xLabel: 'epoch',
    yLabel: 'nats per sequence',
    height: 200,
  });
  return [loss, kl];
}

function intervalsToText(iv: ReadonlyArray<readonly [number, number]>, max = 12): string {
  const parts = iv.slice(0, max).map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`));
  if (iv.length > max) parts.push(`… (${iv.length} in all)`);
  return parts.join(', ') || 'none';
}

function scoreCharts(series: ScoreSeries[]): string[] {
  const out: string[] = [];
  for (const s of series) {
    if (s.values && s.values.data.length > 0) {
      out.push(
        lineChart(
          s.values.data.map((y, k) => ({ name: s.values!.columns[k] ?? `x${k}`, y, color: PALETTE[k % PALETTE.length], width: 1.1 })),
          {
            title: `${s.name}: input${s.values.note ? ` (${s.values.note})` : ''}`,
            height: 180,
            shade: s.labels,
            shadeLabel: 'labelled anomaly',
          },
        ),
      );
    }
    out.push(
      lineChart([{ name: 'anomaly score', y: s.scores, color: PALETTE[0], width: 1.1 }], {
        title: `${s.name}: anomaly score per point`,
        xLabel: 'time step',
        yLabel: 'score',
        height: 220,
        shade: s.labels,
        shadeLabel: 'labelled anomaly',
        marks: s.detected,
        markLabel: 'detected',
        hLines: s.threshold !== undefined && Number.isFinite(s.threshold) ? [{ y: s.threshold, label: 'threshold', color: '#d62728' }] : [],
      }),
    );
    if (s.errors && s.errors.data.length > 0) {
      out.push(
        heatmapChart(s.errors.data, {
          rows: s.errors.columns,
          title: `${s.name}: where the error is (features × time)`,
          valueLabel: s.errors.label ?? 'error',
          xLabel: 'time step',
          marks: s.detected,
          markLabel: 'detected',
        }),
      );
    }
  }
  return out;
}

function reconstructionChart(p: ReconstructionPanel): string {
  const d = p.columns.length;
  const series = [];
  for (let k = 0; k < d; k++) {
    const color = PALETTE[k % PALETTE.length];
    const inp = Float64Array.from({ length: p.steps }, (_, t) => p.input[t * d + k]);
    const out = Float64Array.from({ length: p.steps }, (_, t) => p.output[t * d + k]);
    series.push({ name: `${p.columns[k]}`, y: inp, color, width: 1.6 });
    series.push({ name: `${p.columns[k]} (reconstructed)`, y: out, color, dash: '4 3', width: 1.6 });
  }
  return lineChart(series, { title: p.title, width: 500, height: 240, xLabel: 'step' });
}

function latentChart(l: LatentPanel): string {
  const n = Math.floor(l.mu.length / l.latent);
  const pts: ScatterPoint[] = [];
  for (let i = 0; i < n; i++) {
    const p: ScatterPoint = { x: l.mu[i * l.latent], y: l.latent > 1 ? l.mu[i * l.latent + 1] : 0 };
    if (l.groups) p.group = l.groups[i];
    else if (l.values) p.value = l.values[i];
    pts.push(p);
  }
  return scatterChart(pts, {
    title: 'Latent means (first two dimensions)',
    xLabel: 'μ₁',
    yLabel: l.latent > 1 ? 'μ₂' : '',
    groups: l.groups ? (l.groupNames ?? ['normal', 'anomalous']) : undefined,
    valueLabel: l.values ? (l.valueLabel ?? 'score') : undefined,
    width: 460,
    height: 380,
  });
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:16px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin-bottom:14px}
table{border-collapse:collapse;background:#fff;font-size:13px}td,th{border:1px solid #e2e2e2;padding:3px 9px;text-align:left;vertical-align:top}
th{background:#f0f2f5}td.k{color:#555;white-space:nowrap}
.fig{background:#fff;border:1px solid #e2e2e2;border-radius:4px;padding:6px;margin:8px 0;display:inline-block;max-width:100%}
.fig svg{max-width:100%;height:auto}.row{display:flex;flex-wrap:wrap;gap:10px}
ol.names{columns:4;background:#fff;border:1px solid #e2e2e2;padding:10px 10px 10px 34px}
.note{color:#555;font-size:13px}footer{color:#888;font-size:12px;margin-top:30px}
`;

function table(header: string[], rows: string[][]): string {
  let s = '<table>';
  if (header.length) s += '<tr>' + header.map((h) => `<th>${escapeXml(h)}</th>`).join('') + '</tr>';
  for (const row of rows) s += '<tr>' + row.map((c) => `<td>${escapeXml(c)}</td>`).join('') + '</tr>';
  return s + '</table>';
}

/** Renders the report as one HTML document and its main chart as one SVG document. */
export function renderReport(input: ReportInput): RenderedReport {
  const parts: string[] = [];
  parts.push(`<h1>${escapeXml(input.title)}</h1>`);
  if (input.subtitle) parts.push(`<div class="sub">${escapeXml(input.subtitle)}</div>`);
  parts.push(
    '<table>' + input.summary.map(([k, v]) => `<tr><td class="k">${escapeXml(k)}</td><td>${escapeXml(v)}</td></tr>`).join('') + '</table>',
  );
  for (const n of input.notes ?? []) parts.push(`<p class="note">${escapeXml(n)}</p>`);

  let lossSvgs: string[] = [];
  if (input.history && input.history.length > 0) {
    lossSvgs = lossCharts(input.history);
    parts.push('<h2>Training</h2>');
    parts.push('<div class="row">' + lossSvgs.map((s) => `<div class="fig">${s}</div>`).join('') + '</div>');
  }
  let scoreSvgs: string[] = [];
  if (input.series && input.series.length > 0) {
    scoreSvgs = scoreCharts(input.series);
    parts.push('<h2>Anomaly scores over time</h2>');
    const info = input.series
      .filter((s) => s.labels?.length || s.detected?.length)
      .map(
        (s) =>
          `<li>${escapeXml(s.name)}: labelled ${escapeXml(intervalsToText(s.labels ?? []))}; detected ${escapeXml(intervalsToText(s.detected ?? []))}</li>`,
      );
    if (info.length) parts.push(`<ul class="note">${info.join('')}</ul>`);
    parts.push(scoreSvgs.map((s) => `<div class="fig">${s}</div>`).join('<br>'));
  }
  if (input.reconstructions && input.reconstructions.length > 0) {
    parts.push('<h2>Reconstructions (solid: input, dashed: reconstruction)</h2>');
    parts.push(
      '<div class="row">' + input.reconstructions.map((p) => `<div class="fig">${reconstructionChart(p)}</div>`).join('') + '</div>',
    );
  }
  if (input.latent && input.latent.mu.length > 0) {
    parts.push('<h2>Latent space</h2>');
    parts.push(`<div class="fig">${latentChart(input.latent)}</div>`);
  }
  for (const l of input.lists ?? []) {
    parts.push(`<h2>${escapeXml(l.title)}</h2><ol class="names">${l.items.map((i) => `<li>${escapeXml(i)}</li>`).join('')}</ol>`);
  }
  for (const t of input.tables ?? []) {
    parts.push(`<h2>${escapeXml(t.title)}</h2>${table(t.header, t.rows)}`);
  }
  parts.push(
    `<footer>Generated by lstm-vae on ${escapeXml(new Date().toISOString())}. Self-contained: no scripts, no network requests.</footer>`,
  );

  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeXml(input.title)}</title><style>${CSS}</style></head><body><main>${parts.join('\n')}</main></body></html>\n`;

  const main = input.main ?? (lossSvgs.length ? 'loss' : 'scores');
  let svgParts = main === 'scores' && scoreSvgs.length ? scoreSvgs : lossSvgs.length ? lossSvgs : scoreSvgs;
  if (svgParts.length === 0) svgParts = [lineChart([], { title: input.title })];
  const svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + stackSvgs(svgParts) + '\n';
  return { html, svg };
}
