// `etcd-ts snapshot save|status|restore`: etcdctl's snapshot commands on etcd 3.4's snapshot
// format, for snapshots of etcd-ts members and of etcd's.
export { runSnapshot, type SnapshotIO } from "./command.ts";
export { snapshotHelp } from "./help.ts";
