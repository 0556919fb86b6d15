// The report's features × time heatmap under the score chart (SVG, as the other charts).
import { describe, expect, it } from 'vitest';
import { renderReport } from '../src/report/html.js';
import { heatmapChart } from '../src/report/svg.js';

describe('heatmap', () => {
  it('draws one row per feature, a column per point (or per group of points), and the detected intervals', () => {
    const n = 50;
    const d = 3;
    const errors = new Float32Array(n * d).fill(0.01);
    for (let i = 20; i < 25; i++) errors[i * d + 1] = 4;
    const svg = heatmapChart(errors, { rows: ['cpu', 'memory-used-bytes', 'disk'], title: 'errors', marks: [[18, 27]] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg.match(/<rect [^>]*height="\d+" fill="rgb/g)?.length).toBe(n * d + 20); // and the colour key
    expect(svg).toContain('>cpu<');
    expect(svg).toContain('memory-u…');
    // the largest value is yellow (top of the ramp), the rest dark
    expect(svg.match(/fill="rgb\(253,231,37\)"/g)?.length).toBeGreaterThanOrEqual(5);
    expect(svg).toContain('fill="#d62728"');
    // long series: at most one column per pixel, each the largest of its points
    const long = new Float64Array(100_000).fill(1);
    long[77_777] = 100;
    const big = heatmapChart(long, { rows: ['x'], width: 400 });
    expect(big.match(/<rect [^>]*height="\d+" fill="rgb/g)?.length).toBeLessThanOrEqual(400);
    expect(big).toContain('rgb(253,231,37)');
  });

  it('goes under the score chart of a report when the series has errors', () => {
    const n = 30;
    const { html, svg } = renderReport({
      title: 't',
      summary: [],
      series: [
        {
          name: 'score',
          scores: Float32Array.from({ length: n }, (_, i) => i),
          threshold: 20,
          detected: [[21, 29]],
          errors: { columns: ['a', 'b'], data: new Float32Array(2 * n).fill(1) },
        },
      ],
      main: 'scores',
    });
    const at = (s: string) => html.indexOf(s);
    expect(at('score: anomaly score per point')).toBeGreaterThan(0);
    expect(at('score: where the error is (features × time)')).toBeGreaterThan(at('score: anomaly score per point'));
    expect(svg).toContain('where the error is');
  });
});
