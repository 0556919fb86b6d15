// A test Worker: imports one suite module, runs its tests, posts the results to the page.
import { makeContext, runSuite, describe } from './harness.js';

self.onmessage = async (e) => {
  const { suite, where } = e.data;
  const report = (ev) => self.postMessage(ev);
  try {
    const mod = await import(suite);
    await runSuite(mod, makeContext(where), report);
  } catch (err) {
    report({ type: 'result', name: `${suite} [${where}] (import)`, ok: false, error: describe(err) });
  }
  self.postMessage({ type: 'done' });
};
