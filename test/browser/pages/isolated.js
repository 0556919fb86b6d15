// The cross-origin-isolated page (served with COOP/COEP): main-thread suites, then each Worker suite
// in a fresh module Worker. Results go to window.__results, which run.mjs polls.
import { pageResults, makeContext, runSuite, runSuiteInWorker, describe } from './harness.js';
import { isolatedMain, isolatedWorker } from './suites.js';

const page = pageResults();
addEventListener('unhandledrejection', (e) => page.fail('isolated page: unhandled rejection', describe(e.reason)));
try {
  for (const s of isolatedMain) await runSuite(await import(s), makeContext('main'), page.report);
  for (const s of isolatedWorker) await runSuiteInWorker(s, 'worker', page.report);
} catch (e) {
  page.fail('isolated page', describe(e));
}
page.finish();
