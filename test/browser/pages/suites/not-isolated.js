// A page served without COOP/COEP (main thread or Worker): no shared memory, so the simd build.
import * as lv from '/dist/index.js';
import { assert, assertEq, assertRejects } from '../harness.js';
import { matmulTests } from './matmul-checks.js';

export const name = 'not isolated';

export default function (test, ctx) {
  test('the page is not cross-origin isolated', () => assertEq(globalThis.crossOriginIsolated, false, 'crossOriginIsolated'));
  test("init() gives simd, 1 thread, and a reason containing 'cross-origin isolated'", async () => {
    const info = await lv.init();
    assertEq(info.build, 'simd', 'build');
    assertEq(info.threads, 1, 'threads');
    assert(
      info.reasons.some((r) => r.includes('cross-origin isolated')),
      `reasons: ${JSON.stringify(info.reasons)}`,
    );
  });
  matmulTests(test, lv, 'simd without isolation');
  test('asking for threads still gives simd, 1 thread (run.mjs counts the console.info notices)', async () => {
    for (const threads of [2, 4]) {
      await lv.dispose();
      const info = await lv.init({ threads });
      assertEq(info.build, 'simd', `build with threads: ${threads}`);
      assertEq(info.threads, 1, `threads with threads: ${threads}`);
    }
  });
  test("init({ build: 'simd-mt' }) rejects with BackendError", async () => {
    await lv.dispose();
    await assertRejects(lv.init({ build: 'simd-mt' }), 'BackendError', /cross-origin isolated/);
    await lv.dispose();
  });
  void ctx;
}
