// Package test: the packed tarball works the way users install and use it.
//
//   node test/package/run.mjs          (needs network access to the npm registry for the dependencies)
//
// 1. `npm pack` into a temp folder (`npx tsup` first if a dist/ file is missing) and check the file list;
// 2. `npm install <tarball>` in a scratch app under the temp folder;
// 3. Node: `import` (a .mjs file and node --input-type=module -e) and `require` (a .cjs file): init(), a matmul
//    against a float64 reference, backendInfo() (threads = cores up to 8; build 'native' on linux-x64, whose
//    binary ships in the tarball, run with no cargo on the PATH; a threaded WebAssembly build elsewhere and
//    with LSTM_VAE_NATIVE=off);
// 4. Vite: a scratch app whose main.js starts a module Worker that imports 'lstm-vae', inits, runs
//    a matmul and posts backendInfo() back; `vite build` (no lstm-vae-specific config needed; a Worker
//    with top-level await needs `worker: { format: 'es' }`), dist/ served with COOP/COEP over
//    node:http, opened in headless Chromium;
// 5. the same app on the Vite dev server, which needs `optimizeDeps: { exclude: ['lstm-vae'] }` and
//    the COOP/COEP headers in `server.headers`.
// 6. examples/browser copied out of the repository, as users take it: its `lstm-vae` dependency (the
//    published version range, which must accept this version) pointed at the tarball, `npm install`,
//    `tsc` (its typecheck script) and `vite build` with its own config; the build served with COOP/COEP
//    in Chromium: the Worker inits a threaded build, the built-in data set loads, and a bad model file
//    and an empty CSV show their errors next to the controls that failed.
// 7. publint (--strict: warnings fail too) and `attw --pack .` (types for every resolution mode).
//
// Environment: KEEP=1 keeps the temp folder; CHROMIUM=<path>; PACKAGE_TEST_EXAMPLE=0 skips step 6;
// PACKAGE_TEST_LINT=0 skips step 7.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve, url, close, CHROMIUM, CHROMIUM_ARGS } from '../browser/serve.mjs';

/** A Vite build of an app using lstm-vae holds the three .wasm builds and the kernel-thread worker chunk. */
function checkViteAssets(dir) {
  const assets = readdirSync(join(dir, 'dist/assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert(wasm.length === 3, `expected the 3 .wasm builds in dist/assets, got ${wasm.join(', ')}`);
  assert(
    assets.some((f) => f.startsWith('worker.browser')),
    `no kernel-thread worker chunk in dist/assets: ${assets.join(', ')}`,
  );
}
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const viteBin = join(root, 'node_modules/vite/bin/vite.js');
// What the package needs in dist/ (package.json exports, the kernel-thread workers, the builds).
const DIST_FILES = [
  'dist/index.js',
  'dist/index.cjs',
  'dist/index.d.ts',
  'dist/index.d.cts',
  'dist/index.node.js',
  'dist/index.node.cjs',
  'dist/index.node.d.ts',
  'dist/index.node.d.cts',
  'dist/worker.browser.js',
  'dist/worker.node.js',
  ...['simd', 'simd-mt', 'relaxed-mt'].map((b) => `dist/wasm/${b}/lstm_vae_kernels_bg.wasm`),
];
// The native backend's binary ships for linux-x64 (scripts/build-native builds it here); other platforms use WebAssembly.
const NATIVE = `${process.platform}-${process.arch}` === 'linux-x64';
if (NATIVE) DIST_FILES.push('dist/native/linux-x64/lstm_vae_native.node');
// The consumer's Node runs with a PATH that has no cargo (nor anything else): the binary is used as shipped.
const NO_TOOLS = { ...process.env, PATH: '/nonexistent' };
const WASM_ONLY = { ...NO_TOOLS, LSTM_VAE_NATIVE: 'off' };
const results = [];
const t0 = Date.now();

function record(name, ok, error) {
  results.push({ name, ok });
  console.log(ok ? `✓ ${name}` : `✗ ${name}: ${error}`);
}

/** Runs a check; a thrown error fails it (and returns undefined). */
/** Install-size budget of a fresh consumer (node_modules after `npm install <tarball>`). */
const INSTALL_BUDGET = 6 * 2 ** 20;

/** Bytes of the files under a folder (links not followed). */
function dirBytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

async function check(name, fn) {
  const t = Date.now();
  try {
    const v = await fn();
    record(`${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`, true);
    return v ?? true;
  } catch (e) {
    record(name, false, e.message);
    return undefined;
  }
}

function run(cmd, args, opts = {}) {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, timeout: 120_000, ...opts }, (err, stdout, stderr) => {
      if (err)
        fail(
          new Error(
            `${cmd} ${args.join(' ').slice(0, 120)} failed (${err.killed ? 'timed out' : `exit ${err.code}`}): ${(stderr || stdout).trim().slice(-1500)}`,
          ),
        );
      else ok({ stdout, stderr });
    });
  });
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// The user code of the Node checks: a random matmul against a float64 reference, then backendInfo().
const userCode = (imp) => `${imp}
function rand(n, seed) { let s = seed; const o = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; o[i] = s / 2147483648 - 1; } return o; }
async function main() {
  await init();
  const [m, n, k] = [37, 29, 131];
  const a = rand(m * k, 1), b = rand(k * n, 2);
  const c = matmul({ data: a, shape: [m, k] }, { data: b, shape: [k, n] });
  let err = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0, mag = 0;
    for (let p = 0; p < k; p++) { s += a[i * k + p] * b[p * n + j]; mag += Math.abs(a[i * k + p] * b[p * n + j]); }
    err = Math.max(err, Math.abs(c.data[i * n + j] - s) / mag);
  }
  console.log(JSON.stringify({ info: backendInfo(), err, shape: c.shape }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;

function checkNodeOutput(stdout, { relaxed, native = NATIVE }) {
  const out = JSON.parse(stdout.trim().split('\n').pop());
  const want = Math.min(availableParallelism(), 8);
  assert(out.info.runtime === 'node', `runtime ${out.info.runtime}`);
  assert(out.shape.join('x') === '37x29', `shape ${out.shape}`);
  assert(out.err < 1e-5, `relative error ${out.err}`);
  if (native) {
    assert(out.info.build === 'native', `build ${out.info.build}, expected native: ${out.info.reasons.join('; ')}`);
    assert(out.info.features.startsWith('native,'), `features ${out.info.features}`);
    assert(out.info.threads === want, `threads ${out.info.threads}, expected ${want}`);
  } else if (want >= 2) {
    assert(
      out.info.build === (relaxed ? 'relaxed-mt' : 'simd-mt') || (!relaxed && out.info.build === 'relaxed-mt'),
      `build ${out.info.build}`,
    );
    assert(out.info.threads === want, `threads ${out.info.threads}, expected ${want}`);
  }
  return out.info;
}

const VITE_INDEX = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>lstm-vae in a Vite app</title>
<script type="module" src="./main.js"></script>
`;
const VITE_MAIN = `// The page: starts a module Worker (threads need one) and shows what it reports.
window.__result = null;
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onmessage = (e) => { window.__result = e.data; };
worker.onerror = (e) => { window.__result = { error: 'worker error: ' + (e.message || 'failed to load') }; };
`;
const VITE_WORKER = `import { init, backendInfo, matmul } from 'lstm-vae';
init().then(() => {
  const a = Float32Array.from({ length: 6 * 5 }, (_, i) => ((i * 7) % 11) / 11 - 0.5);
  const b = Float32Array.from({ length: 5 * 3 }, (_, i) => ((i * 5) % 13) / 13 - 0.5);
  const c = matmul({ data: a, shape: [6, 5] }, { data: b, shape: [5, 3] });
  let err = 0;
  for (let i = 0; i < 6; i++) for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let p = 0; p < 5; p++) s += a[i * 5 + p] * b[p * 3 + j];
    err = Math.max(err, Math.abs(c.data[i * 3 + j] - s));
  }
  postMessage({ info: backendInfo(), err, cores: navigator.hardwareConcurrency, isolated: self.crossOriginIsolated });
}).catch((e) => postMessage({ error: e.name + ': ' + e.message }));
`;
const VITE_WORKER_TLA = `import { init, backendInfo, matmul } from 'lstm-vae';
await init();
const c = matmul({ data: Float32Array.from([1, 2, 3, 4]), shape: [2, 2] }, { data: Float32Array.from([5, 6, 7, 8]), shape: [2, 2] });
const want = [19, 22, 43, 50];
postMessage({ info: backendInfo(), err: Math.max(...want.map((w, i) => Math.abs(c.data[i] - w))), cores: navigator.hardwareConcurrency, isolated: self.crossOriginIsolated });
`;
const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Opens `pageUrl`, waits for window.__result from the Worker, checks threads and the matmul. */
async function checkPage(browser, pageUrl) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(pageUrl, { timeout: 30_000 });
    await page
      .waitForFunction(() => window.__result, null, { timeout: 30_000 })
      .catch(() => {
        throw new Error(`no result from the worker in 30 s${errors.length ? `; page errors: ${errors.join('; ')}` : ''}`);
      });
    const r = await page.evaluate(() => window.__result);
    assert(!r.error, r.error);
    assert(r.isolated === true, 'the worker is not cross-origin isolated');
    const want = Math.min(r.cores, 8);
    assert(r.info.build === 'relaxed-mt' || r.info.build === 'simd-mt', `build ${r.info.build}: ${r.info.reasons.join('; ')}`);
    assert(r.info.threads === want && r.info.threads >= 2, `threads ${r.info.threads}, expected ${want} (>= 2)`);
    assert(r.err < 1e-5, `matmul error ${r.err}`);
    return r.info;
  } finally {
    await page.close().catch(() => undefined);
  }
}

/** Whether a dependency range written as `^x.y.z` (what the example uses) accepts `version` (x.y.z). */
function caretAccepts(range, version) {
  const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m || !v) return false;
  const [a, b] = [m.slice(1).map(Number), v.slice(1).map(Number)];
  // ^0.y.z: the same 0.y; ^x.y.z (x > 0): the same x; and not below x.y.z
  if (a[0] !== b[0] || (a[0] === 0 && a[1] !== b[1])) return false;
  return b[1] > a[1] || (b[1] === a[1] && b[2] >= a[2]);
}

/**
 * Step 6: examples/browser copied to `dir` (without its dist/ and node_modules/), its lstm-vae
 * dependency pointed at the tarball, installed, typechecked, built, and opened in Chromium.
 */
async function checkExample(browser, tarball, dir, servers) {
  const source = join(root, 'examples/browser');
  const installed = await check('examples/browser copied out: lstm-vae → the tarball, npm install', async () => {
    const pkg = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    const range = pkg.dependencies?.['lstm-vae'];
    assert(caretAccepts(range, version), `its package.json asks for lstm-vae "${range}", which does not accept this version, ${version}`);
    cpSync(source, dir, { recursive: true, filter: (p) => !/[\\/](dist|node_modules)$/.test(p) });
    pkg.dependencies['lstm-vae'] = `file:${tarball}`;
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, timeout: 240_000 });
    assert(existsSync(join(dir, 'node_modules/lstm-vae/dist/index.js')), 'node_modules/lstm-vae is not there');
  });
  if (!installed) return;
  await check('examples/browser copied out: npm run typecheck (tsc)', () =>
    run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, timeout: 120_000 }),
  );
  const built = await check('examples/browser copied out: vite build (its own vite and config)', async () => {
    const { stdout, stderr } = await run(process.execPath, [join(dir, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
      cwd: dir,
      timeout: 120_000,
    });
    const warnings = (stdout + stderr).trim();
    if (warnings) console.log(`  vite says: ${warnings.split('\n').join('\n  ')}`);
    assert(existsSync(join(dir, 'dist/index.html')), 'no dist/index.html');
    checkViteAssets(dir);
  });
  if (!built) return;
  const server = await serve(join(dir, 'dist'), { isolated: true });
  servers.push(server);
  await check(
    'examples/browser copied out, built and served with COOP/COEP: threads, data, errors shown next to their controls',
    async () => {
      const page = await browser.newPage();
      const pageErrors = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      const tid = (id) => `[data-testid="${id}"]`;
      /** The text of an element once it is visible. */
      const shown = async (sel) => {
        await page.locator(sel).waitFor({ state: 'visible', timeout: 15_000 });
        return page.locator(sel).textContent();
      };
      try {
        await page.goto(`${url(server)}/`, { timeout: 30_000 });
        await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        const build = await page.locator(tid('backend-build')).textContent();
        const threads = Number(await page.locator(tid('backend-threads')).textContent());
        assert(
          build.endsWith('-mt') && threads >= 2,
          `backend ${build}, ${threads} thread(s): ${await page.locator(tid('backend-reasons')).textContent()}`,
        );
        await page.click(tid('builtin-sine'));
        await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '2000', tid('dataset-points'), {
          timeout: 15_000,
        });
        // a file that is not a model: the error is shown under the model controls
        await page.setInputFiles(tid('model-file'), {
          name: 'not-a-model.safetensors',
          mimeType: 'application/octet-stream',
          buffer: Buffer.from('hello'),
        });
        const modelError = await shown(tid('model-error'));
        assert(/opening the model: .*safetensors/.test(modelError), `model error shown: "${modelError}"`);
        // a CSV with a header and no rows: the error is shown under the data controls
        await page.setInputFiles(tid('csv-file'), { name: 'empty.csv', mimeType: 'text/csv', buffer: Buffer.from('time,value\n') });
        const dataError = await shown(tid('data-error'));
        assert(/reading the CSV file: .*no rows/.test(dataError), `data error shown: "${dataError}"`);
        const logged = await page.locator('#log .error').allInnerTexts();
        assert(logged.length === 2, `the log has ${logged.length} error line(s): ${logged.join(' | ')}`);
        assert(await page.locator(tid('train-error')).isHidden(), 'an error is shown under the training controls');
        assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
        console.log(`  backend ${build}, ${threads} threads; shown: "${modelError}"; "${dataError}"`);
      } finally {
        await page.close().catch(() => undefined);
      }
    },
  );
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'lstm-vae-package-'));
  let browser, devServer;
  const servers = [];
  try {
    const missing = DIST_FILES.filter((f) => !existsSync(join(root, f)));
    if (missing.length) {
      const ok = await check(`npx tsup (dist/ lacked ${missing.length > 3 ? `${missing.length} files` : missing.join(', ')})`, () =>
        run('npx', ['tsup', '--silent'], { cwd: root, timeout: 180_000 }),
      );
      if (!ok) return;
    }

    const packed = `the entries, types, workers, the three .wasm builds${NATIVE ? ' and the linux-x64 native binary' : ''}`;
    const tarball = await check(`npm pack: the tarball holds ${packed}`, async () => {
      const { stdout } = await run('npm', ['pack', '--pack-destination', tmp, '--json', '--loglevel=error'], { cwd: root });
      const info = JSON.parse(stdout)[0];
      const files = info.files.map((f) => f.path);
      // the licence, and the notices of the third-party code that dist/ bundles (fflate, jsfive, idb-keyval, wasm-feature-detect)
      const need = ['package.json', 'LICENSE', 'THIRD_PARTY_NOTICES.md', ...DIST_FILES];
      const missing = need.filter((f) => !files.includes(f));
      assert(missing.length === 0, `missing: ${missing.join(', ')}`);
      const stray = files.filter(
        (f) => !(f.startsWith('dist/') || f === 'package.json' || /^(README|LICENSE|CHANGELOG|THIRD_PARTY_NOTICES)/i.test(f)),
      );
      assert(stray.length === 0, `unexpected files: ${stray.join(', ')}`);
      assert(
        files.some((f) => /^README/i.test(f)),
        'the tarball has no README.md',
      );
      console.log(
        `  ${info.filename}: ${(info.size / 1024).toFixed(0)} kB packed, ${(info.unpackedSize / 1024).toFixed(0)} kB unpacked, ${files.length} files`,
      );
      return join(tmp, info.filename);
    });
    if (!tarball) return;

    const app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'lstm-vae-package-test', private: true, version: '0.0.0' }, null, 2));
    const installed = await check('npm install <tarball> in a scratch app', async () => {
      await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
        cwd: app,
        timeout: 150_000,
      });
      assert(existsSync(join(app, 'node_modules/lstm-vae/dist/index.node.js')), 'node_modules/lstm-vae is not there');
      const { stdout } = await run('npm', ['ls', '--all', '--parseable'], { cwd: app }).catch(() => ({ stdout: '' }));
      // a lean install: the run-time dependencies are what dist/ imports (the demo's data sets are devDependencies)
      const bytes = dirBytes(join(app, 'node_modules'));
      console.log(
        `  ${stdout.trim().split('\n').length - 1} packages installed with it, ${(bytes / 2 ** 20).toFixed(1)} MiB in node_modules`,
      );
      assert(
        bytes < INSTALL_BUDGET,
        `a fresh install takes ${(bytes / 2 ** 20).toFixed(1)} MiB, over the ${INSTALL_BUDGET / 2 ** 20} MiB budget`,
      );
    });
    if (!installed) return;

    // Node, ESM and CommonJS. Node 20 validates relaxed-SIMD modules only with a flag: without it simd-mt.
    const relaxedFlag = process.versions.node.startsWith('20.') ? ['--experimental-wasm-relaxed-simd'] : [];
    await check(`node: import { init, backendInfo, matmul } from 'lstm-vae' (ESM, a .mjs file)`, async () => {
      writeFileSync(join(app, 'check.mjs'), userCode(`import { init, backendInfo, matmul } from 'lstm-vae';`));
      const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: app, timeout: 30_000, env: NO_TOOLS });
      checkNodeOutput(stdout, { relaxed: !relaxedFlag.length });
    });
    if (NATIVE) {
      await check('node, LSTM_VAE_NATIVE=off: import from lstm-vae picks a threaded WebAssembly build', async () => {
        const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: app, timeout: 30_000, env: WASM_ONLY });
        checkNodeOutput(stdout, { relaxed: !relaxedFlag.length, native: false });
      });
    }
    await check(`node --input-type=module -e "import { init, backendInfo, matmul } from 'lstm-vae' ..." (ESM)`, async () => {
      const { stdout } = await run(
        process.execPath,
        ['--input-type=module', '-e', userCode(`import { init, backendInfo, matmul } from 'lstm-vae';`)],
        { cwd: app, timeout: 30_000, env: NO_TOOLS },
      );
      const info = checkNodeOutput(stdout, { relaxed: !relaxedFlag.length });
      console.log(`  backendInfo: ${JSON.stringify(info)}`);
    });
    if (relaxedFlag.length) {
      await check(`node ${relaxedFlag[0]}, LSTM_VAE_NATIVE=off: import from 'lstm-vae' picks relaxed-mt`, async () => {
        const { stdout } = await run(
          process.execPath,
          [...relaxedFlag, '--input-type=module', '-e', userCode(`import { init, backendInfo, matmul } from 'lstm-vae';`)],
          { cwd: app, timeout: 30_000, env: WASM_ONLY },
        );
        checkNodeOutput(stdout, { relaxed: true, native: false });
      });
    }
    await check('npx lstm-vae --help in the fresh consumer: the CLI is installed and lists its commands', async () => {
      const { stdout } = await run('npx', ['--no-install', 'lstm-vae', '--help'], { cwd: app, timeout: 60_000 });
      for (const c of ['train', 'score', 'watch', 'import', 'export'])
        assert(new RegExp(`^\\s+${c}\\b`, 'm').test(stdout), `--help does not list ${c}:\n${stdout}`);
    });
    await check(`node: require('lstm-vae') (CommonJS)`, async () => {
      writeFileSync(join(app, 'check.cjs'), userCode(`const { init, backendInfo, matmul } = require('lstm-vae');`));
      const { stdout } = await run(process.execPath, ['check.cjs'], { cwd: app, timeout: 30_000, env: NO_TOOLS });
      const info = checkNodeOutput(stdout, { relaxed: !relaxedFlag.length });
      console.log(`  backendInfo: ${JSON.stringify(info)}`);
    });

    // Vite apps live in app/<name> and resolve 'lstm-vae' from app/node_modules. Two variants:
    // web:    default config, a worker that calls init().then(...);
    // web-es: the worker uses top-level `await init()`, which needs `worker: { format: 'es' }`
    //         (Vite's default worker format, iife, rejects top-level await).
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    const variants = [
      { dir: 'web', label: 'default config', worker: VITE_WORKER, config: null },
      {
        dir: 'web-es',
        label: "worker: { format: 'es' }, top-level await in the Worker",
        worker: VITE_WORKER_TLA,
        config: "export default { worker: { format: 'es' } };\n",
      },
    ];
    for (const v of variants) {
      const dir = join(app, v.dir);
      mkdirSync(dir);
      writeFileSync(join(dir, 'index.html'), VITE_INDEX);
      writeFileSync(join(dir, 'main.js'), VITE_MAIN);
      writeFileSync(join(dir, 'worker.js'), v.worker);
      if (v.config) writeFileSync(join(dir, 'vite.config.js'), v.config);
      const built = await check(`vite build (${v.label}) of an app whose module Worker imports lstm-vae`, async () => {
        const { stdout, stderr } = await run(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: dir, timeout: 60_000 });
        const warnings = (stdout + stderr).trim();
        if (warnings) console.log(`  vite says: ${warnings.split('\n').join('\n  ')}`);
        checkViteAssets(dir);
      });
      if (!built) continue;
      const server = await serve(join(dir, 'dist'), { isolated: true });
      servers.push(server);
      await check(
        `vite build (${v.label}) served with COOP/COEP: the Worker runs a threaded build with 2+ threads, matmul correct`,
        async () => {
          const info = await checkPage(browser, `${url(server)}/`);
          console.log(`  backendInfo: ${JSON.stringify(info)}`);
        },
      );
    }

    await check("vite dev server (optimizeDeps.exclude: ['lstm-vae'], COOP/COEP in server.headers): the Worker runs threaded", async () => {
      const { createServer } = await import(join(root, 'node_modules/vite/dist/node/index.js'));
      devServer = await createServer({
        root: join(app, 'web'),
        configFile: false,
        logLevel: 'error',
        cacheDir: join(tmp, 'vite-cache'),
        server: { host: '127.0.0.1', port: 0, headers: ISOLATION_HEADERS },
        optimizeDeps: { exclude: ['lstm-vae'] },
      });
      await devServer.listen();
      await checkPage(browser, devServer.resolvedUrls.local[0]);
    });

    if (process.env.PACKAGE_TEST_EXAMPLE !== '0') await checkExample(browser, tarball, join(tmp, 'example'), servers);
  } catch (e) {
    record('package test run', false, e.stack || e.message);
  } finally {
    await devServer?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    for (const server of servers) close(server);
    if (process.env.KEEP) console.log(`  kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }

  if (process.env.PACKAGE_TEST_LINT !== '0') {
    await check('publint --strict', async () => {
      const { stdout } = await run('npx', ['publint', '--strict'], { cwd: root });
      assert(/All good/.test(stdout), stdout.trim());
    });
    await check('attw --pack . (types resolve for node10, node16 CJS/ESM, bundler)', async () => {
      const { stdout } = await run('npx', ['attw', '--pack', '.', '--format', 'ascii'], { cwd: root });
      assert(/No problems found/.test(stdout), stdout.trim());
    });
  }
}

await main();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
console.log(`package: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
