/**
 * Crash-safe file saving for Node.
 *
 * A save writes a unique temporary file in the target's folder (`.<name>.<pid>.<random>.tmp`), flushes
 * it to disk (fsync), renames it over the target (atomic on POSIX file systems and on NTFS) and then
 * flushes the folder so that the rename itself is durable. A reader, or a process that is killed at
 * any moment, therefore sees either the complete old file or the complete new one, never a mix.
 * On failure the temporary file is removed and the previous file is left untouched.
 */

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { getSystemErrorMap } from 'node:util';
import { ConfigError, IOError } from '../core/errors';

/** Codes with which some platforms refuse to open or fsync a folder; a folder fsync then is skipped. */
const DIR_SYNC_IGNORED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP']);

interface ErrnoLike {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
}

function errCode(err: unknown): string | undefined {
  const code = (err as ErrnoLike | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `CODE: description` for an OS error (e.g. `EACCES: permission denied`), else the message. */
function osReason(err: unknown): string {
  const e = (err ?? {}) as ErrnoLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const code = errCode(err);
  if (code === undefined) return message;
  let desc: string | undefined;
  if (typeof e.errno === 'number') {
    try {
      desc = getSystemErrorMap().get(e.errno)?.[1];
    } catch {
      desc = undefined;
    }
  }
  if (desc === undefined) {
    // Node's messages look like "EACCES: permission denied, open '/x/.y.tmp'".
    const m = /^[A-Z0-9_]+: (.*?)(?:, [a-z]+ '.*)?$/s.exec(message);
    desc = m ? m[1] : message;
  }
  return `${code}: ${desc}`;
}

function writeError(target: string, err: unknown): IOError {
  if (err instanceof IOError) return err;
  return new IOError(`cannot write model to ${target}: ${osReason(err)}`);
}

function readError(target: string, err: unknown): IOError {
  const code = errCode(err);
  if (code === 'ENOENT') return new IOError(`cannot read model from ${target}: the file does not exist (ENOENT)`);
  if (code === 'EISDIR') return new IOError(`cannot read model from ${target}: it is a folder, not a file (EISDIR)`);
  return new IOError(`cannot read model from ${target}: ${osReason(err)}`);
}

function checkArgs(target: unknown, bytes: unknown): asserts target is string {
  if (typeof target !== 'string' || target.length === 0) {
    throw new ConfigError('path must be a non-empty string', { argument: 'path', actual: target });
  }
  if (bytes !== undefined && !(bytes instanceof Uint8Array)) {
    throw new ConfigError('bytes must be a Uint8Array', { argument: 'bytes', expected: 'Uint8Array' });
  }
}

interface Plan {
  /** The file that is replaced (symlinks resolved, so a link keeps pointing at the new contents). */
  finalPath: string;
  dir: string;
  tmp: string;
}

function tempName(finalPath: string): string {
  let base = path.basename(finalPath);
  // Keep the temporary name within the usual 255-byte limit of a file name.
  while (Buffer.byteLength(base) > 200) base = base.slice(0, -1);
  return path.join(path.dirname(finalPath), `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function planSync(target: string): Plan {
  let finalPath = path.resolve(target);
  try {
    finalPath = fs.realpathSync(finalPath);
  } catch {
    // Does not exist yet (or is a dangling link): write to the path as given.
  }
  return { finalPath, dir: path.dirname(finalPath), tmp: tempName(finalPath) };
}

async function plan(target: string): Promise<Plan> {
  let finalPath = path.resolve(target);
  try {
    finalPath = await fsp.realpath(finalPath);
  } catch {
    // Does not exist yet (or is a dangling link): write to the path as given.
  }
  return { finalPath, dir: path.dirname(finalPath), tmp: tempName(finalPath) };
}

/** Permission bits of an existing regular file at the target, to keep them on the new file. */
function existingModeSync(finalPath: string): number | undefined {
  try {
    const st = fs.statSync(finalPath);
    return st.isFile() ? st.mode & 0o7777 : undefined;
  } catch {
    return undefined;
  }
}

async function existingMode(finalPath: string): Promise<number | undefined> {
  try {
    const st = await fsp.stat(finalPath);
    return st.isFile() ? st.mode & 0o7777 : undefined;
  } catch {
    return undefined;
  }
}

function dirSyncError(target: string, err: unknown): IOError {
  return new IOError(
    `cannot write model to ${target}: ${osReason(err)} (the new file is in place, but flushing its folder to disk failed)`,
  );
}

function syncDirSync(dir: string, target: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    const code = errCode(err);
    if (code === undefined || !DIR_SYNC_IGNORED.has(code)) throw dirSyncError(target, err);
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // nothing left to do
      }
    }
  }
}

async function syncDir(dir: string, target: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = errCode(err);
    if (code === undefined || !DIR_SYNC_IGNORED.has(code)) throw dirSyncError(target, err);
  } finally {
    if (fh !== undefined) await fh.close().catch(() => undefined);
  }
}

/**
 * Replaces the file at `target` with `bytes` atomically and durably (see the module comment).
 * @throws IOError naming the path and the OS reason, e.g.
 *   `cannot write model to /x/y.safetensors: EACCES: permission denied`; the previous file is intact.
 */
export async function writeFileAtomic(target: string, bytes: Uint8Array): Promise<void> {
  checkArgs(target, bytes);
  const { finalPath, dir, tmp } = await plan(target);
  const mode = await existingMode(finalPath);
  let fh: fsp.FileHandle | undefined;
  let created = false;
  try {
    fh = await fsp.open(tmp, 'wx', mode ?? 0o666);
    created = true;
    if (mode !== undefined) await fh.chmod(mode);
    await fh.writeFile(bytes);
    await fh.sync();
    const handle = fh;
    fh = undefined;
    await handle.close();
    await fsp.rename(tmp, finalPath);
    created = false;
  } catch (err) {
    if (fh !== undefined) await fh.close().catch(() => undefined);
    if (created) await fsp.unlink(tmp).catch(() => undefined);
    throw writeError(target, err);
  }
  await syncDir(dir, target);
}

/** Synchronous twin of {@link writeFileAtomic}. */
export function writeFileAtomicSync(target: string, bytes: Uint8Array): void {
  checkArgs(target, bytes);
  const { finalPath, dir, tmp } = planSync(target);
  const mode = existingModeSync(finalPath);
  let fd: number | undefined;
  let created = false;
  try {
    fd = fs.openSync(tmp, 'wx', mode ?? 0o666);
    created = true;
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    fs.writeFileSync(fd, bytes);
    fs.fsyncSync(fd);
    const handle = fd;
    fd = undefined;
    fs.closeSync(handle);
    fs.renameSync(tmp, finalPath);
    created = false;
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; report the first error
      }
    }
    if (created) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // best effort
      }
    }
    throw writeError(target, err);
  }
  syncDirSync(dir, target);
}

function asPlainBytes(buf: Buffer): Uint8Array {
  // Own the memory (a small Buffer may be a view into Node's shared pool).
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}

/**
 * Reads a whole file.
 * @throws IOError naming the path and the reason (a missing file says that the file does not exist).
 */
export async function readFileBytes(target: string): Promise<Uint8Array> {
  checkArgs(target, undefined);
  try {
    return asPlainBytes(await fsp.readFile(target));
  } catch (err) {
    throw readError(target, err);
  }
}

/** Synchronous twin of {@link readFileBytes}. */
export function readFileBytesSync(target: string): Uint8Array {
  checkArgs(target, undefined);
  try {
    return asPlainBytes(fs.readFileSync(target));
  } catch (err) {
    throw readError(target, err);
  }
}
