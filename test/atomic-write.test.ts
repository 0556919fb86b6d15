import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { readFileBytes, readFileBytesSync, writeFileAtomic, writeFileAtomicSync } from '../src/io/atomic-write';
import { decodeSafetensors } from '../src/io/safetensors';
import { ConfigError, IOError } from '../src/core/errors';
import { escapeRegExp, killWhileSaving, median, removeSaveLeftovers, removeTmpDirs, tmpDir as sharedTmpDir } from './shared/node.js';
import { mulberry32 } from './shared/numeric.js';

// ---------------------------------------------------------------------------------------------
// Fault injection: node:fs and node:fs/promises are wrapped so that a chosen call fails once with
// an OS-style error. With nothing armed every call goes straight to Node.
// ---------------------------------------------------------------------------------------------

const faults = vi.hoisted(() => {
  const state = {
    name: undefined as string | undefined,
    skip: 0,
    code: 'EIO',
    errno: -5,
    desc: 'i/o error',
    fired: false,
    arm(name: string, opts: { skip?: number; code?: string; errno?: number; desc?: string } = {}) {
      state.name = name;
      state.skip = opts.skip ?? 0;
      state.code = opts.code ?? 'EIO';
      state.errno = opts.errno ?? -5;
      state.desc = opts.desc ?? 'i/o error';
      state.fired = false;
    },
    disarm() {
      state.name = undefined;
    },
    /** True when this call must fail (the fault is consumed). */
    hit(name: string): boolean {
      if (state.name !== name) return false;
      if (state.skip > 0) {
        state.skip--;
        return false;
      }
      state.name = undefined;
      state.fired = true;
      return true;
    },
    error(name: string): Error {
      const err = new Error(`${state.code}: ${state.desc}, ${name}`) as Error & { code: string; errno: number; syscall: string };
      err.code = state.code;
      err.errno = state.errno;
      err.syscall = name;
      return err;
    },
  };
  return state;
});

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const r = real as unknown as Record<string, (...args: unknown[]) => unknown>;
  const wrapped: Record<string, unknown> = { ...real };
  for (const name of ['openSync', 'fchmodSync', 'fsyncSync', 'renameSync']) {
    wrapped[name] = (...args: unknown[]) => {
      if (faults.hit(name)) throw faults.error(name);
      return r[name]!(...args);
    };
  }
  // A failing write writes half of the data first (like a disk that fills up).
  wrapped.writeFileSync = (file: unknown, data: unknown, ...rest: unknown[]) => {
    if (faults.hit('writeFileSync') && typeof file === 'number' && data instanceof Uint8Array) {
      real.writeSync(file, data, 0, data.length >> 1);
      throw faults.error('write');
    }
    return r.writeFileSync!(file, data, ...rest);
  };
  // A failing close still releases the descriptor.
  wrapped.closeSync = (fd: unknown) => {
    const fail = faults.hit('closeSync');
    real.closeSync(fd as number);
    if (fail) throw faults.error('close');
  };
  return { ...wrapped, default: wrapped };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const wrapHandle = (fh: import('node:fs/promises').FileHandle) =>
    new Proxy(fh, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if (typeof v !== 'function') return v;
        const fn = v as (...args: unknown[]) => Promise<unknown>;
        if (prop === 'close') {
          return async () => {
            const fail = faults.hit('fh.close');
            await fn.apply(target, []);
            if (fail) throw faults.error('close');
          };
        }
        if (prop === 'writeFile') {
          return async (data: Uint8Array) => {
            if (faults.hit('fh.writeFile')) {
              await target.write(data, 0, data.length >> 1, 0);
              throw faults.error('write');
            }
            return fn.apply(target, [data]);
          };
        }
        if (prop === 'sync' || prop === 'chmod') {
          return async (...args: unknown[]) => {
            if (faults.hit(`fh.${prop}`)) throw faults.error(prop);
            return fn.apply(target, args);
          };
        }
        return fn.bind(target);
      },
    });
  const wrapped = {
    ...real,
    open: async (...args: Parameters<typeof real.open>) => {
      if (faults.hit('open')) throw faults.error('open');
      return wrapHandle(await real.open(...args));
    },
    rename: async (...args: Parameters<typeof real.rename>) => {
      if (faults.hit('rename')) throw faults.error('rename');
      return real.rename(...args);
    },
  };
  return { ...wrapped, default: wrapped };
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const tmpDir = () => sharedTmpDir('lstm-vae-aw-');

afterEach(() => {
  faults.disarm();
  removeTmpDirs();
});

const OLD = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const NEW = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 0xff);

function tempLeftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

async function captureError(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

type Writer = (p: string, b: Uint8Array) => void | Promise<void>;
const writers: [string, Writer][] = [
  ['writeFileAtomic', writeFileAtomic],
  ['writeFileAtomicSync', writeFileAtomicSync],
];

// ---------------------------------------------------------------------------------------------
// Normal operation
// ---------------------------------------------------------------------------------------------

describe.each(writers)('%s', (_name, write) => {
  it('creates a file, then replaces it, leaving no temporary files', async () => {
    const dir = tmpDir();
    const p = path.join(dir, 'model.safetensors');
    await write(p, OLD);
    expect(new Uint8Array(fs.readFileSync(p))).toEqual(OLD);
    await write(p, NEW);
    expect(new Uint8Array(fs.readFileSync(p))).toEqual(NEW);
    await write(p, new Uint8Array(0));
    expect(fs.readFileSync(p).length).toBe(0);
    expect(fs.readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('accepts a relative path', async () => {
    const dir = tmpDir();
    const rel = path.relative(process.cwd(), path.join(dir, 'rel.bin'));
    await write(rel, OLD);
    expect(new Uint8Array(fs.readFileSync(path.join(dir, 'rel.bin')))).toEqual(OLD);
  });

  it('keeps the permission bits of the file it replaces', async () => {
    const dir = tmpDir();
    const p = path.join(dir, 'm.bin');
    fs.writeFileSync(p, OLD);
    fs.chmodSync(p, 0o640);
    await write(p, NEW);
    expect(fs.statSync(p).mode & 0o777).toBe(0o640);
  });

  it('replaces the file a symlink points to and keeps the link', async () => {
    const dir = tmpDir();
    const real = path.join(dir, 'real.bin');
    const link = path.join(dir, 'link.bin');
    fs.writeFileSync(real, OLD);
    fs.symlinkSync(real, link);
    await write(link, NEW);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(new Uint8Array(fs.readFileSync(real))).toEqual(NEW);
  });

  it('gives a ConfigError for bad arguments', async () => {
    expect(await captureError(() => write('', OLD))).toBeInstanceOf(ConfigError);
    expect(await captureError(() => write('/tmp/x', [1, 2] as unknown as Uint8Array))).toBeInstanceOf(ConfigError);
  });
});

// ---------------------------------------------------------------------------------------------
// Real OS failures
// ---------------------------------------------------------------------------------------------

describe.each(writers)('%s on OS errors', (_name, write) => {
  it('refuses to write into a read-only folder and keeps the old file', async () => {
    const dir = tmpDir();
    const p = path.join(dir, 'y.safetensors');
    fs.writeFileSync(p, OLD);
    fs.chmodSync(dir, 0o555);
    // chmod does not stop root; then make the folder immutable instead (root-only, ext4 & co).
    let blocked = 'chmod 0o555';
    let expected = /: EACCES: permission denied$/;
    const probe = path.join(dir, 'probe');
    let chmodBlocks = true;
    try {
      fs.writeFileSync(probe, '');
      fs.unlinkSync(probe);
      chmodBlocks = false;
    } catch {
      // the folder really is read-only
    }
    if (!chmodBlocks) {
      fs.chmodSync(dir, 0o755);
      const r = spawnSync('chattr', ['+i', dir], { encoding: 'utf8' });
      if (r.status !== 0) {
        // Neither works (root without CAP_LINUX_IMMUTABLE): the fault-injection tests below prove
        // the "old file stays intact" part and the next tests prove real OS errors are IOErrors.
        console.warn(`read-only folder test: chmod does not stop this user and chattr failed (${r.stderr.trim()})`);
        return;
      }
      blocked = 'chattr +i';
      expected = /: EPERM: operation not permitted$/;
    }
    const err = await captureError(() => write(p, NEW));
    expect(err, blocked).toBeInstanceOf(IOError);
    expect((err as Error).message).toContain(`cannot write model to ${p}: `);
    expect((err as Error).message).toMatch(expected);
    expect(new Uint8Array(fs.readFileSync(p))).toEqual(OLD);
    expect(tempLeftovers(dir)).toEqual([]);
  });

  it('reports a path whose parent is a regular file', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'plain-file');
    fs.writeFileSync(file, OLD);
    const p = path.join(file, 'model.safetensors');
    const err = await captureError(() => write(p, NEW));
    expect(err).toBeInstanceOf(IOError);
    expect((err as Error).message).toBe(`cannot write model to ${p}: ENOTDIR: not a directory`);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(OLD);
  });

  it('reports a folder at the target path, leaves it as it was and removes the temporary file', async () => {
    const dir = tmpDir();
    const p = path.join(dir, 'model.safetensors');
    fs.mkdirSync(p);
    fs.writeFileSync(path.join(p, 'inside'), OLD);
    const err = await captureError(() => write(p, NEW));
    expect(err).toBeInstanceOf(IOError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot write model to ${escapeRegExp(p)}: E(ISDIR|EXIST|NOTEMPTY|PERM): `));
    expect(fs.statSync(p).isDirectory()).toBe(true);
    expect(new Uint8Array(fs.readFileSync(path.join(p, 'inside')))).toEqual(OLD);
    expect(tempLeftovers(dir)).toEqual([]);
  });

  it('reports a missing folder', async () => {
    const dir = tmpDir();
    const p = path.join(dir, 'no', 'such', 'model.safetensors');
    const err = await captureError(() => write(p, NEW));
    expect(err).toBeInstanceOf(IOError);
    expect((err as Error).message).toBe(`cannot write model to ${p}: ENOENT: no such file or directory`);
  });
});

// ---------------------------------------------------------------------------------------------
// Injected failures at every step: IOError, old file intact, temporary file removed
// ---------------------------------------------------------------------------------------------

const syncSteps: [string, number][] = [
  ['openSync', 0],
  ['fchmodSync', 0],
  ['writeFileSync', 0],
  ['fsyncSync', 0],
  ['closeSync', 0],
  ['renameSync', 0],
];
const asyncSteps: [string, number][] = [
  ['open', 0],
  ['fh.chmod', 0],
  ['fh.writeFile', 0],
  ['fh.sync', 0],
  ['fh.close', 0],
  ['rename', 0],
];

describe.each([
  ['writeFileAtomicSync', writeFileAtomicSync as Writer, syncSteps, ['openSync', 1], ['fsyncSync', 1]] as const,
  ['writeFileAtomic', writeFileAtomic as Writer, asyncSteps, ['open', 1], ['fh.sync', 1]] as const,
])('%s with a failing step', (_name, write, steps, dirOpen, dirSync) => {
  it.each(steps)('failure in %s: IOError, old file intact, no temporary file left', async (step, skip) => {
    const dir = tmpDir();
    const p = path.join(dir, 'model.safetensors');
    fs.writeFileSync(p, OLD);
    faults.arm(step, { skip, ...(step.includes('rite') ? { code: 'ENOSPC', errno: -28, desc: 'no space left on device' } : {}) });
    const err = await captureError(() => write(p, NEW));
    expect(faults.fired, `the ${step} fault was not reached`).toBe(true);
    expect(err).toBeInstanceOf(IOError);
    expect((err as Error).message).toBe(
      step.includes('rite') ? `cannot write model to ${p}: ENOSPC: no space left on device` : `cannot write model to ${p}: EIO: i/o error`,
    );
    expect(new Uint8Array(fs.readFileSync(p))).toEqual(OLD);
    expect(fs.readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('a failing folder fsync is reported, saying the new file is in place', async () => {
    const dir = tmpDir();
    const p = path.join(dir, 'model.safetensors');
    fs.writeFileSync(p, OLD);
    faults.arm(dirSync[0], { skip: dirSync[1] });
    const err = await captureError(() => write(p, NEW));
    expect(faults.fired).toBe(true);
    expect(err).toBeInstanceOf(IOError);
    expect((err as Error).message).toContain(`cannot write model to ${p}: EIO: i/o error`);
    expect((err as Error).message).toContain('the new file is in place');
    expect(new Uint8Array(fs.readFileSync(p))).toEqual(NEW);
    expect(tempLeftovers(dir)).toEqual([]);
  });

  for (const [code, errno] of [
    ['EISDIR', -21],
    ['EINVAL', -22],
    ['EPERM', -1],
  ] as const) {
    it(`a folder that cannot be opened or synced (${code}) is not an error`, async () => {
      for (const [fault, skip] of [dirOpen, dirSync]) {
        const dir = tmpDir();
        const p = path.join(dir, 'model.safetensors');
        fs.writeFileSync(p, OLD);
        faults.arm(fault, { skip, code, errno, desc: 'refused' });
        await write(p, NEW);
        expect(faults.fired).toBe(true);
        expect(new Uint8Array(fs.readFileSync(p))).toEqual(NEW);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

describe.each([
  ['readFileBytes', readFileBytes as (p: string) => Uint8Array | Promise<Uint8Array>],
  ['readFileBytesSync', readFileBytesSync as (p: string) => Uint8Array | Promise<Uint8Array>],
])('%s', (_name, read) => {
  it('reads a whole file as a plain Uint8Array', async () => {
    const dir = tmpDir();
    const p = path.join(dir, 'a.bin');
    fs.writeFileSync(p, NEW);
    const got = await read(p);
    expect(got.constructor).toBe(Uint8Array);
    expect(got).toEqual(NEW);
    const small = path.join(dir, 'small.bin');
    fs.writeFileSync(small, OLD);
    const s = await read(small);
    expect(s.byteOffset).toBe(0);
    expect(s.buffer.byteLength).toBe(OLD.length);
  });

  it('says when the file does not exist', async () => {
    const p = path.join(tmpDir(), 'missing.safetensors');
    const err = await captureError(() => read(p));
    expect(err).toBeInstanceOf(IOError);
    expect((err as Error).message).toBe(`cannot read model from ${p}: the file does not exist (ENOENT)`);
  });

  it('says when the path is a folder', async () => {
    const p = tmpDir();
    const err = await captureError(() => read(p));
    expect(err).toBeInstanceOf(IOError);
    expect((err as Error).message).toContain('is a folder');
  });
});

// ---------------------------------------------------------------------------------------------
// Crash safety: SIGKILL a process that keeps saving, at random moments
// ---------------------------------------------------------------------------------------------

const CHILD_SOURCE = `
import { writeSync } from 'node:fs';
import { writeFileAtomicSync } from '../src/io/atomic-write';
import { encodeSafetensors } from '../src/io/safetensors';

const [target, refDir] = process.argv.slice(2);

/** Two clearly different valid files of a few MB (different sizes, names and values). */
function version(tag: number): Uint8Array {
  const rows = tag === 0 ? 1024 : 1536;
  const w = new Float32Array(rows * 640);
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(i * 0.001 + tag) * (tag + 1);
  return encodeSafetensors(
    {
      'encoder.weight': { shape: [rows, 640], data: w },
      [tag === 0 ? 'encoder.bias' : 'decoder.bias']: { shape: [640], data: new Float32Array(640).fill(tag ? -1 : 1) },
    },
    { format: 'lstm-vae', version: String(tag) },
  );
}

const versions = [version(0), version(1)];
if (refDir) {
  writeFileAtomicSync(refDir + '/a.safetensors', versions[0]);
  writeFileAtomicSync(refDir + '/b.safetensors', versions[1]);
}
// \`begin\` before and \`end\` after every save (see killWhileSaving); writeSync: synchronous, also on
// platforms where pipes are asynchronous
for (let i = 0; ; i++) {
  writeSync(1, 'begin\\n');
  writeFileAtomicSync(target, versions[i % 2]);
  writeSync(1, 'end\\n');
}
`;

describe('crash safety', () => {
  it('a process SIGKILLed at 24 random moments while saving (>= 12 of them mid-save) always leaves one complete version', async () => {
    const KILLS = 24;
    const random = mulberry32(20240603);
    const buildDir = tmpDir();
    const dir = tmpDir();
    const refDir = tmpDir();
    const target = path.join(dir, 'model.safetensors');

    // Bundle the real module (TypeScript) into a plain .mjs the child runs: the code under test is
    // what gets killed.
    const childPath = path.join(buildDir, 'crash-child.mjs');
    await build({
      stdin: {
        contents: CHILD_SOURCE,
        loader: 'ts',
        resolveDir: path.dirname(fileURLToPath(import.meta.url)),
        sourcefile: 'crash-child.ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: childPath,
      logLevel: 'silent',
    });

    let refs: Buffer[] = [];
    const seen = [0, 0];
    let interrupted = 0;
    let midSave = 0;
    const durations: number[] = [];

    for (let round = 0; round < KILLS; round++) {
      const args = [childPath, target, ...(round === 0 ? [refDir] : [])];
      const kill = await killWhileSaving(args, random, durations);
      if (kill.midSave) midSave++;

      if (round === 0) {
        refs = [fs.readFileSync(path.join(refDir, 'a.safetensors')), fs.readFileSync(path.join(refDir, 'b.safetensors'))];
        expect(refs[0]!.equals(refs[1]!)).toBe(false);
      }
      const bytes = fs.readFileSync(target);
      const which = refs.findIndex((r) => r.equals(bytes));
      expect(which, `round ${round}: the file (${bytes.length} bytes) is neither version`).toBeGreaterThanOrEqual(0);
      seen[which]!++;
      const decoded = decodeSafetensors(new Uint8Array(bytes));
      expect(decoded.metadata.version).toBe(String(which));

      if (removeSaveLeftovers(dir, 'model.safetensors', kill, round)) interrupted++;
    }

    console.log(
      `crash test: ${KILLS} kills, ${midSave} mid-save (${interrupted} left a temporary file); ` +
        `final file was version A ${seen[0]}×, B ${seen[1]}×; median save ${median(durations).toFixed(1)} ms`,
    );
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[1]).toBeGreaterThan(0);
    expect(interrupted).toBeGreaterThan(0);
    expect(midSave, 'kills that landed inside a save').toBeGreaterThanOrEqual(KILLS / 2);
  });
});
