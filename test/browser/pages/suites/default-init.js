// init() with no options in a Worker of a cross-origin-isolated page: a threaded build.
import * as lv from '/dist/index.js';
import { assert, assertEq, assertRejects } from '../harness.js';
import { matmulTests } from './matmul-checks.js';

export const name = 'default init';

export default function (test) {
  test('the page is cross-origin isolated and SharedArrayBuffer exists', () => {
    assertEq(globalThis.crossOriginIsolated, true, 'crossOriginIsolated');
    assertEq(typeof SharedArrayBuffer, 'function', 'typeof SharedArrayBuffer');
  });
  test('init() picks relaxed-mt (Chromium has relaxed SIMD) with threads >= 2', async () => {
    const [info, again] = await Promise.all([lv.init(), lv.init()]);
    assert(info === again, 'two concurrent init() calls share one load');
    assert(info.build === 'relaxed-mt' || info.build === 'simd-mt', `build ${info.build} is threaded`);
    assertEq(info.build, 'relaxed-mt', 'build');
    assert(info.threads >= 2, `threads ${info.threads} >= 2 (navigator.hardwareConcurrency = ${navigator.hardwareConcurrency})`);
    assertEq(info.runtime, 'browser', 'runtime');
    assert(info.reasons.length > 0, 'reasons are given');
    assert((await lv.init()) === info, 'a later init() returns the same info');
  });
  test('bad options and conflicting re-initialisation reject with ConfigError', async () => {
    await assertRejects(lv.init({ build: 'avx' }), 'ConfigError', /unknown build/);
    await assertRejects(lv.init({ threads: 0 }), 'ConfigError', /threads must be a whole number/);
    await assertRejects(lv.init({ build: 'simd' }), 'ConfigError', /already initialised/);
  });
  matmulTests(test, lv, 'default');
  test('dispose() then backendInfo() throws BackendError', async () => {
    await lv.dispose();
    let name;
    try {
      lv.backendInfo();
    } catch (e) {
      name = e.name;
    }
    assertEq(name, 'BackendError', 'error name');
  });
}
