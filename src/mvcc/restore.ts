// Installing a snapshot received from the leader as the member's database file.

// Replaces the database at `path` with a snapshot (from snapshotBytes/snapshotTo); open a
// store on it afterwards. Its consistent index is the snapshot's. The new file is written and
// fsync'd under a temporary name, then renamed over the old one: a crash leaves the old
// database or the new one, never a torn file (the raft snapshot holds the bytes again).
export function restoreSnapshot(path: string, snapshot: Uint8Array): void {
  const tmp = `${path}.tmp`;
  const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    for (let off = 0; off < snapshot.length;) off += f.writeSync(snapshot.subarray(off));
    f.syncSync();
  } finally {
    f.close();
  }
  // A WAL left beside the old file must not be replayed into the new one.
  for (const stale of [`${path}-wal`, `${path}-shm`]) {
    try {
      Deno.removeSync(stale);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  Deno.renameSync(tmp, path);
  const dir = Deno.openSync(path.slice(0, path.lastIndexOf("/")) || ".", { read: true });
  try {
    dir.syncSync();
  } finally {
    dir.close();
  }
}
