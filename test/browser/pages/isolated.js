// The cross-origin-isolated page (served with COOP/COEP): main-thread suites, then each Worker suite
// in a fresh module Worker. Results go to window.__results, which run.mjs polls.
import { runPage } from './harness.js';
import { isolatedMain, isolatedWorker } from './suites.js';

await runPage('isolated page', { mainSuites: isolatedMain, workerSuites: isolatedWorker, mainWhere: 'main', workerWhere: 'worker' });
