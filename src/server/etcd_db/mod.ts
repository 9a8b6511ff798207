// etcd 3.4's backend layout at this member's borders: snapshots stream out as etcd's bbolt file,
// restores and data dir takeovers read etcd's bbolt files in.
export { EtcdDbError } from "./layout.ts";
export { etcdSnapshotStream } from "./stream.ts";
export { importEtcdBackend } from "./import.ts";
export { restoreEtcdSnapshot, type RestoreRequest } from "./restore.ts";
export { hasChecksum } from "./snapshot_file.ts";
export { takeOverEtcdDataDir } from "./takeover.ts";
