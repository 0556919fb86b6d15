// The page served without COOP/COEP: main-thread suites, then Worker suites.
import { runPage } from './harness.js';
import { plainMain, plainWorker } from './suites.js';

await runPage('plain page', { mainSuites: plainMain, workerSuites: plainWorker, mainWhere: 'plain-main', workerWhere: 'plain-worker' });
