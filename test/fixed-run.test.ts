// Same seed, same build, same data → the same run to the last bit: on 1 and 2 threads here, and the
// curve written for the browser suite (test/browser/pages/suites/model.js) to compare in Chromium.
import { expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as lv from '../dist/index.node.js';
import { fixedRun, FIXED_RUN_BUILD } from './shared/fixed-run.js';

it(`a fixed-seed run on ${FIXED_RUN_BUILD} is bit-identical on 1 and 2 threads (and is recorded for Chromium)`, async () => {
  await lv.dispose();
  await lv.init({ build: FIXED_RUN_BUILD, threads: 2 });
  lv.setThreads(1);
  const one = await fixedRun(lv);
  lv.setThreads(2);
  const two = await fixedRun(lv);
  expect(two.losses).toEqual(one.losses);
  expect(two.weightsHash).toBe(one.weightsHash);
  expect(one.losses.length).toBe(18);
  expect(one.losses.every(Number.isFinite)).toBe(true);
  mkdirSync(new URL('./browser/generated/', import.meta.url), { recursive: true });
  const record = JSON.stringify({ build: FIXED_RUN_BUILD, node: process.version, ...two });
  writeFileSync(new URL('./browser/generated/node-fixed-run.json', import.meta.url), record);
  await lv.dispose();
});
