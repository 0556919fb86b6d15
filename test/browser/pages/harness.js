// A tiny test harness shared by the page main threads and the test Workers.
//
// A suite module (see suites.js) exports `default function (test, ctx)` that registers its tests:
//   test('name', async () => { ... })           runs; throws = fails
//   test.skip('name', 'why', async () => {...})  listed as skipped, not run
// ctx: { where: 'worker' | 'main' | 'plain-main' | 'plain-worker', fixture(name) → parsed test/fixtures/<name>.json }
// Assertion helpers are exported below; any thrown Error fails the test with its message.

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

export function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Calls fn, which must throw an error whose name is `name` (and whose message matches `re`, if given). */
export function assertThrows(fn, name, re) {
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    if (!e || e.name !== name) throw new Error(`expected a ${name}, got ${e?.name}: ${e?.message}`);
    if (re && !re.test(e.message)) throw new Error(`${name} message ${JSON.stringify(e.message)} does not match ${re}`);
  }
  if (!threw) throw new Error(`expected a ${name}, nothing was thrown`);
}

/** Awaits promise, which must reject with an error whose name is `name`. */
export async function assertRejects(promise, name, re) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`expected a rejection with ${name}, the promise resolved`);
  if (err.name !== name) throw new Error(`expected a ${name}, got ${err.name}: ${err.message}`);
  if (re && !re.test(err.message)) throw new Error(`${name} message ${JSON.stringify(err.message)} does not match ${re}`);
}

export function makeContext(where) {
  return {
    where,
    async fixture(name) {
      const res = await fetch(`/test/fixtures/${name}.json`);
      if (!res.ok) throw new Error(`fixture ${name}: HTTP ${res.status}`);
      return res.json();
    },
  };
}

/**
 * Runs the tests a suite module registers, one after another. `report(event)` receives
 * { type: 'start', name } before each test and { type: 'result', name, ok, error?, skipped? } after.
 */
export async function runSuite(mod, ctx, report) {
  const label = mod.name ? `${mod.name} ` : '';
  const tests = [];
  const test = (name, fn) => tests.push({ name, fn });
  test.skip = (name, why) => tests.push({ name, skipped: why });
  try {
    await mod.default(test, ctx);
  } catch (e) {
    report({ type: 'result', name: `${label}[${ctx.where}] (registering tests)`, ok: false, error: describe(e) });
    return;
  }
  for (const t of tests) {
    const name = `${label}[${ctx.where}] ${t.name}`;
    if (t.skipped) {
      report({ type: 'result', name, ok: true, skipped: t.skipped });
      continue;
    }
    report({ type: 'start', name });
    try {
      await t.fn();
      report({ type: 'result', name, ok: true });
    } catch (e) {
      report({ type: 'result', name, ok: false, error: describe(e) });
    }
  }
}

export function describe(e) {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * The page side: window.__results, which run.mjs polls.
 * { done, running, results: [{ name, ok, error?, skipped? }] }
 */
export function pageResults() {
  const r = { done: false, running: null, results: [] };
  globalThis.__results = r;
  return {
    report(ev) {
      if (ev.type === 'start') r.running = ev.name;
      else {
        r.running = null;
        r.results.push({ name: ev.name, ok: ev.ok, error: ev.error, skipped: ev.skipped });
      }
    },
    fail(name, error) {
      r.results.push({ name, ok: false, error });
    },
    finish() {
      r.done = true;
    },
  };
}

/**
 * Runs one suite module in a fresh module Worker (a fresh copy of lstm-vae: each Worker has its own
 * module graph and its own WebAssembly instances). Resolves when the Worker reports it is done.
 */
export function runSuiteInWorker(suiteUrl, where, report) {
  return new Promise((resolve) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `test ${suiteUrl}` });
    const end = () => {
      w.terminate();
      resolve();
    };
    w.onmessage = (e) => {
      const ev = e.data;
      if (ev.type === 'done') end();
      else report(ev);
    };
    w.onerror = (e) => {
      report({
        type: 'result',
        name: `${suiteUrl} [${where}] (worker)`,
        ok: false,
        error: `worker error: ${e.message || 'failed to load'}`,
      });
      end();
    };
    w.postMessage({ suite: new URL(suiteUrl, import.meta.url).href, where });
  });
}

/**
 * A test page: runs `mainSuites` on this page's main thread (ctx.where = mainWhere), then each of
 * `workerSuites` in a fresh module Worker (workerWhere), and reports to window.__results.
 */
export async function runPage(label, { mainSuites, workerSuites, mainWhere, workerWhere }) {
  const page = pageResults();
  addEventListener('unhandledrejection', (e) => page.fail(`${label}: unhandled rejection`, describe(e.reason)));
  try {
    for (const s of mainSuites) await runSuite(await import(s), makeContext(mainWhere), page.report);
    for (const s of workerSuites) await runSuiteInWorker(s, workerWhere, page.report);
  } catch (e) {
    page.fail(label, describe(e));
  }
  page.finish();
}
