// End-to-end test of the browser demo (examples/browser) in headless Chromium.
//
//   node test/browser/demo-e2e.mjs        (needs dist/: `npx tsup`)
//
// Builds the example with Vite's JS API, serves examples/browser/dist with COOP/COEP (cross-origin
// isolated, so the Worker gets threads), and clicks through it: the built-in synthetic data set,
// training `AnomalyDetector.fit(series, { seed: 1 })` with the package's defaults in the Worker (window,
// threshold and diagnostics shown), scoring with `det.score` (detected intervals on the planted
// anomalies), the live replay of the series through `det.stream()` in the Worker (the live scores equal
// `det.score`'s of the same rows, alarms open on the planted anomalies; then a paced replay, its speed
// changed, stopped part way), a .safetensors download of the detector, saving to IndexedDB, a page reload, loading the
// detector back by name and scoring again (same top score, window and threshold). Numbers are read from
// elements with data-testid attributes (exact values in data-value).
//
// Environment: CHROMIUM=<path> (default /usr/bin/chromium), DEMO_E2E_TIMEOUT=<ms for the whole
// run> (default 240000), DEMO_E2E_DEBUG=1 prints the page's console, DEMO_E2E_SCREENSHOT=<file.png>
// saves a screenshot of the page after scoring and the live replay.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve, url, close, CHROMIUM, CHROMIUM_ARGS } from './serve.mjs';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const example = resolve(root, 'examples/browser');
const TOTAL_TIMEOUT = Number(process.env.DEMO_E2E_TIMEOUT) || 240_000;
const DEBUG = !!process.env.DEMO_E2E_DEBUG;
// The longest single wait: training with the detector's defaults stops by itself within its budget
// (1000 steps, 40 s), on a busy machine with some margin.
const STEP = 90_000;
const MODEL_NAME = 'e2e-model';
const STOPPED = ['converged', 'max-steps', 'max-seconds'];

const results = [];
function record(name, ok, error) {
  results.push({ name, ok, error });
  console.log(ok ? `✓ ${name}` : `✗ ${name}: ${error}`);
}
/** Runs a check; a thrown error or a false result is a failure. */
async function check(name, fn) {
  try {
    const r = await fn();
    if (r === false) record(name, false, 'check returned false');
    else record(name, true);
    return true;
  } catch (e) {
    record(name, false, e?.message ?? String(e));
    return false;
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const tid = (id) => `[data-testid="${id}"]`;
const text = (page, id) => page.locator(tid(id)).innerText({ timeout: 5_000 });
async function value(page, id) {
  const v = await page.locator(tid(id)).getAttribute('data-value', { timeout: 5_000 });
  assert(v !== null, `${id} has no value (shows "${await text(page, id)}")`);
  return v;
}
const number = async (page, id) => Number(await value(page, id));
/** Waits until the element's text is one of `wanted`; returns it. */
async function waitText(page, id, wanted, timeout = STEP) {
  const h = await page.waitForFunction(
    ([sel, w]) => {
      const t = document.querySelector(sel)?.textContent?.trim();
      return w.includes(t) ? t : null;
    },
    [tid(id), wanted],
    { timeout, polling: 100 },
  );
  return h.jsonValue();
}
async function pageErrors(page) {
  return page.locator('#log .error').allInnerTexts();
}

let server, browser;

async function run() {
  if (!existsSync(resolve(root, 'dist/index.js')) || !existsSync(resolve(root, 'dist/worker.browser.js'))) {
    record('dist/ is built', false, 'dist/index.js or dist/worker.browser.js is missing: run `npx tsup`');
    return;
  }
  try {
    const ok = await check('vite build of examples/browser', async () => {
      const { build } = await import('vite');
      await build({ configFile: resolve(example, 'vite.config.ts'), logLevel: 'error' });
      assert(existsSync(resolve(example, 'dist/index.html')), 'no dist/index.html');
    });
    if (!ok) return;
    server = await serve(resolve(example, 'dist'), { isolated: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    console.log(`Chromium ${browser.version()}, demo at ${url(server)}/`);
    const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => record('no uncaught page errors', false, e.message));
    page.on('console', (m) => DEBUG && console.log(`  [console.${m.type()}] ${m.text()}`));

    const open = async () => {
      const res = await page.goto(`${url(server)}/`, { timeout: 30_000 });
      assert(res?.ok(), `HTTP ${res?.status()}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    };
    if (!(await check('page loads and the Worker initialises', open))) return;

    await check('page is cross-origin isolated', async () =>
      assert((await text(page, 'page-isolated')) === 'true', 'crossOriginIsolated is not true'),
    );
    await check('backend in the Worker has threads >= 2', async () => {
      const build = await text(page, 'backend-build');
      const threads = await number(page, 'backend-threads');
      console.log(`  backend: ${build}, ${threads} threads`);
      assert(build.endsWith('-mt'), `build ${build}: ${await text(page, 'backend-reasons')}`);
      assert(threads >= 2, `threads = ${threads}`);
    });

    let regions = [];
    await check('built-in synthetic data set loads', async () => {
      await page.click(tid('builtin-sine'));
      await waitText(page, 'dataset-points', ['2000'], 15_000);
      regions = JSON.parse(await value(page, 'planted-regions'));
      assert(regions.length > 0, 'no planted regions');
    });

    let firstLoss = NaN,
      finalLoss = NaN,
      window = NaN,
      threshold = NaN;
    const trained = await check(
      'training AnomalyDetector.fit with its defaults completes in the Worker; the window, threshold and diagnostics are shown',
      async () => {
        await page.fill(tid('opt-seed'), '1');
        await page.waitForSelector(`${tid('train')}:not([disabled])`);
        const t0 = Date.now();
        await page.click(tid('train'));
        const status = await waitText(page, 'train-status', ['done', 'stopped', 'error'], STEP);
        assert(status === 'done', `training ended with "${status}": ${(await pageErrors(page)).join(' | ')}`);
        firstLoss = await number(page, 'first-loss');
        finalLoss = await number(page, 'final-loss');
        const epochs = await number(page, 'epochs-done');
        const steps = await number(page, 'steps-done');
        const stopped = await text(page, 'stopped');
        window = await number(page, 'window');
        threshold = await number(page, 'threshold');
        const reason = await text(page, 'window-reason');
        const rule = await text(page, 'threshold-rule');
        const diagnostics = await text(page, 'diagnostics');
        const notLearnt = await page.locator(tid('diagnostics')).getAttribute('data-not-learnt');
        console.log(
          `  ${steps} steps, ${epochs} epochs in ${((Date.now() - t0) / 1000).toFixed(1)} s (stopped: ${stopped}): first-epoch loss ${firstLoss}, final loss ${finalLoss}`,
        );
        console.log(`  window ${window} rows: ${reason}`);
        console.log(`  threshold ${threshold}: ${rule}`);
        console.log(`  diagnostics: ${diagnostics}`);
        assert(STOPPED.includes(stopped), `stopped: "${stopped}"`);
        assert(steps > 0 && epochs > 0, `steps ${steps}, epochs ${epochs}`);
        assert(Number.isFinite(finalLoss), `final loss ${finalLoss}`);
        assert(finalLoss < firstLoss, `final loss ${finalLoss} >= first-epoch loss ${firstLoss}`);
        assert(Number.isInteger(window) && window >= 2, `window ${window}`);
        // the planted series has a period of 40 points: the detector's default window follows it
        assert(/period/.test(reason), `window reason "${reason}"`);
        assert(Number.isFinite(threshold), `threshold ${threshold}`);
        assert(/mean \+ 3·std/.test(rule), `threshold rule "${rule}"`);
        assert(diagnostics !== '–' && notLearnt === 'false', `the detector did not learn the series: ${diagnostics}`);
      },
    );
    if (trained) {
      await check("the page's main thread stayed responsive while training (longest gap < 2 s)", async () => {
        const gap = await number(page, 'main-max-gap');
        console.log(`  longest main-thread timer gap during training: ${gap} ms`);
        assert(gap < 2000, `${gap} ms`);
      });
    }

    let topScore;
    const scored =
      trained &&
      (await check('scoring with det.score: detected intervals cover the planted anomalies, which have the highest scores', async () => {
        await page.click(tid('score'));
        const status = await waitText(page, 'score-status', ['scored', 'error'], STEP);
        assert(status === 'scored', `scoring: ${(await pageErrors(page)).join(' | ')}`);
        const flagged = await number(page, 'flagged-count');
        const intervals = JSON.parse(await value(page, 'intervals'));
        topScore = await value(page, 'top-score');
        const topIndex = await number(page, 'top-index');
        const top = JSON.parse(await value(page, 'top-indices')).slice(0, 20);
        const near = (i) => regions.some(([a, b]) => i >= a - window / 2 && i <= b + window / 2);
        const inRegions = top.filter(near).length;
        const overlaps = ([a, b], [c, d]) => a <= d && c <= b;
        const found = regions.filter((r) => intervals.some((iv) => overlaps(iv, r)));
        const falseAlarms = intervals.filter((iv) => !regions.some((r) => overlaps(iv, r)));
        console.log(
          `  intervals ${JSON.stringify(intervals)} (${flagged} points); planted ${JSON.stringify(regions)}: ${found.length} found, ${falseAlarms.length} false alarm(s)`,
        );
        console.log(`  top score ${topScore} at ${topIndex}; ${inRegions}/20 of the highest within half a window of planted regions`);
        assert(Number(await value(page, 'threshold')) === threshold, "the threshold shown after scoring is not the detector's");
        assert(flagged > 0 && intervals.length > 0, `flagged ${flagged}, intervals ${JSON.stringify(intervals)}`);
        assert(found.length >= 1, 'no detected interval overlaps a planted anomaly');
        assert(falseAlarms.length <= 1, `false alarms ${JSON.stringify(falseAlarms)}`);
        assert(Number.isFinite(Number(topScore)), `top score ${topScore}`);
        assert(near(topIndex), `the highest score is at ${topIndex}, outside the planted regions`);
        assert(inRegions >= 16, `only ${inRegions} of the 20 highest scores are in planted regions`);
      }));

    const replayed =
      scored &&
      (await check(
        'live replay through det.stream() in the Worker: every live score equals det.score of the same rows; alarms open on the planted anomalies',
        async () => {
          await page.selectOption(tid('replay-speed'), '0');
          await page.waitForSelector(`${tid('replay')}:not([disabled])`);
          const t0 = Date.now();
          await page.click(tid('replay'));
          const status = await waitText(page, 'live-status', ['done', 'stopped', 'error'], STEP);
          assert(status === 'done', `replay ended with "${status}": ${(await pageErrors(page)).join(' | ')}`);
          const rows = await number(page, 'live-rows');
          const batches = Number(await page.locator(tid('live-rows')).getAttribute('data-batches'));
          const delay = await number(page, 'live-delay');
          const rate = await number(page, 'live-rate');
          const pushMs = await number(page, 'live-push-ms');
          const compared = await number(page, 'live-compared');
          const maxDiff = await number(page, 'live-max-diff');
          const opened = await number(page, 'live-opened');
          const closed = await number(page, 'live-closed');
          const matching = await number(page, 'live-matching');
          const alarms = JSON.parse(await value(page, 'live-alarms'));
          const gap = await number(page, 'live-max-gap');
          console.log(
            `  ${rows} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${batches} batches: ${rate} rows/s, ${pushMs} ms per push; delay ${delay} rows; longest main-thread gap ${gap} ms`,
          );
          console.log(`  ${compared} live scores against det.score of the same rows: largest difference ${maxDiff}`);
          console.log(`  alarms: ${opened} opened, ${closed} closed (${matching} equal to det.score intervals): ${JSON.stringify(alarms)}`);
          assert(rows === 2000, `${rows} rows replayed`);
          assert(batches >= 2, `the points came in ${batches} batch(es)`);
          assert(Number.isInteger(delay) && delay >= window - 1, `delay ${delay} (window ${window})`);
          assert(rate > 0 && pushMs > 0, `rows/s ${rate}, ms per push ${pushMs}`);
          assert(compared === rows - delay, `${compared} scores compared, expected ${rows - delay}`);
          assert(maxDiff === 0, `live scores differ from det.score by up to ${maxDiff}`);
          assert(opened >= 1 && alarms.length === opened, `${opened} alarm(s) opened, ${alarms.length} listed`);
          const overlaps = ([a, b], [c, d]) => a <= d && c <= b;
          assert(
            alarms.some((a) => regions.some((r) => overlaps([a.start, a.end ?? rows - 1], r))),
            `no alarm on a planted anomaly ${JSON.stringify(regions)}`,
          );
          assert(closed >= 1 && matching === closed, `${matching} of ${closed} closed alarms are det.score intervals`);
          for (const a of alarms.filter((x) => x.end !== null))
            assert(
              ['sine', 'mixed'].includes(a.features?.[0]?.name) && a.features[0].share > 0 && a.features[0].share <= 1,
              `alarm ${a.start}–${a.end}: top feature ${JSON.stringify(a.features)}`,
            );
          assert(/top feature (sine|mixed)/.test(await text(page, 'live-last')), `last point: ${await text(page, 'live-last')}`);
          assert(gap < 2000, `the main thread was blocked for ${gap} ms`);
          assert((await text(page, 'live-error')) === '', `error shown: ${await text(page, 'live-error')}`);
        },
      ));
    if (scored && process.env.DEMO_E2E_SCREENSHOT) await page.screenshot({ path: process.env.DEMO_E2E_SCREENSHOT, fullPage: true });
    if (replayed) {
      await check(
        'a paced replay (100 rows/s, then 1000) stops part way; the scores so far equal det.score of the rows pushed',
        async () => {
          await page.selectOption(tid('replay-speed'), '100');
          await page.click(tid('replay'));
          await waitText(page, 'live-status', ['replaying'], 5_000);
          const rowsAtLeast = (k) =>
            page.waitForFunction(
              ([sel, k]) => Number(document.querySelector(sel)?.getAttribute('data-value')) >= k,
              [tid('live-rows'), k],
              {
                timeout: 30_000,
                polling: 50,
              },
            );
          await rowsAtLeast(100);
          const t0 = Date.now();
          await page.selectOption(tid('replay-speed'), '1000');
          await rowsAtLeast(500);
          const seconds = (Date.now() - t0) / 1000;
          await page.click(tid('replay-stop'));
          const status = await waitText(page, 'live-status', ['done', 'stopped', 'error'], STEP);
          const rows = await number(page, 'live-rows');
          const delay = await number(page, 'live-delay');
          const compared = await number(page, 'live-compared');
          const maxDiff = await number(page, 'live-max-diff');
          console.log(
            `  stopped at ${rows} rows (500 reached ${seconds.toFixed(1)} s after the speed change); ${compared} scores compared, largest difference ${maxDiff}`,
          );
          assert(status === 'stopped', `replay ended with "${status}": ${(await pageErrors(page)).join(' | ')}`);
          assert(rows >= 500 && rows < 2000, `${rows} rows`);
          assert(compared === rows - delay, `${compared} scores compared, expected ${rows - delay}`);
          assert(maxDiff === 0, `live scores differ from det.score by up to ${maxDiff}`);
          assert(await page.locator(`${tid('train')}:not([disabled])`).count(), 'Train is still disabled after the replay');
        },
      );
    }

    if (trained) {
      await check(
        "download gives a .safetensors file of the detector (det.toSafetensors(): the model and the detector's plan)",
        async () => {
          const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.click(tid('download'))]);
          const name = download.suggestedFilename();
          const bytes = readFileSync(await download.path());
          assert(name.endsWith('.safetensors'), `file name ${name}`);
          const headerLen = Number(bytes.readBigUInt64LE(0));
          const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
          assert(header.__metadata__?.format === 'lstm-vae', `metadata ${JSON.stringify(header.__metadata__)}`);
          assert('encoder.lstm.weight_ih_l0' in header, 'no encoder.lstm.weight_ih_l0 tensor');
          const plan = JSON.parse(header.__metadata__.metadata ?? '{}').detector;
          assert(
            plan && plan.window * plan.aggregate === window && plan.threshold === threshold,
            `detector plan ${JSON.stringify(plan)?.slice(0, 200)}`,
          );
          console.log(`  ${name}: ${bytes.length} bytes`);
        },
      );
    }

    if (scored) {
      await check(
        'save to IndexedDB, reload the page, load by name: the same window and threshold, and scoring gives the same top score',
        async () => {
          await page.fill(tid('model-name'), MODEL_NAME);
          await page.click(tid('save-idb'));
          await waitText(page, 'storage-status', [`saved "${MODEL_NAME}"`], 15_000);
          await page.reload({ timeout: 30_000 });
          await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
          const names = JSON.parse((await page.locator(tid('saved-models')).getAttribute('data-names')) ?? '[]');
          assert(names.includes(MODEL_NAME), `saved models after reload: ${JSON.stringify(names)}`);
          assert((await text(page, 'model-info')) === 'no detector', 'the reloaded page already has a detector');
          await page.click(tid('builtin-sine'));
          await waitText(page, 'dataset-points', ['2000'], 15_000);
          await page.selectOption(tid('saved-models'), MODEL_NAME);
          await page.click(tid('load-idb'));
          await waitText(page, 'storage-status', [`loaded "${MODEL_NAME}"`], 15_000);
          assert((await number(page, 'window')) === window, `window after loading ${await number(page, 'window')} != ${window}`);
          assert(
            (await number(page, 'threshold')) === threshold,
            `threshold after loading ${await number(page, 'threshold')} != ${threshold}`,
          );
          await page.click(tid('score'));
          const status = await waitText(page, 'score-status', ['scored', 'error'], STEP);
          assert(status === 'scored', `scoring after reload: ${(await pageErrors(page)).join(' | ')}`);
          const again = await value(page, 'top-score');
          console.log(`  top score before ${topScore}, after reload ${again}`);
          assert(again === topScore, `top score ${again} != ${topScore}`);
        },
      );
    }

    await check('no errors in the page log', async () => {
      const errors = await pageErrors(page);
      assert(errors.length === 0, errors.join(' | '));
    });
  } catch (e) {
    record('demo e2e run', false, e?.message ?? String(e));
  } finally {
    await browser?.close().catch(() => undefined);
    close(server);
  }
}

const t0 = Date.now();
let watchdog;
const timedOut = new Promise((ok) => {
  watchdog = setTimeout(() => {
    record('demo e2e run', false, `timed out after ${TOTAL_TIMEOUT / 1000} s`);
    ok();
  }, TOTAL_TIMEOUT);
});
await Promise.race([run(), timedOut]);
clearTimeout(watchdog);
// after a timeout run() may still hold them (closing twice is harmless)
await Promise.race([browser?.close().catch(() => undefined), new Promise((ok) => setTimeout(ok, 5_000))]);
close(server);
const passed = results.filter((r) => r.ok).length;
const failed = results.filter((r) => !r.ok).length;
console.log(`demo-e2e: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
process.exit(failed > 0 ? 1 : 0);
