// Browser tests: the built package (dist/index.js) in headless Chromium.
//
//   node test/browser/run.mjs        (run by `npm test`; needs dist/: `npx tsup`)
//
// Serves the repository root on 127.0.0.1 twice: one port with COOP/COEP (a cross-origin-isolated
// page, threads possible in Workers) and one without (the single-threaded fallback). Each page
// (test/browser/pages/*.html) runs test suites and collects structured results in
// window.__results, which this script polls, prints (✓ / ✗ / - skipped) and counts.
//
// Adding tests: write a suite module in test/browser/pages/suites/ (`export default function
// (test, ctx) { test('name', async () => { ... }) }`, helpers in pages/harness.js) and add its
// path to a list in test/browser/pages/suites.js:
//   isolatedWorker — each suite in a fresh module Worker of the isolated page (threads on),
//   isolatedMain   — the isolated page's main thread (threads off by design),
//   plainMain / plainWorker — the page without COOP/COEP.
// The model API (LstmVae) goes in as './suites/model.js' in isolatedWorker (and plainMain);
// fixtures load with `await ctx.fixture('lstm')` (test/fixtures/lstm.json).
//
// Environment: CHROMIUM=<path> (default /usr/bin/chromium), BROWSER_TEST_TIMEOUT=<ms per page>
// (default 60000), BROWSER_TEST_DEBUG=1 prints the pages' console.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve, url, close, CHROMIUM, CHROMIUM_ARGS } from './serve.mjs';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PAGE_TIMEOUT = Number(process.env.BROWSER_TEST_TIMEOUT) || 60_000;
const DEBUG = !!process.env.BROWSER_TEST_DEBUG;

const results = []; // { name, ok, error?, skipped? }

function record(r) {
  results.push(r);
  if (r.skipped) console.log(`- ${r.name} (skipped: ${r.skipped})`);
  else if (r.ok) console.log(`✓ ${r.name}`);
  else console.log(`✗ ${r.name}: ${r.error}`);
}

/** Opens a page, waits (at most PAGE_TIMEOUT) for window.__results.done, records its results. */
async function runPage(browser, label, url, { onConsole } = {}) {
  const page = await browser.newPage();
  const consoleMessages = [];
  page.on('console', (m) => {
    consoleMessages.push({ type: m.type(), text: m.text(), worker: m.worker()?.url() ?? null });
    if (DEBUG) console.log(`  [${label} console.${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => record({ name: `${label}: page error`, ok: false, error: e.message }));
  let seen = 0;
  const flush = async () => {
    const r = await page.evaluate(() => globalThis.__results ?? null).catch(() => null);
    if (r) for (; seen < r.results.length; seen++) record(r.results[seen]);
    return r;
  };
  try {
    const res = await page.goto(url, { timeout: PAGE_TIMEOUT });
    if (!res?.ok()) throw new Error(`loading ${url}: HTTP ${res?.status()}`);
    const deadline = Date.now() + PAGE_TIMEOUT;
    for (;;) {
      const r = await flush();
      if (r?.done) break;
      if (Date.now() > deadline) {
        record({
          name: `${label}: page`,
          ok: false,
          error: `timed out after ${PAGE_TIMEOUT / 1000} s${r?.running ? ` (running: ${r.running})` : ''}`,
        });
        break;
      }
      await new Promise((ok) => setTimeout(ok, 200));
    }
    if (seen === 0) record({ name: `${label}: page`, ok: false, error: 'no test results' });
    onConsole?.(consoleMessages);
  } catch (e) {
    await flush();
    record({ name: `${label}: page`, ok: false, error: e.message });
  } finally {
    await page.close().catch(() => undefined);
  }
}

/** The server sends the MIME types and (only on the isolated port) the COOP/COEP headers. */
async function checkServer(base, isolated) {
  const name = `server (${isolated ? 'isolated' : 'not isolated'}): MIME types and ${isolated ? 'COOP/COEP headers' : 'no COOP/COEP headers'}`;
  try {
    const want = {
      '/dist/wasm/simd/lstm_vae_kernels_bg.wasm': 'application/wasm',
      '/dist/index.js': 'text/javascript',
      '/test/browser/pages/isolated.html': 'text/html',
      '/package.json': 'application/json',
    };
    for (const [path, type] of Object.entries(want)) {
      const res = await fetch(base + path);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
      if (!res.headers.get('content-type')?.startsWith(type)) throw new Error(`${path}: Content-Type ${res.headers.get('content-type')}`);
      const coop = res.headers.get('cross-origin-opener-policy'),
        coep = res.headers.get('cross-origin-embedder-policy');
      if (isolated ? coop !== 'same-origin' || coep !== 'require-corp' : coop || coep)
        throw new Error(`${path}: COOP ${coop}, COEP ${coep}`);
    }
    const missing = await fetch(base + '/no/such/file.js');
    await missing.arrayBuffer();
    if (missing.status !== 404) throw new Error(`a missing file gives HTTP ${missing.status}`);
    record({ name, ok: true });
  } catch (e) {
    record({ name, ok: false, error: e.message });
  }
}

async function main() {
  if (!existsSync(resolve(root, 'dist/index.js')) || !existsSync(resolve(root, 'dist/worker.browser.js'))) {
    record({ name: 'dist/ is built', ok: false, error: 'dist/index.js or dist/worker.browser.js is missing: run `npx tsup`' });
    return;
  }
  const t0 = Date.now();
  let isolated, plain, browser;
  try {
    [isolated, plain] = await Promise.all([serve(root, { isolated: true }), serve(root, { isolated: false })]);
    const base = url;
    await checkServer(base(isolated), true);
    await checkServer(base(plain), false);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    console.log(`Chromium ${browser.version()}: isolated ${base(isolated)}, not isolated ${base(plain)}`);

    await runPage(browser, 'isolated page', `${base(isolated)}/test/browser/pages/isolated.html`);
    await runPage(browser, 'not-isolated page', `${base(plain)}/test/browser/pages/plain.html`, {
      onConsole(messages) {
        // Main thread and Worker each asked for threads twice (init({ threads: 2 }), then 4): each
        // JavaScript realm shows the notice once.
        for (const [where, inWorker] of [
          ['plain-main', false],
          ['plain-worker', true],
        ]) {
          const notices = messages.filter((m) => m.type === 'info' && m.text.startsWith('lstm-vae:') && !!m.worker === inWorker);
          const ok = notices.length === 1 && notices[0].text.includes('cross-origin isolated');
          record({
            name: `not isolated [${where}] exactly one console.info notice when asking for threads`,
            ok,
            error: ok ? undefined : `got ${notices.length}: ${JSON.stringify(notices.map((m) => m.text))}`,
          });
        }
      },
    });
  } catch (e) {
    record({ name: 'browser test run', ok: false, error: e.message });
  } finally {
    await browser?.close().catch(() => undefined);
    close(isolated);
    close(plain);
  }
  if (DEBUG) console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

await main();
const passed = results.filter((r) => r.ok && !r.skipped).length;
const failed = results.filter((r) => !r.ok).length;
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
