// The benchmark's Markdown tables and SVG bar chart, from the results object of bench/run.mjs.

const CFG = ['S', 'M', 'L'];
const IMPL_LABEL = { 'lstm-vae': 'lstm-vae', 'tfjs-fused': 'TF.js hand-tuned', 'tfjs-layers': 'TF.js tf.layers', pytorch: 'PyTorch' };
const MiB = (b) => (b == null ? null : b / 2 ** 20);

const fmt = (v, d) => {
  if (v == null || !Number.isFinite(v)) return '–';
  if (d !== undefined) return v.toFixed(d);
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
};
const pct = (v) => (v == null || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(0)}%`);

export function rowKey(r) {
  return `${r.runtime}|${r.impl}|${r.backend}|${r.threads}`;
}

/** Rows (runtime, implementation, build/backend, threads) in the order of the run. */
function rowsOf(results, mode) {
  const seen = new Map();
  for (const r of results.runs) {
    if (mode && r.mode !== mode) continue;
    const k = rowKey(r);
    if (!seen.has(k)) seen.set(k, { runtime: r.runtime, impl: r.impl, backend: r.backend, threads: r.threads, cells: {} });
    seen.get(k).cells[r.config] = r;
  }
  return [...seen.values()];
}

/** The TF.js wasm hand-tuned run of the same runtime, config and mode (else the reference runtime's, marked). */
export function baselineFor(results, r) {
  const find = (rt) =>
    results.runs.find(
      (b) => b.runtime === rt && b.impl === 'tfjs-fused' && b.backend === 'wasm' && b.config === r.config && b.mode === r.mode,
    );
  const own = find(r.runtime);
  if (own) return { run: own, other: false };
  const ref = find(results.reference);
  return ref ? { run: ref, other: true } : null;
}

function runtimeLabel(results, id) {
  const rt = results.runtimes.find((x) => x.id === id);
  return rt ? `${rt.label} ${rt.version ?? ''}`.trim() : id;
}

/** ", 2 in Chromium, 1 in Firefox": TF.js wasm threads per browser (older results: Chromium's only). */
function browserThreads(results) {
  const b = results.browser ?? {};
  const per = b.tfjsThreads ? { chromium: b } : b;
  return Object.entries(per)
    .filter(([, v]) => v?.tfjsThreads)
    .map(([id, v]) => `, ${v.tfjsThreads} in ${runtimeLabel(results, id).split(' ')[0]}`)
    .join('');
}

function implLabel(r) {
  return IMPL_LABEL[r.impl] ?? r.impl;
}

function spread(r) {
  if (!r.stepMs || r.stepMs.n < 2) return '';
  return ` ±${fmt((50 * (r.stepMs.q3 - r.stepMs.q1)) / r.stepMs.median, 0)}%`;
}

function throughputTable(results, mode) {
  const rows = rowsOf(results, mode);
  const lines = [
    '| runtime | implementation | build / backend | threads | ' + CFG.join(' | ') + ' |',
    '|---|---|---|---|' + CFG.map(() => '---:').join('|') + '|',
  ];
  for (const row of rows) {
    const cells = CFG.map((c) => {
      const r = row.cells[c];
      if (!r) return '–';
      if (r.error) return 'error';
      const b = baselineFor(results, r);
      const ratio = b ? ` (${fmt(r.seqPerSec / b.run.seqPerSec, 2)}×${b.other ? '†' : ''})` : '';
      const n = r.stepMs?.n === 1 ? ' ¹' : '';
      return `${fmt(r.seqPerSec)}${spread(r)}${ratio}${n}`;
    });
    lines.push(`| ${runtimeLabel(results, row.runtime)} | ${implLabel(row)} | ${row.backend} | ${row.threads} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function gflopsTable(results) {
  const rows = rowsOf(results, 'train');
  const lines = [
    '| runtime | implementation | build / backend | threads | ' + CFG.join(' | ') + ' |',
    '|---|---|---|---|' + CFG.map(() => '---:').join('|') + '|',
  ];
  for (const row of rows) {
    const cells = CFG.map((c) => (row.cells[c] ? fmt(row.cells[c].gflops) : '–'));
    lines.push(`| ${runtimeLabel(results, row.runtime)} | ${implLabel(row)} | ${row.backend} | ${row.threads} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function memoryTable(results) {
  // one row per (runtime, implementation, backend): thread counts share a process
  const rows = new Map();
  for (const r of results.runs) {
    if (r.mode !== 'train') continue;
    const k = `${r.runtime}|${r.impl}|${r.backend}`;
    if (!rows.has(k)) rows.set(k, { r, cells: {} });
    const m = r.memory ?? {};
    const prev = rows.get(k).cells[r.config] ?? {};
    const max = (a, b) => (a == null ? b : b == null ? a : Math.max(a, b));
    rows.get(k).cells[r.config] = { rss: max(prev.rss, m.rssPeak), wasm: max(prev.wasm, m.wasmBytes) };
  }
  const lines = [
    '| runtime | implementation | build / backend | ' + CFG.map((c) => `${c}: RSS / wasm MiB`).join(' | ') + ' |',
    '|---|---|---|' + CFG.map(() => '---:').join('|') + '|',
  ];
  for (const { r, cells } of rows.values()) {
    const c = CFG.map((k) => (cells[k] ? `${fmt(MiB(cells[k].rss), 0)} / ${fmt(MiB(cells[k].wasm), 0)}` : '–'));
    lines.push(`| ${runtimeLabel(results, r.runtime)} | ${implLabel(r)} | ${r.backend} | ${c.join(' | ')} |`);
  }
  return lines.join('\n');
}

function overheadTable(results) {
  if (!results.overhead?.length) return '';
  const lines = [
    '| runtime | build | lossAndGradientsInPlace | optimizer step | encode | decode | matmul 1×1 |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const o of results.overhead) {
    lines.push(
      `| ${runtimeLabel(results, o.runtime)} | ${o.build} | ${fmt(o.lossAndGradientsInPlaceUs, 0)} | ${fmt(o.optimizerStepUs, 1)} | ${fmt(o.encodeUs, 1)} | ${fmt(o.decodeUs, 1)} | ${fmt(o.matmul1x1Us, 1)} |`,
    );
  }
  return lines.join('\n');
}

function kernelTables(results) {
  const k = results.kernels;
  if (!k) return '';
  const out = [];
  if (k.matmul) {
    const rows = k.matmul.rows;
    const scalar = rows.find((r) => r.build === 'scalar'),
      simd1 = rows.find((r) => r.build === 'simd');
    out.push(
      `Matrix product (${k.runtime}, medians of ${k.matmul.reps} runs; threaded builds through the package's \`matmul\`, copies included; peak loop = register-only multiply-adds):`,
      '',
      '| build | threads | 256³ GFLOP/s | 512³ GFLOP/s | 512³ vs scalar | 512³ vs simd 1 thread | peak loop GFLOP/s |',
      '|---|---|---:|---:|---:|---:|---:|',
    );
    for (const r of rows)
      out.push(
        `| ${r.build} | ${r.threads} | ${fmt(r.gemm256, 1)} | ${fmt(r.gemm512, 1)} | ${fmt(r.gemm512 / scalar.gemm512, 2)}× | ${fmt(r.gemm512 / simd1.gemm512, 2)}× | ${fmt(r.peak, 1)} |`,
      );
    out.push('');
  }
  if (k.scaling) {
    out.push(
      `sgemm 512³ on the kernel directly (no copies) and the peak loop, ${k.runtime}: after a warm-up on 2 threads, ${k.scaling.pairs} interleaved pairs (1 thread, then 2), medians; scaling = median of the per-pair 2-thread / 1-thread ratios:`,
      '',
      '| build | sgemm 1 thread GFLOP/s | peak 1 thread | sgemm / peak | sgemm 2 threads | peak 2 threads | sgemm scaling | peak scaling | sgemm scaling / peak scaling |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const r of k.scaling.rows) {
      out.push(
        `| ${r.build} | ${fmt(r.sgemm1, 1)} | ${fmt(r.peak1, 1)} | ${pct(r.share1)} | ${fmt(r.sgemm2, 1)} | ${fmt(r.peak2, 1)} | ${r.sgemmScaling != null ? fmt(r.sgemmScaling, 2) + '×' : '–'} | ${r.peakScaling != null ? fmt(r.peakScaling, 2) + '×' : '–'} | ${pct(r.scalingShare)} |`,
      );
    }
    out.push('');
  }
  if (k.lstmLayer) {
    const L = k.lstmLayer;
    const peak2 = (b) => k.scaling?.rows.find((r) => r.build === b)?.peak2;
    out.push(
      `One LSTM layer, forward + backward (all gradients), B = ${L.B}, T = ${L.T}, I = ${L.I}, H = ${L.H}, raw kernels, ${k.runtime}; ${(L.flop / 1e9).toFixed(2)} GFLOP of products per call; medians of ${L.pairs} interleaved pairs:`,
      '',
      '| build | threads | sequences/s | GFLOP/s | 2-thread scaling | share of the 2-thread peak loop |',
      '|---|---|---:|---:|---:|---:|',
    );
    for (const r of L.rows)
      out.push(
        `| ${r.build} | ${r.threads} | ${fmt(r.seqPerS, 0)} | ${fmt(r.gflops, 1)} | ${r.scaling != null ? fmt(r.scaling, 2) + '×' : '–'} | ${peak2(r.build) ? pct(r.gflops / peak2(r.build)) : '–'} |`,
      );
    out.push('');
  }
  if (k.matrixmultiply) {
    out.push(
      `Our sgemm beside ndarray's \`general_mat_mul\` (the matrixmultiply crate) in the same wasm module, simd build, 1 thread, C = A·B row-major, GFLOP/s, medians of ${k.matrixmultiply.reps}:`,
      '',
      '| M×N×K | ours | matrixmultiply | ours / matrixmultiply |',
      '|---|---:|---:|---:|',
    );
    for (const r of k.matrixmultiply.rows)
      out.push(`| ${r.M}×${r.N}×${r.K} | ${fmt(r.ours, 1)} | ${fmt(r.matrixmultiply, 1)} | ${fmt(r.ours / r.matrixmultiply, 2)}× |`);
    out.push('');
  }
  if (k.lstmGemm) {
    const cols = Object.keys(k.lstmGemm.rows[0].rates);
    out.push(
      `sgemm at the LSTM gate-product shapes (${k.runtime}; C[M×N] = A[M×K]·Wᵀ with W [N×K] as stored, M = B, N = 4H, K = I + H with I = 4, 8, 16 for H = 64, 128, 256; kernel called directly on wasm buffers; TF.js: \`tf.matMul(a, w, false, true)\` on the wasm backend with the result read back, and its native layout \`tf.matMul(a, wᵀ)\` in parentheses), GFLOP/s, medians of ${k.lstmGemm.reps}:`,
      '',
      `| B | H | M×N×K | ${cols.join(' | ')} |`,
      `|---:|---:|---|${cols.map(() => '---:').join('|')}|`,
    );
    for (const r of k.lstmGemm.rows) {
      out.push(
        `| ${r.B} | ${r.H} | ${r.M}×${r.N}×${r.K} | ${cols.map((c) => fmt(r.rates[c], 1) + (c.startsWith('tfjs') && r.ratesNN?.[c] != null ? ` (${fmt(r.ratesNN[c], 1)})` : '')).join(' | ')} |`,
      );
    }
  }
  return out.join('\n');
}

/** Median of a list of numbers (NaN when empty). */
function med(v) {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const h = (s.length - 1) / 2;
  return (s[Math.floor(h)] + s[Math.ceil(h)]) / 2;
}

/**
 * lstm-vae vs PyTorch, interleaved rounds: per configuration and thread count, the median over the
 * rounds of each round's median seq/s (min–max over the rounds), and each build's ratio to PyTorch.
 */
function versusTable(results) {
  const v = results.versus;
  if (!v?.runs?.length) return null;
  const impls = [...v.builds.map((b) => ({ key: `lstm-vae|${b}`, label: `lstm-vae ${b}` })), { key: 'pytorch|cpu', label: 'PyTorch' }];
  const lines = [
    `| config | threads | ${impls.map((i) => i.label).join(' | ')} | ${v.builds.map((b) => `${b} ÷ PyTorch`).join(' | ')} |`,
    `|---|---:|${impls.map(() => '---:').join('|')}|${v.builds.map(() => '---:').join('|')}|`,
  ];
  for (const c of v.configs)
    for (const t of v.threads) {
      const per = impls.map((i) =>
        v.runs
          .filter((r) => `${r.impl}|${r.backend}` === i.key && r.config === c && r.threads === t && r.mode === 'train')
          .map((r) => r.seqPerSec),
      );
      const meds = per.map(med);
      const cells = per.map((xs, k) => (xs.length ? `${fmt(meds[k])} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '–'));
      const torch = meds[meds.length - 1];
      const ratios = v.builds.map((_, k) => (Number.isFinite(meds[k]) && Number.isFinite(torch) ? `${fmt(meds[k] / torch, 2)}×` : '–'));
      lines.push(`| ${c} | ${t} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
    }
  return lines.join('\n');
}

export function markdown(results) {
  const m = results.machine;
  const rts = results.runtimes.map((r) =>
    r.skipped
      ? `- ${r.label}: **not run** — ${r.skipped}`
      : `- ${r.label} ${r.version}${r.engine ? ` (${r.engine})` : ''}${r.note ? ` — ${r.note}` : ''}`,
  );
  const lines = [
    `# LSTM-VAE benchmark${results.quick ? ' (quick)' : ''}`,
    '',
    `${results.date} · ${m.cpu}, ${m.cores} logical cores, ${m.os} · load average before ${m.loadBefore.map((v) => v.toFixed(1)).join(' ')}, after ${m.loadAfter?.map((v) => v.toFixed(1)).join(' ') ?? '–'}` +
      (m.loadBefore[0] > m.cores
        ? ' — **the machine was busy with other work: absolute numbers are low and noisy; compare within a runtime**'
        : ''),
    '',
    'Runtimes:',
    ...rts,
    '',
    "Model: one-layer LSTM encoder, heads μ and log σ², repeat decoder (one-layer LSTM fed z at every step), linear output; Adam; the SPEC's loss (squared error summed over time and features, mean over the batch, + KL). " +
      'Configurations (B, T, D, H, Z): ' +
      CFG.filter((c) => results.configs[c])
        .map((c) => {
          const x = results.configs[c];
          return `${c} = (${x.B}, ${x.T}, ${x.D}, ${x.H}, ${x.Z})`;
        })
        .join(', ') +
      '.',
    '',
    "Cells: sequences/s, median over the measured steps after warm-up, ± half the interquartile range of the step time; in parentheses the ratio to TF.js **wasm hand-tuned** in the same runtime (1.00×); † = ratio to the reference runtime's (" +
      runtimeLabel(results, results.reference) +
      ') TF.js run, which was not run in this runtime; ¹ = a single step (very slow configuration). ' +
      '`lstm-vae` threads = kernel threads of the package (simd is single-threaded); TF.js wasm uses one thread in Node/Bun/Deno' +
      browserThreads(results) +
      '.',
    '',
    '## Training (sequences/s)',
    '',
    throughputTable(results, 'train'),
    '',
    '## Inference: encode + decode through the posterior mean (sequences/s)',
    '',
    throughputTable(results, 'infer'),
    '',
    '## Training GFLOP/s (matrix-product FLOPs of the step ÷ step time)',
    '',
    'FLOPs per training step = 3 × forward, forward = 2·B·T·4H·((D+H) + (Z+H)) + 2·B·H·2Z + 2·B·T·H·D: ' +
      CFG.filter((c) => results.configs[c])
        .map((c) => `${c} ${fmt(results.configs[c].flops.train / 1e9, 2)} GFLOP`)
        .join(', ') +
      '.',
    '',
    gflopsTable(results),
    '',
    '## Peak memory during training (MiB)',
    '',
    "RSS = the process's peak resident set (Node, Bun, Deno; the configurations run in order S, M, L in one process per row, so a later configuration's peak includes what an earlier one left); wasm = the WebAssembly memory (`memoryBytes()` for lstm-vae, the TF.js wasm backend's heap), which grows and never shrinks.",
    '',
    memoryTable(results),
    '',
  ];
  const vs = versusTable(results);
  if (vs) {
    const t = results.torch ?? {};
    lines.push(
      '## lstm-vae vs PyTorch (training, sequences/s, interleaved rounds)',
      '',
      `${results.versus.rounds} rounds; in each round every build of lstm-vae, then PyTorch ${t.version ?? ''} (CPU, float32, torch.set_num_threads(n), ${t.python ?? 'python3'}${t.cpuCapability ? `, CPU capability ${t.cpuCapability}` : ''}) ran M and L on 1 and 2 threads, each in a fresh process. Cells: the median over the rounds of each round's median step (min–max over the rounds). The same model (the SPEC's continuous model, repeat decoder) and Adam.` +
        (results.native?.features
          ? ` Native backend: ${results.native.features}.`
          : results.native?.skipped
            ? ` Native backend not available: ${results.native.skipped}.`
            : ''),
      '',
      vs,
      '',
    );
  } else if (results.torch?.skipped) lines.push('## lstm-vae vs PyTorch', '', `Not run: ${results.torch.skipped}.`, '');
  const oh = overheadTable(results);
  if (oh) lines.push('## Per-call cost of lstm-vae entry points (µs per call at B = T = D = H = Z = 1, one thread)', '', oh, '');
  const kt = kernelTables(results);
  if (kt) lines.push('## Kernels', '', kt, '');
  if (results.errors?.length) {
    lines.push('## Errors', '');
    for (const e of results.errors) lines.push(`- ${e.runtime ?? ''} ${e.what ?? ''}: ${String(e.error).split('\n')[0]}`);
    lines.push('');
  }
  if (results.notes?.length) lines.push('## Notes', '', ...results.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// SVG: training throughput, one panel per configuration, log-scale horizontal bars

const COLORS = { pytorch: '#c53030', 'lstm-vae': '#2b6cb0', 'tfjs-fused': '#dd6b20', 'tfjs-layers': '#ecc94b', 'tfjs-cpu': '#a0aec0' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svgChart(results) {
  const cfgs = CFG.filter((c) => results.runs.some((r) => r.config === c && r.mode === 'train'));
  const runtimes = results.runtimes.filter((r) => !r.skipped && results.runs.some((x) => x.runtime === r.id)).map((r) => r.id);
  // bars per runtime: lstm-vae (best build and threads), TF.js hand-tuned wasm, TF.js tf.layers wasm, TF.js cpu hand-tuned, PyTorch
  const series = [
    { key: 'lstm-vae', label: 'lstm-vae (best build/threads)', pick: (r) => r.impl === 'lstm-vae' },
    { key: 'tfjs-fused', label: 'TF.js wasm hand-tuned', pick: (r) => r.impl === 'tfjs-fused' && r.backend === 'wasm' },
    { key: 'tfjs-layers', label: 'TF.js wasm tf.layers', pick: (r) => r.impl === 'tfjs-layers' && r.backend === 'wasm' },
    { key: 'tfjs-cpu', label: 'TF.js cpu hand-tuned', pick: (r) => r.impl === 'tfjs-fused' && r.backend === 'cpu' },
    { key: 'pytorch', label: 'PyTorch CPU (best threads)', pick: (r) => r.impl === 'pytorch' },
  ];
  const bar = 11,
    groupGap = 10,
    labelW = 150,
    panelW = 250,
    panelGap = 34,
    top = 76,
    left = 10;
  const rowsPerRt = series.length;
  const height = top + runtimes.length * (rowsPerRt * (bar + 2) + groupGap) + 40;
  const width = left + labelW + cfgs.length * (panelW + panelGap) + 10;
  const all = results.runs.filter((r) => r.mode === 'train' && r.seqPerSec > 0).map((r) => r.seqPerSec);
  const min = Math.min(...all, 10);
  let lo = 10 ** Math.floor(Math.log10(min));
  if (min / lo < 2) lo /= 10;
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, 10)));
  const xs = (v) => (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="16" font-size="13" font-weight="bold">LSTM-VAE training throughput (sequences/s, log scale)${results.quick ? ' — quick run' : ''}</text>`,
    `<text x="${left}" y="30" fill="#555">${esc(results.machine.cpu)}, ${results.machine.cores} cores, ${esc(results.date.slice(0, 16).replace('T', ' '))} UTC · medians after warm-up</text>`,
  ];
  // legend
  let lx = left;
  for (const s of series) {
    out.push(`<rect x="${lx}" y="38" width="10" height="10" fill="${COLORS[s.key]}"/><text x="${lx + 14}" y="47">${esc(s.label)}</text>`);
    lx += 14 + s.label.length * 5.6 + 14;
  }
  cfgs.forEach((c, pi) => {
    const x0 = left + labelW + pi * (panelW + panelGap);
    const cfg = results.configs[c];
    out.push(`<text x="${x0}" y="${top - 4}" font-weight="bold">${c} (B ${cfg.B}, T ${cfg.T}, D ${cfg.D}, H ${cfg.H}, Z ${cfg.Z})</text>`);
    for (let d = lo; d <= hi; d *= 10) {
      const gx = x0 + xs(d) * panelW;
      out.push(
        `<line x1="${gx}" y1="${top + 2}" x2="${gx}" y2="${height - 30}" stroke="#e2e8f0"/><text x="${gx}" y="${height - 18}" text-anchor="middle" fill="#555">${d >= 1000 ? d / 1000 + 'k' : +d.toPrecision(1)}</text>`,
      );
    }
  });
  let y = top + 6;
  for (const rt of runtimes) {
    out.push(`<text x="${left}" y="${y + (rowsPerRt * (bar + 2)) / 2 + 3}" font-weight="bold">${esc(runtimeLabel(results, rt))}</text>`);
    series.forEach((s, si) => {
      const by = y + si * (bar + 2);
      cfgs.forEach((c, pi) => {
        const x0 = left + labelW + pi * (panelW + panelGap);
        const cands = results.runs.filter((r) => r.runtime === rt && r.config === c && r.mode === 'train' && r.seqPerSec > 0 && s.pick(r));
        if (!cands.length) return;
        const best = cands.reduce((a, b) => (b.seqPerSec > a.seqPerSec ? b : a));
        const w = Math.max(1, xs(best.seqPerSec) * panelW);
        const tag = best.impl === 'lstm-vae' ? ` ${best.backend}/${best.threads}` : '';
        out.push(
          `<rect x="${x0}" y="${by}" width="${w.toFixed(1)}" height="${bar}" fill="${COLORS[s.key]}"><title>${esc(`${runtimeLabel(results, rt)} ${s.label}${tag}: ${fmt(best.seqPerSec)} seq/s`)}</title></rect>`,
        );
        const inside = w > panelW - 60;
        out.push(
          `<text x="${(inside ? x0 + w - 3 : x0 + w + 3).toFixed(1)}" y="${by + bar - 2}" text-anchor="${inside ? 'end' : 'start'}" fill="${inside ? 'white' : '#222'}" font-size="9">${fmt(best.seqPerSec)}${esc(tag)}</text>`,
        );
      });
    });
    y += rowsPerRt * (bar + 2) + groupGap;
  }
  out.push('</svg>');
  return out.join('\n');
}
