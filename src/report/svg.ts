/**
 * Small, dependency-free SVG charts for the HTML reports: line charts (with shaded intervals and
 * horizontal reference lines) and scatter plots. Output is a standalone `<svg>` string that can be
 * inlined in HTML or written to a `.svg` file.
 */

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Round numbers for axis ticks ("nice numbers", Heckbert 1990). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const range = nice(hi - lo, false);
  const step = nice(range / Math.max(1, count - 1), true);
  const start = Math.ceil(lo / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = start; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function nice(x: number, round: boolean): number {
  const e = Math.floor(Math.log10(x));
  const f = x / 10 ** e;
  let nf: number;
  if (round) nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nf * 10 ** e;
}

/** A compact label for a tick value. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  if (a >= 100) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

/**
 * Reduces a long series to at most ~`maxPoints` points while keeping its extremes: each bucket keeps
 * its first, min, max and last point (in x order).
 */
export function downsample(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints: number): [number[], number[]] {
  const n = y.length;
  if (n <= maxPoints) return [Array.from(x), Array.from(y)];
  const buckets = Math.max(1, Math.floor(maxPoints / 4));
  const size = n / buckets;
  const ox: number[] = [];
  const oy: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const s = Math.floor(b * size);
    const e = Math.min(n, Math.floor((b + 1) * size));
    if (e <= s) continue;
    let iMin = s;
    let iMax = s;
    for (let i = s; i < e; i++) {
      if (y[i] < y[iMin]) iMin = i;
      if (y[i] > y[iMax]) iMax = i;
    }
    const keep = [...new Set([s, iMin, iMax, e - 1])].sort((a, c) => a - c);
    for (const i of keep) {
      ox.push(x[i]);
      oy.push(y[i]);
    }
  }
  return [ox, oy];
}

export interface LineSeries {
  name: string;
  y: ArrayLike<number>;
  /** Default 0, 1, 2, … */
  x?: ArrayLike<number>;
  color?: string;
  /** SVG stroke-dasharray, e.g. "4 3". */
  dash?: string;
  width?: number;
}

export interface LineChartOptions {
  title?: string;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis (non-positive values are clipped). */
  logY?: boolean;
  /** Shaded x intervals (inclusive), e.g. labelled anomalies. */
  shade?: ReadonlyArray<readonly [number, number]>;
  shadeColor?: string;
  shadeLabel?: string;
  /** Second set of intervals drawn as a band under the plot (e.g. detected anomalies). */
  marks?: ReadonlyArray<readonly [number, number]>;
  markColor?: string;
  markLabel?: string;
  /** Horizontal reference lines. */
  hLines?: ReadonlyArray<{ y: number; label: string; color?: string }>;
  /** Largest number of points drawn per series (longer series are downsampled, keeping extremes). */
  maxPoints?: number;
  /** Fixed y range. */
  yMin?: number;
  yMax?: number;
}

interface Frame {
  w: number;
  h: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function frameOf(width: number, height: number, hasTitle: boolean, hasXLabel: boolean, legendRows = 0): Frame {
  const top = (hasTitle ? 26 : 8) + (legendRows > 0 ? legendRows * 16 + 4 : 6);
  return { w: width, h: height, left: 58, right: 14, top, bottom: hasXLabel ? 42 : 26 };
}

type LegendItem = { name: string; color: string; dash?: string; box?: boolean };

function itemWidth(it: LegendItem): number {
  return 22 + it.name.length * 6.2 + 14;
}

/** Rows of legend items that fit in `width`. */
function legendLayout(items: LegendItem[], width: number): LegendItem[][] {
  const rows: LegendItem[][] = [];
  let row: LegendItem[] = [];
  let used = 0;
  for (const it of items) {
    const w = itemWidth(it);
    if (row.length > 0 && used + w > width) {
      rows.push(row);
      row = [];
      used = 0;
    }
    row.push(it);
    used += w;
  }
  if (row.length) rows.push(row);
  return rows;
}

function svgOpen(f: Frame, title?: string): string {
  let s = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f.w} ${f.h}" width="${f.w}" height="${f.h}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="11">`;
  s += `<rect x="0" y="0" width="${f.w}" height="${f.h}" fill="#fff"/>`;
  if (title) s += `<text x="${f.left}" y="18" font-size="13" font-weight="600" fill="#222">${escapeXml(title)}</text>`;
  return s;
}

function r(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

function axes(
  f: Frame,
  xTicks: number[],
  yTicks: number[],
  sx: (v: number) => number,
  sy: (v: number) => number,
  xLabel?: string,
  yLabel?: string,
  yFormat: (v: number) => string = formatNumber,
): string {
  const x0 = f.left;
  const x1 = f.w - f.right;
  const y0 = f.h - f.bottom;
  const y1 = f.top;
  let s = '';
  for (const t of yTicks) {
    const y = sy(t);
    if (y < y1 - 0.5 || y > y0 + 0.5) continue;
    s += `<line x1="${x0}" x2="${x1}" y1="${r(y)}" y2="${r(y)}" stroke="#e6e6e6"/>`;
    s += `<text x="${x0 - 5}" y="${r(y + 3.5)}" text-anchor="end" fill="#555">${escapeXml(yFormat(t))}</text>`;
  }
  for (const t of xTicks) {
    const x = sx(t);
    if (x < x0 - 0.5 || x > x1 + 0.5) continue;
    s += `<line x1="${r(x)}" x2="${r(x)}" y1="${y0}" y2="${y0 + 4}" stroke="#888"/>`;
    s += `<text x="${r(x)}" y="${y0 + 15}" text-anchor="middle" fill="#555">${escapeXml(formatNumber(t))}</text>`;
  }
  s += `<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#999"/>`;
  if (xLabel) s += `<text x="${(x0 + x1) / 2}" y="${f.h - 8}" text-anchor="middle" fill="#333">${escapeXml(xLabel)}</text>`;
  if (yLabel) {
    s += `<text transform="translate(13 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(yLabel)}</text>`;
  }
  return s;
}

function legend(f: Frame, rows: LegendItem[][], hasTitle: boolean): string {
  let s = '';
  rows.forEach((row, r) => {
    const y = (hasTitle ? 26 : 8) + 8 + r * 16;
    let x = f.left;
    for (const it of row) {
      if (it.box) s += `<rect x="${r1(x)}" y="${y - 5}" width="16" height="10" fill="${it.color}"/>`;
      else
        s += `<line x1="${r1(x)}" x2="${r1(x + 16)}" y1="${y}" y2="${y}" stroke="${it.color}" stroke-width="2"${it.dash ? ` stroke-dasharray="${it.dash}"` : ''}/>`;
      s += `<text x="${r1(x + 21)}" y="${y + 3.5}" fill="#333">${escapeXml(it.name)}</text>`;
      x += itemWidth(it);
    }
  });
  return s;
}

function r1(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** A line chart as an SVG string. */
export function lineChart(series: LineSeries[], o: LineChartOptions = {}): string {
  const width = o.width ?? 760;
  const shadeColor = o.shadeColor ?? '#f4b6b6';
  const markColor = o.markColor ?? '#d62728';
  const items: LegendItem[] = series
    .filter((p) => p.name)
    .map((p) => ({ name: p.name, color: p.color ?? PALETTE[series.indexOf(p) % PALETTE.length], dash: p.dash }));
  for (const h of o.hLines ?? []) items.push({ name: h.label, color: h.color ?? '#444', dash: '5 4' });
  if ((o.shade ?? []).length > 0) items.push({ name: o.shadeLabel ?? 'labelled', color: shadeColor, box: true });
  if ((o.marks ?? []).length > 0) items.push({ name: o.markLabel ?? 'detected', color: markColor, box: true });
  const rows = legendLayout(items, width - 58 - 14);
  const f = frameOf(width, o.height ?? 260, !!o.title, !!o.xLabel, rows.length);
  const maxPoints = o.maxPoints ?? 2400;
  const prepared = series.map((s, k) => {
    const n = s.y.length;
    const xs = s.x ?? Float64Array.from({ length: n }, (_, i) => i);
    let ys: ArrayLike<number> = s.y;
    if (o.logY) ys = Float64Array.from(s.y as ArrayLike<number>, (v) => (v > 0 ? Math.log10(v) : NaN));
    const [dx, dy] = downsample(xs, ys, maxPoints);
    return { ...s, color: s.color ?? PALETTE[k % PALETTE.length], dx, dy };
  });
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of prepared) {
    for (let i = 0; i < s.dx.length; i++) {
      if (!Number.isFinite(s.dy[i])) continue;
      if (s.dx[i] < xMin) xMin = s.dx[i];
      if (s.dx[i] > xMax) xMax = s.dx[i];
      if (s.dy[i] < yMin) yMin = s.dy[i];
      if (s.dy[i] > yMax) yMax = s.dy[i];
    }
  }
  for (const h of o.hLines ?? []) {
    const v = o.logY ? (h.y > 0 ? Math.log10(h.y) : NaN) : h.y;
    if (Number.isFinite(v)) {
      yMin = Math.min(yMin, v);
      yMax = Math.max(yMax, v);
    }
  }
  if (o.yMin !== undefined) yMin = o.logY ? Math.log10(o.yMin) : o.yMin;
  if (o.yMax !== undefined) yMax = o.logY ? Math.log10(o.yMax) : o.yMax;
  if (!Number.isFinite(xMin)) {
    xMin = 0;
    xMax = 1;
  }
  if (!Number.isFinite(yMin)) {
    yMin = 0;
    yMax = 1;
  }
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const pad = (yMax - yMin) * 0.05;
  if (o.yMin === undefined) yMin -= pad;
  if (o.yMax === undefined) yMax += pad;
  const x0 = f.left;
  const x1 = f.w - f.right;
  const y0 = f.h - f.bottom;
  const y1 = f.top;
  const sx = (v: number) => x0 + ((v - xMin) / (xMax - xMin)) * (x1 - x0);
  const sy = (v: number) => y0 - ((v - yMin) / (yMax - yMin)) * (y0 - y1);
  let s = svgOpen(f, o.title);
  // Shading first (under everything).
  for (const [a, b] of o.shade ?? []) {
    const xa = Math.max(x0, sx(a - 0.5));
    const xb = Math.min(x1, sx(b + 0.5));
    if (xb > xa)
      s += `<rect x="${r(xa)}" y="${y1}" width="${r(Math.max(1, xb - xa))}" height="${y0 - y1}" fill="${shadeColor}" fill-opacity="0.55"/>`;
  }
  let yTicks: number[];
  let yFormat = formatNumber;
  if (o.logY) {
    yTicks = [];
    for (let e = Math.floor(yMin); e <= Math.ceil(yMax); e++) yTicks.push(e);
    if (yTicks.length < 3) yTicks = niceTicks(yMin, yMax, 5);
    yFormat = (v) => formatNumber(10 ** v);
  } else yTicks = niceTicks(yMin, yMax, 5);
  s += axes(f, niceTicks(xMin, xMax, 8), yTicks, sx, sy, o.xLabel, o.yLabel, yFormat);
  for (const [a, b] of o.marks ?? []) {
    const xa = Math.max(x0, sx(a - 0.5));
    const xb = Math.min(x1, sx(b + 0.5));
    if (xb >= xa) s += `<rect x="${r(xa)}" y="${y0 - 5}" width="${r(Math.max(1.5, xb - xa))}" height="5" fill="${markColor}"/>`;
  }
  s += `<clipPath id="c${f.w}x${f.h}"><rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/></clipPath>`;
  s += `<g clip-path="url(#c${f.w}x${f.h})">`;
  for (const p of prepared) {
    let d = '';
    let pen = false;
    for (let i = 0; i < p.dx.length; i++) {
      if (!Number.isFinite(p.dy[i])) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${r(sx(p.dx[i]))} ${r(sy(p.dy[i]))}`;
      pen = true;
    }
    if (p.dx.length === 1 && Number.isFinite(p.dy[0])) {
      s += `<circle cx="${r(sx(p.dx[0]))}" cy="${r(sy(p.dy[0]))}" r="2.5" fill="${p.color}"/>`;
    }
    s += `<path d="${d}" fill="none" stroke="${p.color}" stroke-width="${p.width ?? 1.4}" stroke-linejoin="round"${p.dash ? ` stroke-dasharray="${p.dash}"` : ''}/>`;
  }
  for (const h of o.hLines ?? []) {
    const v = o.logY ? Math.log10(h.y) : h.y;
    if (!Number.isFinite(v)) continue;
    s += `<line x1="${x0}" x2="${x1}" y1="${r(sy(v))}" y2="${r(sy(v))}" stroke="${h.color ?? '#444'}" stroke-dasharray="5 4"/>`;
  }
  s += '</g>';
  s += legend(f, rows, !!o.title);
  return s + '</svg>';
}

export interface ScatterPoint {
  x: number;
  y: number;
  /** Value mapped to the colour scale (ignored when `group` is set). */
  value?: number;
  /** Category index into the palette / `groups`. */
  group?: number;
}

export interface ScatterOptions {
  title?: string;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** Names of the categories (legend) when points carry `group`. */
  groups?: string[];
  groupColors?: string[];
  /** Legend text for the colour scale when points carry `value`. */
  valueLabel?: string;
  radius?: number;
  /** At most this many points are drawn (an even subsample, keeping every point of group > 0). */
  maxPoints?: number;
}

function viridisLike(t: number): string {
  // A short perceptual ramp (dark blue → teal → yellow), linearly interpolated.
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i;
  const c = stops[i].map((a, k) => Math.round(a + f * (stops[i + 1][k] - a)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** A scatter plot as an SVG string. */
export function scatterChart(points: ScatterPoint[], o: ScatterOptions = {}): string {
  const width = o.width ?? 420;
  const colors = o.groupColors ?? ['#8aa9c9', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];
  let items: LegendItem[] = [];
  if (o.groups && points.some((p) => p.group !== undefined))
    items = o.groups.map((g, i) => ({ name: g, color: colors[i % colors.length], box: true }));
  else if (o.valueLabel && points.some((p) => p.value !== undefined)) {
    items = [
      { name: `low ${o.valueLabel}`, color: viridisLike(0), box: true },
      { name: 'high', color: viridisLike(1), box: true },
    ];
  }
  const rows = legendLayout(items, width - 58 - 14);
  const f = frameOf(width, o.height ?? 360, !!o.title, !!o.xLabel, rows.length);
  const maxPoints = o.maxPoints ?? 4000;
  let pts = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (pts.length > maxPoints) {
    const special = pts.filter((p) => (p.group ?? 0) > 0);
    const rest = pts.filter((p) => (p.group ?? 0) === 0);
    const keep = Math.max(1, maxPoints - special.length);
    const step = rest.length / keep;
    const sub: ScatterPoint[] = [];
    for (let i = 0; i < keep && Math.floor(i * step) < rest.length; i++) sub.push(rest[Math.floor(i * step)]);
    pts = [...sub, ...special];
  }
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  let vMin = Infinity;
  let vMax = -Infinity;
  for (const p of pts) {
    xMin = Math.min(xMin, p.x);
    xMax = Math.max(xMax, p.x);
    yMin = Math.min(yMin, p.y);
    yMax = Math.max(yMax, p.y);
    if (p.value !== undefined && Number.isFinite(p.value)) {
      vMin = Math.min(vMin, p.value);
      vMax = Math.max(vMax, p.value);
    }
  }
  if (!Number.isFinite(xMin)) {
    xMin = 0;
    xMax = 1;
    yMin = 0;
    yMax = 1;
  }
  const px = (xMax - xMin || 1) * 0.05;
  const py = (yMax - yMin || 1) * 0.05;
  xMin -= px;
  xMax += px;
  yMin -= py;
  yMax += py;
  const x0 = f.left;
  const x1 = f.w - f.right;
  const y0 = f.h - f.bottom;
  const y1 = f.top;
  const sx = (v: number) => x0 + ((v - xMin) / (xMax - xMin)) * (x1 - x0);
  const sy = (v: number) => y0 - ((v - yMin) / (yMax - yMin)) * (y0 - y1);
  let s = svgOpen(f, o.title);
  s += axes(f, niceTicks(xMin, xMax, 6), niceTicks(yMin, yMax, 6), sx, sy, o.xLabel, o.yLabel);
  const rad = o.radius ?? 2.4;
  // Draw normal points first, highlighted groups and high values on top.
  const order = pts.slice().sort((a, b) => (a.group ?? 0) - (b.group ?? 0) || (a.value ?? 0) - (b.value ?? 0));
  for (const p of order) {
    let c: string;
    if (p.group !== undefined) c = colors[p.group % colors.length];
    else if (p.value !== undefined && vMax > vMin) c = viridisLike((p.value - vMin) / (vMax - vMin));
    else c = colors[0];
    const big = (p.group ?? 0) > 0 ? rad + 1 : rad;
    s += `<circle cx="${r(sx(p.x))}" cy="${r(sy(p.y))}" r="${big}" fill="${c}" fill-opacity="0.75"/>`;
  }
  s += legend(f, rows, !!o.title);
  return s + '</svg>';
}

export interface HeatmapOptions {
  /** One name per row of the map (the features). */
  rows: string[];
  title?: string;
  width?: number;
  xLabel?: string;
  /** What the colour shows, under the map. */
  valueLabel?: string;
  /** Intervals (inclusive x) marked under the map, e.g. detected anomalies. */
  marks?: ReadonlyArray<readonly [number, number]>;
  markLabel?: string;
  /** Largest number of columns drawn (longer series: each column shows the largest value of its points). */
  maxColumns?: number;
}

/**
 * A features × time heatmap of `values` `[N, D]` row-major (x = 0 … N − 1, the frame of `lineChart` at the same width, so
 * it lines up under a chart of the same series). Colour: the square root of each value over the largest, so that
 * small errors stay visible beside large ones.
 */
export function heatmapChart(values: ArrayLike<number>, o: HeatmapOptions): string {
  const d = Math.max(1, o.rows.length);
  const n = Math.floor(values.length / d);
  const width = o.width ?? 760;
  const cell = Math.max(10, Math.min(22, Math.floor(160 / d)));
  const hasMarks = (o.marks ?? []).length > 0;
  const f = frameOf(width, 0, !!o.title, !!o.xLabel, 0);
  f.top = o.title ? 30 : 10;
  f.h = f.top + cell * d + (hasMarks ? 10 : 0) + f.bottom + 18;
  const x0 = f.left;
  const x1 = f.w - f.right;
  const cols = Math.max(1, Math.min(n, o.maxColumns ?? Math.floor(x1 - x0)));
  const per = n / cols;
  const grid = new Float64Array(cols * d);
  let top = 0;
  for (let c = 0; c < cols; c++) {
    const a = Math.floor(c * per);
    const b = Math.max(a + 1, Math.floor((c + 1) * per));
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = a; i < b && i < n; i++) {
        const v = values[i * d + j];
        if (Number.isFinite(v) && v > m) m = v;
      }
      grid[c * d + j] = m;
      if (m > top) top = m;
    }
  }
  const xMax = Math.max(1, n - 1);
  const sx = (v: number) => x0 + (v / xMax) * (x1 - x0);
  let s = svgOpen(f, o.title);
  const cw = (x1 - x0) / cols;
  for (let j = 0; j < d; j++) {
    const y = f.top + j * cell;
    for (let c = 0; c < cols; c++) {
      const t = top > 0 ? Math.sqrt(grid[c * d + j] / top) : 0;
      s += `<rect x="${r(x0 + c * cw)}" y="${y}" width="${r(cw + 0.4)}" height="${cell}" fill="${viridisLike(t)}"/>`;
    }
    const name = o.rows[j] ?? `x${j}`;
    s += `<text x="${x0 - 5}" y="${r(y + cell / 2 + 3.5)}" text-anchor="end" fill="#555">${escapeXml(name.length > 9 ? `${name.slice(0, 8)}…` : name)}</text>`;
  }
  const y0 = f.top + cell * d;
  s += `<rect x="${x0}" y="${f.top}" width="${r(x1 - x0)}" height="${cell * d}" fill="none" stroke="#999"/>`;
  if (hasMarks) {
    for (const [a, b] of o.marks ?? []) {
      const xa = Math.max(x0, sx(a - 0.5));
      const xb = Math.min(x1, sx(b + 0.5));
      s += `<rect x="${r(xa)}" y="${y0 + 3}" width="${r(Math.max(1.5, xb - xa))}" height="5" fill="#d62728"/>`;
    }
  }
  const ya = y0 + (hasMarks ? 10 : 0);
  for (const t of niceTicks(0, xMax, 8)) {
    const x = sx(t);
    if (x < x0 - 0.5 || x > x1 + 0.5) continue;
    s += `<line x1="${r(x)}" x2="${r(x)}" y1="${ya}" y2="${ya + 4}" stroke="#888"/>`;
    s += `<text x="${r(x)}" y="${ya + 15}" text-anchor="middle" fill="#555">${escapeXml(formatNumber(t))}</text>`;
  }
  if (o.xLabel) s += `<text x="${(x0 + x1) / 2}" y="${ya + 30}" text-anchor="middle" fill="#333">${escapeXml(o.xLabel)}</text>`;
  // colour key: low → high, with the largest value
  const ky = f.h - 12;
  const kx = x1 - 180;
  for (let k = 0; k < 20; k++) s += `<rect x="${kx + k * 6}" y="${ky - 8}" width="6.4" height="8" fill="${viridisLike(k / 19)}"/>`;
  s += `<text x="${kx - 5}" y="${ky}" text-anchor="end" fill="#555">${escapeXml(o.valueLabel ?? 'value')} 0</text>`;
  s += `<text x="${kx + 125}" y="${ky}" fill="#555">${escapeXml(formatNumber(top))}</text>`;
  if (hasMarks)
    s += `<rect x="${x0}" y="${ky - 7}" width="16" height="6" fill="#d62728"/><text x="${x0 + 21}" y="${ky}" fill="#333">${escapeXml(o.markLabel ?? 'detected')}</text>`;
  return `${s}</svg>`;
}
