// etcd 3.4's v2 families: the v2 store's operations (v2store) and the v2 HTTP API's requests
// (v2http).

import { exponentialBuckets } from "./registry.ts";
import { counter, gauge, histogram } from "./define.ts";

export const v2StoreMetrics = {
  /** action: "get" or "getRecursive". */
  reads: counter(
    "etcd_debugging_store_reads_total",
    "Total number of reads action by (get/getRecursive), local to this member.",
    ["action"],
  ),
  /** action: set, create, update, compareAndSwap, delete, compareAndDelete. */
  writes: counter(
    "etcd_debugging_store_writes_total",
    "Total number of writes (e.g. set/compareAndDelete) seen by this member.",
    ["action"],
  ),
  readsFailed: counter(
    "etcd_debugging_store_reads_failed_total",
    "Failed read actions by (get/getRecursive), local to this member.",
    ["action"],
  ),
  writesFailed: counter(
    "etcd_debugging_store_writes_failed_total",
    "Failed write actions (e.g. set/compareAndDelete), seen by this member.",
    ["action"],
  ),
  expires: counter("etcd_debugging_store_expires_total", "Total number of expired keys."),
  watchRequests: counter(
    "etcd_debugging_store_watch_requests_total",
    "Total number of incoming watch requests (new or reestablished).",
  ),
  watchers: gauge("etcd_debugging_store_watchers", "Count of currently active watchers."),
};

/** etcd's reportRead*: a read counts in reads_total, and also in reads_failed_total if it failed. */
export function reportV2Read(recursive: boolean, ok: boolean): void {
  const action = recursive ? "getRecursive" : "get";
  v2StoreMetrics.reads.labels({ action }).inc();
  if (!ok) v2StoreMetrics.readsFailed.labels({ action }).inc();
}

/** etcd's reportWrite*, for one of the store's write actions. */
export function reportV2Write(action: string, ok: boolean): void {
  v2StoreMetrics.writes.labels({ action }).inc();
  if (!ok) v2StoreMetrics.writesFailed.labels({ action }).inc();
}

export const v2HttpMetrics = {
  /** method: the v2 request's method (GET, PUT, POST, DELETE, or QGET for a quorum read). */
  received: counter(
    "etcd_http_received_total",
    "Counter of requests received into the system (successfully parsed and authd).",
    ["method"],
  ),
  failed: counter(
    "etcd_http_failed_total",
    "Counter of handle failures of requests (non-watches), by method (GET/PUT etc.) and code (400, 500 etc.).",
    ["method", "code"],
  ),
  successSeconds: histogram(
    "etcd_http_successful_duration_seconds",
    "Bucketed histogram of processing time (s) of successfully handled requests (non-watches), by method (GET/PUT etc.).",
    exponentialBuckets(0.0005, 2, 13),
    ["method"],
  ),
};
