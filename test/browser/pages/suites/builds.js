// Every build, forced with init({ build }), dispose() between: load, accuracy, determinism, errors.
import * as lv from '/dist/index.js';
import { assert, assertEq } from '../harness.js';
import { matmulTests } from './matmul-checks.js';

export const name = 'builds';

export default function (test) {
  for (const build of ['simd', 'simd-mt', 'relaxed-mt']) {
    test(`init({ build: '${build}' }) loads it`, async () => {
      await lv.dispose();
      const info = await lv.init({ build });
      assertEq(info.build, build, 'build');
      assertEq(info.runtime, 'browser', 'runtime');
      assert(info.features.includes('simd128'), `features ${info.features} include simd128`);
      if (build === 'simd') assertEq(info.threads, 1, 'threads');
      else {
        assert(info.threads >= 2, `threads ${info.threads} >= 2`);
        assert(info.features.includes('atomics'), `features ${info.features} include atomics`);
      }
      if (build === 'relaxed-mt') assert(info.features.includes('relaxed-simd'), `features ${info.features} include relaxed-simd`);
      assertEq(lv.backendInfo().build, build, 'backendInfo().build');
    });
    matmulTests(test, lv, build);
  }
  test('dispose() at the end', () => lv.dispose());
}
