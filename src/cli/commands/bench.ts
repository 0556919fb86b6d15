/**
 * `lstm-vae bench`: runs the repository's benchmark script.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IOError } from '../../core/errors.js';

export async function bench(o: { full?: boolean }, rest: string[]): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    resolve(here, '..', 'bench', 'run.mjs'),
    resolve(here, '..', '..', 'bench', 'run.mjs'),
    join(process.cwd(), 'bench', 'run.mjs'),
  ];
  const script = candidates.find((c) => existsSync(c));
  if (!script) throw new IOError('bench/run.mjs not found: the benchmarks ship with the source repository, not with the npm package');
  const args = [
    ...(process.versions.node.startsWith('20.') ? ['--experimental-wasm-relaxed-simd'] : []),
    script,
    ...(o.full ? [] : ['--quick']),
    ...rest,
  ];
  const code = await new Promise<number>((res, rej) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('error', rej);
    child.on('exit', (c, sig) => res(c ?? (sig ? 128 + 2 : 1)));
  });
  if (code !== 0) {
    const e = new Error(`the benchmark exited with code ${code}`);
    e.name = 'LstmVaeError';
    (e as Error & { exitCode?: number }).exitCode = code;
    throw e;
  }
}
