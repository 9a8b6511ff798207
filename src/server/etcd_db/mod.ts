// etcd 3.4's backend layout at this member's borders: snapshots stream out as etcd's bbolt file,
// restores and data dir takeovers read etcd's bbolt files in.
export { EtcdDbError } from "./layout.ts";
export { etcdSnapshotStream, SNAPSHOT_CHUNK, type SnapshotPiece } from "./stream.ts";
export { checkEtcdBuckets, type ImportedBackend, importEtcdBackend } from "./import.ts";
export { restoreEtcdSnapshot, type RestoreRequest } from "./restore.ts";
export { hasChecksum } from "./snapshot_file.ts";
export { takeOverEtcdDataDir } from "./takeover.ts";
