// dispose() and init() again with the same threaded build, in one Worker: each load gets a fresh
// instance and pool (the glue's state is reset), so the thread count may change between loads.
import * as lv from '/dist/index.js';
import { assertEq } from '../harness.js';
import { checkAccuracy, checkDeterminism } from './matmul-checks.js';

export const name = 'reinit';

export default function (test) {
  test('dispose() then init() of the same threaded build works again, with other thread counts', async () => {
    const cores = Math.min(navigator.hardwareConcurrency || 1, 8);
    for (const [i, threads] of [cores, 1, cores].entries()) {
      await lv.dispose();
      const info = await lv.init({ build: 'simd-mt', threads });
      assertEq(info.build, 'simd-mt', `build (load ${i + 1})`);
      assertEq(info.threads, threads, `threads (load ${i + 1})`);
      checkAccuracy(lv);
      checkDeterminism(lv);
    }
    await lv.dispose();
  });
}
