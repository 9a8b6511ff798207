// etcd's v2 store: the key tree with its own index, TTLs expired by applied entries, watchers
// with a 1000-event history, stats, and save/restore (also as etcd's snapshot JSON); and Go's
// JSON, in which etcd's members write what they share.
export { ErrorCode, V2Error, type V2ErrorJSON } from "./errors.ts";
export { type Action, eventJSON, isCreated, type V2Event } from "./event.ts";
export { HISTORY_CAPACITY } from "./history.ts";
export { cleanPath, formatExpiration, type NodeExtern, type NodeRecord } from "./node.ts";
export { newStats, type StoreStats } from "./stats.ts";
export { type ExpireOptions, type V2Changes, V2Store, type V2StoreJSON } from "./store.ts";
export { Watcher } from "./watcher.ts";
export { applyV2Request, type V2Request, type V2Result } from "./request.ts";
export { EtcdStoreJSONError } from "./etcd_json.ts";
export { goObject, goString, goStrings } from "./go_json.ts";
