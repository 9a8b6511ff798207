// etcd 3.4's backend layout at this member's borders: snapshots stream out as etcd's bbolt file
// (to clients and to lagging followers), restores, data dir takeovers and the snapshots a
// follower receives read etcd's bbolt files in.
export { EtcdDbError } from "./layout.ts";
export { type EtcdDatabase, etcdSnapshotStream, writeEtcdDatabase } from "./stream.ts";
export { installSnapshotDb, saveSnapshotDb, snapshotDbPath } from "./snap_db.ts";
export { importEtcdBackend } from "./import.ts";
export { restoreEtcdSnapshot, type RestoreRequest } from "./restore.ts";
export { hasChecksum } from "./snapshot_file.ts";
export { takeOverEtcdDataDir } from "./takeover.ts";
