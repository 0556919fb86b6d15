// The browser test suites: add a module to a list to run it (paths relative to this folder).
// A suite module exports `default function (test, ctx)` (see harness.js) and optionally `name`.
//
// isolatedWorker: each suite runs in its own fresh module Worker of the cross-origin-isolated page
//                 (threads available; a fresh copy of lstm-vae and of its WebAssembly instances).
// isolatedMain:   on the main thread of the cross-origin-isolated page (threads off by design).
// plainMain / plainWorker: on the page served without COOP/COEP, main thread / a module Worker.
//
// Model API hook: when LstmVae lands, add './suites/model.js' to isolatedWorker (and to plainMain
// for the single-threaded path); it can load the fixtures with `await ctx.fixture('lstm')`
// (→ /test/fixtures/lstm.json) and compare with the same tolerances as the Node tests.
export const isolatedMain = ['./suites/main-thread.js', './suites/storage.js'];
export const isolatedWorker = [
  './suites/default-init.js',
  './suites/builds.js',
  './suites/reinit.js',
  './suites/model.js',
  './suites/storage.js',
];
export const plainMain = ['./suites/not-isolated.js'];
export const plainWorker = ['./suites/not-isolated.js'];
