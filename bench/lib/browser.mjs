// Runs benchmark jobs in headless Chromium: a cross-origin-isolated page (COOP/COEP, served by the
// browser tests' server) whose jobs each run in a fresh module Worker (threads allowed there).
import { existsSync, mkdirSync } from 'node:fs';
import { serve, url, close, CHROMIUM, CHROMIUM_ARGS } from '../../test/browser/serve.mjs';

/** Bundles the TF.js Worker (TF.js ships for bundlers) into .cache/bench/tfjs-worker.js. */
async function bundleTfjsWorker(root) {
  const esbuild = await import('esbuild');
  mkdirSync(`${root}/.cache/bench`, { recursive: true });
  await esbuild.build({
    entryPoints: [`${root}/bench/browser/tfjs-worker.mjs`],
    outfile: `${root}/.cache/bench/tfjs-worker.js`,
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: false, logLevel: 'error',
    absWorkingDir: root,
  });
}

/**
 * Returns { browser: { name, version, info }, results: [{ job, result }], errors } or throws with
 * the reason the browser cannot run here.
 */
export async function runInChromium(root, jobs, { timeoutMs = 30 * 60_000, log = () => {} } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`);
  if (!existsSync(`${root}/dist/index.js`)) throw new Error('dist/index.js is missing: run `npx tsup`');
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is not installed (${e.message})`);
  }
  if (jobs.some((j) => j.kind === 'tfjs')) await bundleTfjsWorker(root);
  const server = await serve(root, { isolated: true });
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    const page = await browser.newPage();
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') log(`console: ${m.text()}`); });
    await page.goto(`${url(server)}/bench/browser/index.html`);
    await page.waitForFunction(() => typeof window.startBench === 'function');
    const info = await page.evaluate(() => window.__bench.info);
    if (!info.crossOriginIsolated) throw new Error('the benchmark page is not cross-origin isolated');
    await page.evaluate((j) => window.startBench(j), jobs);
    const deadline = Date.now() + timeoutMs;
    let seen = 0, running = null;
    for (;;) {
      const s = await page.evaluate(() => ({ done: window.__bench.done, n: window.__bench.results.length, running: window.__bench.running }));
      if (s.n > seen) seen = s.n;
      const r = JSON.stringify(s.running);
      if (s.running && r !== running) log(`chromium: ${describeJob(s.running)}`);
      running = r;
      if (s.done) break;
      if (Date.now() > deadline) throw new Error(`the browser benchmark did not finish in ${timeoutMs / 1000} s`);
      await new Promise((ok) => setTimeout(ok, 500));
    }
    const out = await page.evaluate(() => window.__bench);
    return { browser: { name: 'chromium', version: browser.version(), info: out.info }, results: out.results, errors: out.errors, log: out.log };
  } finally {
    await browser?.close().catch(() => undefined);
    close(server);
  }
}

export function describeJob(j) {
  return j.kind === 'ours'
    ? `lstm-vae ${j.build} threads ${j.threads.join('/')} ${j.configs.join(',')}`
    : `TF.js ${j.backend} ${j.variant}${j.threads ? ` threads ${j.threads}` : ''} ${j.configs.join(',')}`;
}
