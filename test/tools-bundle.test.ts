// dist/tools.js is what the repository's scripts (npm run demo, eval, bench) load: it must import in plain Node, with
// the demo's data sets (devDependencies, CommonJS) resolved as packages, not bundled into the ESM file (bundled,
// they fail at load: "Dynamic require of "path" is not supported", which broke `npm run demo` once).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(__dirname, '..');

it('dist/tools.js loads in Node after dist/index.node.js, as the demo does, and reads the sensor data set', () => {
  const code = `
    await import('./dist/index.node.js');
    const tools = await import('./dist/tools.js');
    const { motes } = tools.loadSensorNetwork();
    console.log(JSON.stringify({ motes: motes.length, rows: motes.map((m) => m.data.length / 2) }));`;
  const p = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(p.stderr).toBe('');
  expect(p.status).toBe(0);
  const r = JSON.parse(p.stdout.trim().split('\n').pop()!);
  expect(r.motes).toBe(4);
  for (const n of r.rows) expect(n).toBeGreaterThan(4000);
});
