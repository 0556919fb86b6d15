// Runs benchmark jobs in a headless browser: a cross-origin-isolated page (COOP/COEP, served by the
// browser tests' server) whose jobs each run in a fresh module Worker (threads allowed there).
// Chromium is driven with playwright-core, Firefox ESR with puppeteer-core over WebDriver BiDi
// (playwright cannot drive a stock Firefox); both share the page API used here.
import { existsSync, mkdirSync } from 'node:fs';
import { serve, url, close, CHROMIUM, CHROMIUM_ARGS } from '../../test/browser/serve.mjs';

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
export const BROWSERS = {
  chromium: { label: 'Chromium', engine: 'V8', exe: CHROMIUM, install: 'apt-get install -y chromium, or set CHROMIUM' },
  firefox: {
    label: FIREFOX.includes('esr') ? 'Firefox ESR' : 'Firefox',
    engine: 'SpiderMonkey',
    exe: FIREFOX,
    install: 'apt-get install -y firefox-esr, or set FIREFOX',
  },
};

/** Bundles the TF.js Worker (TF.js ships for bundlers) into .cache/bench/tfjs-worker.js. */
async function bundleTfjsWorker(root) {
  const esbuild = await import('esbuild');
  mkdirSync(`${root}/.cache/bench`, { recursive: true });
  await esbuild.build({
    entryPoints: [`${root}/bench/browser/tfjs-worker.mjs`],
    outfile: `${root}/.cache/bench/tfjs-worker.js`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: false,
    logLevel: 'error',
    absWorkingDir: root,
  });
}

/** Starts `name` headless; resolves to { browser, version } or throws with the reason it cannot. */
async function launch(name) {
  const { exe, install } = BROWSERS[name];
  if (!existsSync(exe)) throw new Error(`no ${BROWSERS[name].label} at ${exe} (${install})`);
  if (name === 'chromium') {
    let chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch (e) {
      throw new Error(`playwright-core is not installed (${e.message})`);
    }
    const browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, timeout: 30_000 });
    return { browser, version: browser.version() };
  }
  let puppeteer;
  try {
    puppeteer = (await import('puppeteer-core')).default;
  } catch (e) {
    throw new Error(`puppeteer-core is not installed (${e.message})`);
  }
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      executablePath: exe,
      headless: true,
      timeout: 30_000,
    });
  } catch (e) {
    throw new Error(`${exe} did not start: ${String(e.message).split('\n')[0]}`);
  }
  return { browser, version: (await browser.version()).replace(/^firefox\//, '') };
}

/**
 * Runs `jobs` in `name` ('chromium' | 'firefox'). Returns { browser: { name, version, info },
 * results: [{ job, ... }], errors, skips, log } or throws with the reason the browser cannot run here.
 */
export async function runInBrowser(name, root, jobs, { timeoutMs = 30 * 60_000, log = () => {} } = {}) {
  if (!BROWSERS[name]) throw new Error(`unknown browser ${name}`);
  if (!existsSync(`${root}/dist/index.js`)) throw new Error('dist/index.js is missing: run `npx tsup`');
  if (jobs.some((j) => j.kind === 'tfjs')) await bundleTfjsWorker(root);
  const server = await serve(root, { isolated: true });
  let browser;
  try {
    let version;
    ({ browser, version } = await launch(name));
    const page = await browser.newPage();
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') log(`console: ${m.text()}`);
    });
    await page.goto(`${url(server)}/bench/browser/index.html`);
    await page.waitForFunction(() => typeof window.startBench === 'function');
    const info = await page.evaluate(() => window.__bench.info);
    if (!info.crossOriginIsolated) throw new Error('the benchmark page is not cross-origin isolated');
    log(
      `${name} ${version}: crossOriginIsolated ${info.crossOriginIsolated}, relaxed SIMD ${info.relaxedSimd}, hardwareConcurrency ${info.hardwareConcurrency}`,
    );
    await page.evaluate((j) => window.startBench(j), jobs);
    const deadline = Date.now() + timeoutMs;
    let running = null,
      late = null;
    for (;;) {
      const s = await page.evaluate(() => ({ done: window.__bench.done, running: window.__bench.running }));
      const r = JSON.stringify(s.running);
      if (s.running && r !== running) log(`${name}: ${describeJob(s.running)}`);
      running = r;
      if (s.done) break;
      if (Date.now() > deadline) {
        // keep what finished; report the job that was running and those never started
        late = s.running;
        break;
      }
      await new Promise((ok) => setTimeout(ok, 500));
    }
    const out = await page.evaluate(() => window.__bench);
    if (late)
      out.errors.push({
        job: late,
        what: 'timeout',
        error: `the browser run did not finish in ${timeoutMs / 1000} s: this job and the ones after it were not measured`,
      });
    return { browser: { name, version, info: out.info }, results: out.results, errors: out.errors, skips: out.skips, log: out.log };
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
