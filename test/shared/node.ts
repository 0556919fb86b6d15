// Node-only test helpers: temporary folders and killing a process mid-save.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const dirs: string[] = [];

/** A new empty folder under the OS temp folder; `removeTmpDirs()` deletes every one made so far. */
export function tmpDir(prefix = 'lstm-vae-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Deletes the folders `tmpDir` made, also read-only or immutable ones (tests make such folders). */
export function removeTmpDirs(): void {
  for (const d of dirs.splice(0)) {
    spawnSync('chattr', ['-i', d], { stdio: 'ignore' });
    try {
      fs.chmodSync(d, 0o755);
    } catch {
      // already gone
    }
    fs.rmSync(d, { recursive: true, force: true });
  }
}

/** Escapes `s` for use inside a RegExp. */
export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// ---------------------------------------------------------------------------------------------
// SIGKILL during a save
// ---------------------------------------------------------------------------------------------

/**
 * Runs `node <args>`: a child that saves in a loop and writes `begin\n` (with writeSync) before each
 * save and `end\n` after it. After 1–3 completed saves it is SIGKILLed a random fraction (0–1.2) of
 * the median save time later, so kills land in every phase of a save and sometimes between saves.
 * `durations` collects the times between completed saves (shared between rounds). Resolves when the
 * child is gone; `midSave` tells whether the kill landed inside a save (the child's last line was
 * `begin`: every line it wrote is read before the pipe closes).
 */
export async function killWhileSaving(args: string[], random: () => number, durations: number[]): Promise<{ midSave: boolean }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const saves = 1 + Math.floor(random() * 3);
  let done = 0;
  let last = 0;
  let lastLine = '';
  let buf = '';
  let reached: () => void = () => {};
  const reachedSaves = new Promise<void>((r) => (reached = r));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const line of lines) {
      lastLine = line;
      if (line !== 'end') continue;
      const now = performance.now();
      if (done > 0) durations.push(now - last);
      last = now;
      if (++done === saves) reached();
    }
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the saving process made no progress in 60 s; stderr: ${stderr}`)), 60_000);
    void reachedSaves.then(() => {
      clearTimeout(timer);
      resolve();
    });
    void closed.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the saving process exited early (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
  const sorted = [...durations].sort((a, b) => a - b);
  const period = sorted.length ? sorted[sorted.length >> 1] : 20;
  await sleep(random() * period * 1.2);
  child.kill('SIGKILL');
  const { signal } = await closed;
  if (signal !== 'SIGKILL') throw new Error(`the saving process ended with ${signal} instead of SIGKILL; stderr: ${stderr}`);
  if (lastLine !== 'begin' && lastLine !== 'end') throw new Error(`unexpected output from the saving process: ${JSON.stringify(lastLine)}`);
  return { midSave: lastLine === 'begin' };
}

/** The median of `values` (0 when empty). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;
}

/** The Python the interoperability tests run (PYTHON, default python3). */
export const PYTHON = process.env.PYTHON ?? 'python3';

/** Why PYTHON cannot import `modules` (undefined when it can): those tests fail with this message. */
export function pythonProblem(modules: readonly string[]): string | undefined {
  const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (!r.error && r.status === 0) return undefined;
  const why = r.error ? r.error.message : r.stderr.trim().split('\n').pop();
  return `this test needs ${PYTHON} with ${modules.join(' and ')} (pip install ${modules.join(' ')}; CI installs them): ${why}`;
}

/**
 * After a kill: every file in `dir` besides the target `name` must be the temporary file of an
 * interrupted save (`.<name>.<pid>.<12 hex>.tmp`), and then the kill must have landed mid-save.
 * Removes those files; tells whether there were any.
 */
export function removeSaveLeftovers(dir: string, name: string, kill: { midSave: boolean }, round: number): boolean {
  const tmpPattern = new RegExp(`^\\.${escapeRegExp(name)}\\.\\d+\\.[0-9a-f]{12}\\.tmp$`);
  const others = fs.readdirSync(dir).filter((f) => f !== name);
  for (const f of others) {
    expect(f).toMatch(tmpPattern); // only the temporary file of an interrupted save
    fs.rmSync(path.join(dir, f));
  }
  if (others.length) expect(kill.midSave, `round ${round}: a temporary file was left but the kill was not mid-save`).toBe(true);
  return others.length > 0;
}
