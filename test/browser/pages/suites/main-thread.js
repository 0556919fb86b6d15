// The main thread of a cross-origin-isolated page: threads off by design (it may not block).
import * as lv from '/dist/index.js';
import { assert, assertEq, assertRejects } from '../harness.js';
import { matmulTests } from './matmul-checks.js';

export const name = 'page main thread';

export default function (test) {
  test('the page is cross-origin isolated', () => assertEq(globalThis.crossOriginIsolated, true, 'crossOriginIsolated'));
  test('init() falls back to simd, 1 thread, with the main-thread reason', async () => {
    const info = await lv.init();
    assertEq(info.build, 'simd', 'build');
    assertEq(info.threads, 1, 'threads');
    assert(
      info.reasons.some((r) => r.includes('main thread')),
      `a reason mentions the main thread: ${JSON.stringify(info.reasons)}`,
    );
  });
  matmulTests(test, lv, 'simd on the main thread');
  test("init({ build: 'relaxed-mt' }) rejects with BackendError", async () => {
    await lv.dispose();
    await assertRejects(lv.init({ build: 'relaxed-mt' }), 'BackendError', /main thread/);
    await lv.dispose();
  });
}
