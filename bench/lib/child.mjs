// One benchmark job in a fresh process of some runtime (Node, Bun, Deno):
//   <runtime> bench/lib/child.mjs '<job JSON>'
// Prints one line per result, `@@bench {json}`, so the parent can read them among other output.
// A job: { kind: 'ours', build, threads: [1, 2], configs, modes, budget, overhead? }
//     or { kind: 'tfjs', backend, variant, configs, modes, budget }.
import process from 'node:process';
import { CONFIGS } from './configs.mjs';

const job = JSON.parse(process.argv[process.argv.length - 1]);
const emit = (type, data) => console.log(`@@bench ${JSON.stringify({ type, ...data })}`);

export function runtimeInfo() {
  const D = globalThis.Deno;
  if (D) return { name: 'deno', version: D.version.deno, engine: `V8 ${D.version.v8}` };
  if (process.versions.bun)
    return {
      name: 'bun',
      version: process.versions.bun,
      engine: `JavaScriptCore${process.versions.webkit ? ' ' + process.versions.webkit : ''}`,
    };
  return { name: 'node', version: process.versions.node, engine: `V8 ${process.versions.v8}`, flags: process.execArgv.join(' ') };
}

let cpuNow = null;
try {
  process.cpuUsage();
  cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
} catch {
  /* no CPU time in this runtime */
}

let peakRss = 0;
const rss = () => {
  try {
    const v = typeof process.memoryUsage.rss === 'function' ? process.memoryUsage.rss() : process.memoryUsage().rss;
    if (v > peakRss) peakRss = v;
    return v;
  } catch {
    return null;
  }
};
const maxRss = () => {
  try {
    const r = process.resourceUsage?.();
    return r?.maxRSS ? r.maxRSS * 1024 : null;
  } catch {
    return null;
  }
};

emit('info', { runtime: runtimeInfo() });
const root = new URL('../../', import.meta.url);

async function main() {
  let pkg;
  if (job.kind === 'ours') {
    pkg = await import(new URL('dist/index.node.js', root).href);
    const t = Math.max(...job.threads);
    const info = await pkg.init({ build: job.build, ...(job.build === 'simd' ? {} : { threads: t }) });
    emit('backend', { info });
  }
  const { runOurs, callOverhead } = await import('./ours.mjs');
  const tfjs = job.kind === 'tfjs' ? await import('../tfjs.mjs') : null;
  if (job.kind === 'ours' && job.overhead) {
    try {
      emit('overhead', { result: await callOverhead({ pkg, threads: 1 }) });
    } catch (e) {
      emit('error', { what: 'overhead', error: String(e?.stack ?? e) });
    }
  }
  for (const name of job.configs) {
    const config = CONFIGS[name];
    for (const mode of job.modes) {
      for (const threads of job.kind === 'ours' ? job.threads : [1]) {
        const budget = { ...(job.budget?.[name] ?? {}) };
        peakRss = 0;
        const rss0 = rss();
        try {
          const r =
            job.kind === 'ours'
              ? await runOurs({ pkg, config, mode, threads, cpuNow, onStep: rss, ...budget })
              : await tfjs.runTfjs({ backend: job.backend, variant: job.variant, config, mode, cpuNow, onStep: rss, ...budget });
          emit('result', { result: { ...r, config: name, rssBefore: rss0, rssPeak: peakRss, maxRss: maxRss() } });
        } catch (e) {
          emit('error', { what: `${name} ${mode} threads ${threads}`, config: name, mode, threads, error: String(e?.stack ?? e) });
        }
      }
    }
  }
  if (pkg) await pkg.dispose();
}

// Deno ends a process whose only pending work is an unref()'d Worker starting up (the package's pool
// threads), silently and with status 0, in the middle of `await init()`: keep the process alive.
const keepAlive = setInterval(() => {}, 1 << 30);
main().then(
  () => {
    clearInterval(keepAlive);
    process.exit(0);
  },
  (e) => {
    emit('error', { what: 'job', error: String(e?.stack ?? e) });
    process.exit(1);
  },
);
