// Pidfiles the OVS way: "<pid>\n", held under a POSIX fcntl write lock for
// the life of the process. ovs-appctl only trusts a pidfile whose lock owner
// is the pid written in it, and Node has no fcntl locking, hence the addon.
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, statSync, unlinkSync,
  writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { absFileName, rundir } from './dirs.js';
import { addExitHook } from './fatal-signal.js';
import { programName } from './program.js';

interface NativeAddon {
  lockFile(fd: number): boolean;
  lockOwner(fd: number): number;
}

let native: NativeAddon | null = null;

/** The repository root: the nearest directory above this file with a package.json (works from src/ and dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export function nativeAddon(): NativeAddon {
  if (!native) {
    const require = createRequire(import.meta.url);
    native = require(join(packageRoot(), 'build/Release/tsw_native.node')) as NativeAddon;
  }
  return native;
}

export class PidfileError extends Error {
  /** `code` is an errno name when the cause is a system error ('ENOENT', 'ESRCH', ...). */
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'PidfileError';
  }
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
};

function errnoCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'EIO';
}

/** `<rundir>/<program>.pid`, what `--pidfile` without an argument means. */
export function defaultPidfilePath(program = programName()): string {
  return `${rundir()}/${program}.pid`;
}

/** Our own pidfile, if any: closing any fd on a locked file drops our lock, so we must never open it again. */
let own: { path: string; dev: number; ino: number } | null = null;

function isOwnPidfile(path: string): boolean {
  if (!own) return false;
  try {
    const s = statSync(path);
    return s.dev === own.dev && s.ino === own.ino;
  } catch {
    return false;
  }
}

/**
 * Returns the pid of the live process that holds `path` locked and wrote its
 * own pid in it, as ovs-appctl's read_pidfile() does. Throws PidfileError
 * `cannot read pidfile "PATH" (No such process)` (code ESRCH) for a stale file.
 */
export function readPidfile(path: string): number {
  const r = readPidfileInternal(path, false);
  if (typeof r === 'number') return r;
  throw new PidfileError(`cannot read pidfile "${path}" (${STRERROR[r] ?? r})`, r);
}

/** Returns the pid, 0 if there was no (or a stale, now deleted) pidfile, or an errno code. */
function readPidfileInternal(path: string, deleteIfStale: boolean): number | string {
  if (isOwnPidfile(path)) return process.pid;
  const addon = nativeAddon();
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (e) {
    const code = errnoCode(e);
    return code === 'ENOENT' && deleteIfStale ? 0 : code;
  }
  try {
    const owner = addon.lockOwner(fd);
    if (owner === 0) {
      if (!deleteIfStale) return 'ESRCH';
      // Stale. Whoever manages to lock it has the right to delete it (OVS's dance against races).
      if (!addon.lockFile(fd)) return 'EALREADY';
      const a = fstatSync(fd);
      let b;
      try {
        b = statSync(path);
      } catch {
        return 'EALREADY';
      }
      if (a.dev !== b.dev || a.ino !== b.ino) return 'EALREADY';
      unlinkSync(path);
      return 0;
    }
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const written = Number.parseInt(buf.toString('latin1', 0, n), 10);
    return written === owner ? owner : 'ESRCH';
  } finally {
    closeSync(fd);
  }
}

export interface Pidfile {
  readonly path: string;
  readonly pid: number;
  /** Deletes the file and releases the lock (also done automatically at exit). */
  remove(): void;
}

/**
 * Creates `path` (relative names are taken in the rundir) holding our pid,
 * locked until exit. Throws PidfileError "PATH: already running as pid N,
 * aborting" if a live process owns it, unless `overwrite` (--overwrite-pidfile).
 */
export function createPidfile(path: string, options: { overwrite?: boolean } = {}): Pidfile {
  const file = absFileName(rundir(), path);
  const tmp = `${file}.tmp`;
  const addon = nativeAddon();
  if (own) throw new PidfileError(`${file}: this process already has pidfile ${own.path}`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o644);
  } catch (e) {
    throw new PidfileError(`${tmp}: create failed (${(e as Error).message})`, errnoCode(e));
  }
  // Write the tmp file under lock, then rename it into place, so a reader never sees a partial pidfile.
  if (!addon.lockFile(fd)) {
    closeSync(fd);
    throw new PidfileError(`${tmp}: fcntl(F_SETLK) failed (Resource temporarily unavailable)`, 'EAGAIN');
  }
  const removeTmp = (): void => { try { unlinkSync(tmp); } catch { /* gone */ } };
  if (!options.overwrite) {
    const r = readPidfileInternal(file, true);
    if (r !== 0) {
      removeTmp();
      closeSync(fd);
      if (typeof r === 'number') throw new PidfileError(`${file}: already running as pid ${r}, aborting`, 'EEXIST');
      throw new PidfileError(`${file}: pidfile check failed (${STRERROR[r] ?? r}), aborting`, r);
    }
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  renameSync(tmp, file);
  const st = fstatSync(fd);
  own = { path: file, dev: st.dev, ino: st.ino };
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    if (isOwnPidfile(file)) {
      try { unlinkSync(file); } catch { /* gone */ }
    }
    own = null;
    closeSync(fd);
  };
  const cancelHook = addExitHook(remove);
  return { path: file, pid: process.pid, remove: () => { cancelHook(); remove(); } };
}
