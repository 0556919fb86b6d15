// The shared real data sets (../shared/data, or the folder in LSTM_VAE_DATA) for the suites that need them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { dataRoot } from '../../src/data/datasets.js';

/** The data folder if it holds every one of `needs` (sub-folders such as 'nab'), else why not. */
export function findRealData(needs: readonly string[]): { root: string; why?: undefined } | { root?: undefined; why: string } {
  let root: string;
  try {
    root = dataRoot();
  } catch (e) {
    return { why: (e as Error).message };
  }
  const missing = needs.filter((n) => !existsSync(join(root, n)));
  if (missing.length) return { why: `the data folder ${root} has no ${missing.join(', ')}` };
  return { root };
}

/**
 * `describe(name, () => body(root))` when the real data (`needs`) is there. Without it the suite is
 * skipped with a printed reason, except under CI (CI set), where it is one failing test.
 */
export function describeWithRealData(name: string, needs: readonly string[], body: (root: string) => void): void {
  const found = findRealData(needs);
  if (found.root !== undefined) {
    const root = found.root;
    describe(name, () => body(root));
  } else if (process.env.CI) {
    describe(name, () => {
      it(`has the shared data (${needs.join(', ')}): required under CI`, () => {
        throw new Error(`${name}: ${found.why} (set LSTM_VAE_DATA or provide ../shared/data)`);
      });
    });
  } else {
    console.warn(`skipped "${name}": ${found.why} (under CI this fails)`);
    describe.skip(name, () => {
      it('needs the shared data', () => {});
    });
  }
}
