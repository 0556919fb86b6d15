// Small canvas line charts: a few series, shaded x-intervals, horizontal lines, point markers.
// Long series are reduced to a min/max pair per pixel column, so drawing stays cheap.

export interface Line {
  /** y values; x is x0 + i * dx. */
  y: ArrayLike<number>;
  /** Take every `stride`-th value starting at `offset` (for row-major [n, D] data). */
  stride?: number;
  offset?: number;
  x0?: number;
  dx?: number;
  color: string;
  width?: number;
  dash?: number[];
  label?: string;
  /** Draw dots at each point (short series, e.g. per-epoch values). */
  dots?: boolean;
}

export interface ChartSpec {
  lines: Line[];
  regions?: [number, number][];
  hlines?: { y: number; color: string; label?: string }[];
  /** x positions to mark with a small triangle on the x-axis (e.g. flagged points). */
  marks?: { xs: ArrayLike<number>; color: string };
  /** More shaded x-intervals, each set in its own colour (drawn over `regions`). */
  bands?: { intervals: [number, number][]; color: string }[];
  /** A colour per x position (index into `colors`; negative or NaN: none), drawn as a strip along the bottom of the plot. */
  strip?: { values: ArrayLike<number>; colors: string[] };
  /** A fixed x range (e.g. the whole series while it is still arriving); otherwise the lines' extent. */
  xRange?: [number, number];
  xLabel?: string;
  yLabel?: string;
  /** Use a log scale for y (losses). */
  logY?: boolean;
  empty?: string;
}

const PAD = { l: 52, r: 12, t: 18, b: 26 };

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-2)) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

function ticks(lo: number, hi: number, n: number): number[] {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Tick positions (as log10 values) for a log axis spanning log10 values lo..hi. */
function logTicks(lo: number, hi: number): number[] {
  const a = 10 ** lo,
    b = 10 ** hi;
  if (b / a < 10)
    return ticks(a, b, 4)
      .filter((v) => v > 0)
      .map(Math.log10);
  const out: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of hi - lo > 3 ? [1] : [1, 2, 5]) {
      const t = Math.log10(m) + e;
      if (t >= lo && t <= hi) out.push(t);
    }
  }
  return out;
}

export function drawChart(canvas: HTMLCanvasElement, spec: ChartSpec): void {
  const dpr = globalThis.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 600,
    cssH = canvas.clientHeight || 200;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  g.font = '11px system-ui, sans-serif';
  const W = cssW - PAD.l - PAD.r,
    H = cssH - PAD.t - PAD.b;

  // ranges
  let xMin = Infinity,
    xMax = -Infinity,
    yMin = Infinity,
    yMax = -Infinity;
  const tf = (v: number) => (spec.logY ? Math.log10(v) : v);
  for (const s of spec.lines) {
    const st = s.stride ?? 1,
      off = s.offset ?? 0,
      x0 = s.x0 ?? 0,
      dx = s.dx ?? 1;
    const n = Math.floor((s.y.length - off + st - 1) / st);
    if (n <= 0) continue;
    xMin = Math.min(xMin, x0);
    xMax = Math.max(xMax, x0 + (n - 1) * dx);
    for (let i = off; i < s.y.length; i += st) {
      const v = tf(s.y[i]);
      if (Number.isFinite(v)) {
        if (v < yMin) yMin = v;
        if (v > yMax) yMax = v;
      }
    }
  }
  for (const h of spec.hlines ?? []) {
    const v = tf(h.y);
    if (Number.isFinite(v)) {
      yMin = Math.min(yMin, v);
      yMax = Math.max(yMax, v);
    }
  }
  if (spec.xRange && Number.isFinite(yMin)) [xMin, xMax] = spec.xRange;
  if (!Number.isFinite(xMin) || !Number.isFinite(yMin)) {
    g.fillStyle = '#888';
    g.fillText(spec.empty ?? 'no data yet', PAD.l + 8, PAD.t + H / 2);
    return;
  }
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) {
    yMax += 0.5;
    yMin -= 0.5;
  }
  const yPad = (yMax - yMin) * 0.05;
  yMin -= yPad;
  yMax += yPad;
  const X = (x: number) => PAD.l + ((x - xMin) / (xMax - xMin)) * W;
  const Y = (y: number) => PAD.t + (1 - (tf(y) - yMin) / (yMax - yMin)) * H;
  const Yt = (t: number) => PAD.t + (1 - (t - yMin) / (yMax - yMin)) * H;

  // shaded regions
  g.fillStyle = 'rgba(255, 170, 0, 0.18)';
  for (const [a, b] of spec.regions ?? []) {
    const x1 = X(a - 0.5),
      x2 = X(b + 0.5);
    g.fillRect(Math.max(PAD.l, x1), PAD.t, Math.max(1, Math.min(PAD.l + W, x2) - Math.max(PAD.l, x1)), H);
  }
  for (const band of spec.bands ?? []) {
    g.fillStyle = band.color;
    for (const [a, b] of band.intervals) {
      const x1 = Math.max(PAD.l, X(a - 0.5)),
        x2 = Math.min(PAD.l + W, X(b + 0.5));
      if (x2 > x1) g.fillRect(x1, PAD.t, Math.max(1, x2 - x1), H);
    }
  }

  // axes and grid
  g.strokeStyle = '#e3e3e3';
  g.fillStyle = '#666';
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const t of spec.logY ? logTicks(yMin, yMax) : ticks(yMin, yMax, 4)) {
    const y = Yt(t);
    g.beginPath();
    g.moveTo(PAD.l, y);
    g.lineTo(PAD.l + W, y);
    g.stroke();
    g.fillText(spec.logY ? fmt(10 ** t) : fmt(t), PAD.l - 4, y);
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (const t of ticks(xMin, xMax, 6)) g.fillText(fmt(t), X(t), PAD.t + H + 4);
  g.strokeStyle = '#999';
  g.strokeRect(PAD.l, PAD.t, W, H);
  if (spec.xLabel) {
    g.textAlign = 'right';
    g.fillText(spec.xLabel, PAD.l + W, PAD.t + H + 14);
  }
  if (spec.yLabel) {
    g.textAlign = 'left';
    g.textBaseline = 'bottom';
    g.fillText(spec.yLabel, PAD.l, PAD.t - 3);
  }

  // lines
  g.save();
  g.beginPath();
  g.rect(PAD.l, PAD.t, W, H);
  g.clip();
  for (const s of spec.lines) {
    const st = s.stride ?? 1,
      off = s.offset ?? 0,
      x0 = s.x0 ?? 0,
      dx = s.dx ?? 1;
    const n = Math.floor((s.y.length - off + st - 1) / st);
    if (n <= 0) continue;
    g.strokeStyle = s.color;
    g.lineWidth = s.width ?? 1.25;
    g.setLineDash(s.dash ?? []);
    g.beginPath();
    const perPixel = n / W;
    if (perPixel > 2) {
      // min/max per pixel column
      let col = -1,
        lo = Infinity,
        hi = -Infinity,
        first = true;
      const flush = () => {
        if (col < 0 || !Number.isFinite(lo)) return;
        const px = PAD.l + col + 0.5;
        if (first) g.moveTo(px, Y(hi));
        else g.lineTo(px, Y(hi));
        g.lineTo(px, Y(lo));
        first = false;
      };
      for (let i = 0; i < n; i++) {
        const v = s.y[off + i * st];
        const c = Math.floor(X(x0 + i * dx) - PAD.l);
        if (c !== col) {
          flush();
          col = c;
          lo = Infinity;
          hi = -Infinity;
        }
        if (Number.isFinite(v)) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      flush();
    } else {
      let pen = false;
      for (let i = 0; i < n; i++) {
        const v = s.y[off + i * st];
        if (!Number.isFinite(spec.logY ? Math.log10(v) : v)) {
          pen = false;
          continue;
        }
        const px = X(x0 + i * dx),
          py = Y(v);
        if (pen) g.lineTo(px, py);
        else g.moveTo(px, py);
        pen = true;
      }
    }
    g.stroke();
    if (s.dots) {
      g.fillStyle = s.color;
      for (let i = 0; i < n; i++) {
        const v = s.y[off + i * st];
        if (!Number.isFinite(spec.logY ? Math.log10(v) : v)) continue;
        g.beginPath();
        g.arc(X(x0 + i * dx), Y(v), 2.5, 0, 2 * Math.PI);
        g.fill();
      }
    }
  }
  g.setLineDash([]);
  for (const h of spec.hlines ?? []) {
    g.strokeStyle = h.color;
    g.lineWidth = 1.5;
    g.setLineDash([6, 4]);
    g.beginPath();
    g.moveTo(PAD.l, Y(h.y));
    g.lineTo(PAD.l + W, Y(h.y));
    g.stroke();
    g.setLineDash([]);
    if (h.label) {
      g.fillStyle = h.color;
      g.textAlign = 'right';
      g.textBaseline = 'bottom';
      g.fillText(h.label, PAD.l + W - 4, Y(h.y) - 2);
    }
  }
  g.restore();
  if (spec.strip) {
    const { values, colors } = spec.strip;
    for (let i = 0; i < values.length; i++) {
      const c = colors[values[i]];
      if (c === undefined) continue;
      const x1 = Math.max(PAD.l, X(i - 0.5)),
        x2 = Math.min(PAD.l + W, X(i + 0.5));
      if (x2 <= PAD.l || x1 >= PAD.l + W) continue;
      g.fillStyle = c;
      g.fillRect(x1, PAD.t + H - 6, Math.max(1, x2 - x1), 6);
    }
  }
  if (spec.marks?.xs.length) {
    g.fillStyle = spec.marks.color;
    let lastPx = -10;
    for (let i = 0; i < spec.marks.xs.length; i++) {
      const px = X(spec.marks.xs[i]);
      if (px - lastPx < 1) continue;
      lastPx = px;
      g.fillRect(px - 0.5, PAD.t + H - 5, 1.5, 5);
    }
  }

  // legend (wraps onto more rows when it is wider than the plot)
  let lx = PAD.l + 8,
    ly = PAD.t + 9;
  g.textAlign = 'left';
  g.textBaseline = 'middle';
  for (const s of spec.lines) {
    if (!s.label) continue;
    const w = 28 + g.measureText(s.label).width;
    if (lx > PAD.l + 8 && lx + w > PAD.l + W) {
      lx = PAD.l + 8;
      ly += 14;
    }
    g.fillStyle = 'rgba(255, 255, 255, 0.75)';
    g.fillRect(lx - 2, ly - 7, w - 4, 14);
    g.strokeStyle = s.color;
    g.lineWidth = 2;
    g.setLineDash(s.dash ?? []);
    g.beginPath();
    g.moveTo(lx, ly);
    g.lineTo(lx + 16, ly);
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = '#333';
    g.fillText(s.label, lx + 20, ly);
    lx += w;
  }
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
