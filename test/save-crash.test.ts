// saveModel / loadModel of the built package (dist/index.node.js) under crashes and failing targets:
// a child process that keeps saving two different models to one path is SIGKILLed at random
// (seeded) moments; the file must always load with loadModel and be exactly one of the two.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { init, LstmVae, saveModel, loadModel, IOError, type LstmVaeConfig } from '../dist/index.node.js';
import { escapeRegExp, killWhileSaving, median, removeSaveLeftovers, removeTmpDirs, tmpDir } from './shared/node.js';
import { mulberry32 } from './shared/numeric.js';

const PKG = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.node.js')).href;

/** Two models of different sizes and shapes (about 1.3 MB and 1.5 MB of weights). */
const VERSIONS: LstmVaeConfig[] = [
  { features: 8, hidden: 192, latent: 16, seed: 1 },
  { features: 4, hidden: 128, latent: 8, layers: 2, decoder: 'autoregressive', seed: 2 },
];

// Writes `begin` before and `end` after every save (see killWhileSaving).
const CHILD = `
import { writeSync } from 'node:fs';
import { init, LstmVae, saveModel } from ${JSON.stringify(PKG)};
const [target, configs] = process.argv.slice(2);
await init({ build: "simd" });
const models = JSON.parse(configs).map((c) => new LstmVae(c));
for (let i = 0; ; i++) {
  writeSync(1, 'begin\\n');
  await saveModel(models[i % 2], target);
  writeSync(1, 'end\\n');
}
`;

/** Saves in a process of its own (as another user when we are root) and prints the outcome. */
const SAVE_CHILD = `
import { init, LstmVae, saveModel } from ${JSON.stringify(PKG)};
const [target, config] = process.argv.slice(2);
await init({ build: "simd" });
try {
  await saveModel(new LstmVae(JSON.parse(config)), target);
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e.name, message: e.message }));
}
`;

let refs: Buffer[] = [];
beforeAll(async () => {
  await init();
  refs = VERSIONS.map((c) => {
    const m = new LstmVae(c);
    const b = Buffer.from(m.toSafetensors());
    m.dispose();
    return b;
  });
});
afterAll(removeTmpDirs);

describe('saveModel crash safety (real package, SIGKILL)', () => {
  // A kill lands inside a save (between `begin` and `end`) most of the time, as the child does little
  // else; at least half of them must, and at least one must leave a temporary file (killed while writing).
  const KILLS = 24;
  const MIN_MID_SAVE = KILLS / 2;
  it(`a process killed at ${KILLS} random moments (>= ${MIN_MID_SAVE} of them mid-save) always leaves a file that loadModel reads as one of the two models`, async () => {
    const random = mulberry32(0x5eed2024);
    const work = tmpDir('lstmvae-crash-');
    const childPath = path.join(work, 'saver.mjs');
    fs.writeFileSync(childPath, CHILD);
    const dir = path.join(work, 'models');
    fs.mkdirSync(dir);
    const target = path.join(dir, 'model.safetensors');
    const seen = [0, 0];
    const durations: number[] = [];
    let midSave = 0;
    let leftTmp = 0;

    for (let round = 0; round < KILLS; round++) {
      const kill = await killWhileSaving([childPath, target, JSON.stringify(VERSIONS)], random, durations);
      if (kill.midSave) midSave++;

      const model = await loadModel(target); // must not throw
      const bytes = fs.readFileSync(target);
      const which = refs.findIndex((r) => r.equals(bytes));
      expect(which, `round ${round}: the file (${bytes.length} bytes) is neither model`).toBeGreaterThanOrEqual(0);
      expect(Buffer.from(model.toSafetensors()).equals(refs[which])).toBe(true);
      expect(model.config.hidden).toBe(VERSIONS[which].hidden);
      model.dispose();
      seen[which]++;
      if (removeSaveLeftovers(dir, 'model.safetensors', kill, round)) leftTmp++;
    }
    console.log(
      `saveModel crash test: ${KILLS} kills, ${midSave} mid-save (${leftTmp} while the temporary file existed); ` +
        `the file was model A ${seen[0]}×, B ${seen[1]}×; median save ${median(durations).toFixed(1)} ms`,
    );
    expect(seen[0] + seen[1]).toBe(KILLS);
    expect(midSave, 'kills that landed inside a save').toBeGreaterThanOrEqual(MIN_MID_SAVE);
    expect(leftTmp, 'kills that landed while the temporary file was being written').toBeGreaterThan(0);
  });
});

describe('saveModel on a failing target', () => {
  it('a read-only folder gives an IOError and leaves the old file intact', async () => {
    const dir = tmpDir('lstmvae-crash-');
    const target = path.join(dir, 'model.safetensors');
    const old = new LstmVae(VERSIONS[0]);
    await saveModel(old, target);
    old.dispose();
    fs.chmodSync(target, 0o644);
    fs.chmodSync(dir, 0o555);
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    let outcome: { ok: boolean; name?: string; message?: string };
    if (!isRoot) {
      try {
        const m = new LstmVae(VERSIONS[1]);
        await saveModel(m, target);
        m.dispose();
        outcome = { ok: true };
      } catch (e) {
        outcome = { ok: false, name: (e as Error).name, message: (e as Error).message };
        expect(e).toBeInstanceOf(IOError);
      }
    } else {
      // root ignores permission bits: save from a process running as "nobody"
      const childPath = path.join(tmpDir('lstmvae-crash-'), 'save-once.mjs');
      fs.writeFileSync(childPath, SAVE_CHILD);
      fs.chmodSync(path.dirname(childPath), 0o755);
      fs.chmodSync(childPath, 0o644);
      fs.chmodSync(path.dirname(dir), 0o755);
      const r = spawnSync(process.execPath, [childPath, target, JSON.stringify(VERSIONS[1])], {
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        cwd: '/',
      });
      expect(r.status, `child stderr: ${r.stderr}`).toBe(0);
      outcome = JSON.parse(r.stdout.trim().split('\n').pop()!);
    }
    expect(outcome.ok).toBe(false);
    expect(outcome.name).toBe('IOError');
    expect(outcome.message).toMatch(new RegExp(`^cannot write model to ${escapeRegExp(target)}: EACCES: permission denied`));
    expect(fs.readFileSync(target).equals(refs[0])).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['model.safetensors']);
    const back = await loadModel(target);
    expect(Buffer.from(back.toSafetensors()).equals(refs[0])).toBe(true);
    back.dispose();
  });

  it('a folder at the target path or a file as its parent folder gives an IOError; nothing is changed', async () => {
    const dir = tmpDir('lstmvae-crash-');
    const target = path.join(dir, 'model.safetensors');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'inside'), 'keep');
    const m = new LstmVae(VERSIONS[0]);
    await expect(saveModel(m, target)).rejects.toThrowError(IOError);
    expect(fs.readFileSync(path.join(target, 'inside'), 'utf8')).toBe('keep');
    expect(fs.readdirSync(dir)).toEqual(['model.safetensors']);
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, 'old');
    await expect(saveModel(m, path.join(file, 'x.safetensors'))).rejects.toThrowError(/ENOTDIR/);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    await expect(loadModel(path.join(dir, 'missing.safetensors'))).rejects.toThrowError(/does not exist/);
    m.dispose();
  });
});
