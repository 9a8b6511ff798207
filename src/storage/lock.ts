// Exclusive ownership of a member directory by one process (through storageFs()).
//
// On Deno's file system: FsFile.tryLockSync() is flock(LOCK_EX | LOCK_NB): it fails at once instead of
// waiting, and the kernel drops the lock when the holder's descriptor closes, including when
// the process is killed with SIGKILL, so no stale lock file or PID check is needed. The lock
// is taken on the directory itself (Linux allows flock on a directory descriptor), which
// leaves no extra file in the data dir. Descriptors are opened close-on-exec, so processes the
// server spawns do not inherit it.

import { DIR_MODE, dirname } from "./fsutil.ts";
import { storageFs } from "./fs.ts";

export interface DataDirLock {
  /** The locked member directory. */
  readonly dir: string;
  release(): void;
  [Symbol.dispose](): void;
}

/**
 * Locks `memberDir` (created if missing) for this process or throws
 * `data dir <dataDir> is in use by another process`; `dataDir` defaults to memberDir's parent,
 * the directory the operator named with --data-dir.
 */
export function lockDataDir(memberDir: string, dataDir = dirname(memberDir)): DataDirLock {
  const unlock = storageFs().tryLockDir(memberDir, DIR_MODE);
  if (!unlock) throw new Error(`data dir ${dataDir} is in use by another process`);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    unlock();
  };
  return { dir: memberDir, release, [Symbol.dispose]: release };
}
