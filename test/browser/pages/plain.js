// The page served without COOP/COEP: main-thread suites, then Worker suites.
import { pageResults, makeContext, runSuite, runSuiteInWorker, describe } from './harness.js';
import { plainMain, plainWorker } from './suites.js';

const page = pageResults();
addEventListener('unhandledrejection', (e) => page.fail('plain page: unhandled rejection', describe(e.reason)));
try {
  for (const s of plainMain) await runSuite(await import(s), makeContext('plain-main'), page.report);
  for (const s of plainWorker) await runSuiteInWorker(s, 'plain-worker', page.report);
} catch (e) {
  page.fail('plain page', describe(e));
}
page.finish();
