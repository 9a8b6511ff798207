// The database a snapshot from the leader brings (etcd's `<snap dir>/<index>.snap.db`, a bbolt
// file): saved durably as it arrives, before the snapshot's message is stepped, then read into
// this member's backend when Raft applies the snapshot — or at restart, if the member stopped
// in between (etcd's recoverSnapshotBackend).
import { join } from "node:path";
import { openDbFile } from "../../bbolt/mod.ts";
import { secondsSince, snapMetrics } from "../../metrics/mod.ts";
import { Backend } from "../backend.ts";
import { importEtcdBackend } from "./import.ts";
import { MemberV2Store } from "../v2_store.ts";
import { EtcdDbError, exists } from "./layout.ts";

/** etcd's dbFilePath: `<snap dir>/<index as 16 hex digits>.snap.db`. */
export function snapshotDbPath(snapDir: string, index: number): string {
  return join(snapDir, `${index.toString(16).padStart(16, "0")}.snap.db`);
}

/**
 * etcd's SaveDBFrom: writes the database to a temporary file, syncs it and renames it into
 * place (a database already there for that index is kept). Returns the bytes received.
 */
export async function saveSnapshotDb(
  snapDir: string,
  index: number,
  pieces: AsyncIterable<Uint8Array>,
): Promise<number> {
  const start = performance.now();
  await Deno.mkdir(snapDir, { recursive: true, mode: 0o700 });
  // Named as the snapshotter's temporary files, which a purge removes if a crash leaves one.
  const tmp = await Deno.makeTempFile({ dir: snapDir, prefix: "tmp", suffix: ".snap.tmp" });
  let n = 0;
  try {
    using file = await Deno.open(tmp, { write: true });
    for await (const piece of pieces) {
      for (let off = 0; off < piece.length;) off += await file.write(piece.subarray(off));
      n += piece.length;
    }
    const syncing = performance.now();
    await file.sync();
    snapMetrics.dbFsyncSeconds.observe(secondsSince(syncing));
    const path = snapshotDbPath(snapDir, index);
    if (exists(path)) {
      await Deno.remove(tmp);
      return n;
    }
    await Deno.rename(tmp, path);
    using dir = await Deno.open(snapDir, { read: true });
    await dir.sync();
    snapMetrics.dbSaveSeconds.observe(secondsSince(start));
    return n;
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/**
 * Replaces the backend's contents with the snapshot database at `path` (the key space, leases,
 * alarms, auth and membership buckets) and the v2 store the raft snapshot carries as `v2Data`
 * (etcd's store.Save() JSON). Both are written into a new file beside the backend, which then
 * takes its place at once; the snapshot database is removed once the backend holds it, as etcd
 * moves it into place.
 */
export function installSnapshotDb(path: string, backend: Backend, v2Data: Uint8Array): void {
  if (!exists(path)) {
    throw new EtcdDbError(`failed to find the database of the snapshot at ${path}`);
  }
  const staging = `${backend.path}.snapshot`;
  for (const f of [staging, `${staging}-wal`, `${staging}-shm`]) {
    if (exists(f)) Deno.removeSync(f);
  }
  const db = openDbFile(path);
  try {
    const fresh = new Backend(staging);
    try {
      importEtcdBackend(db, fresh);
      new MemberV2Store(() => fresh.aux, Date.now).recoverEtcdJSON(v2Data);
      fresh.commit({ sync: true });
    } finally {
      fresh.close();
    }
  } finally {
    db.close();
  }
  // The rename is durable (replaceWith fsyncs the directory) before the snapshot's database,
  // which could redo it, goes.
  backend.replaceWith(staging);
  Deno.removeSync(path);
}
