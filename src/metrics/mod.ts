// Prometheus metrics with etcd 3.4's names, served at /metrics.
export {
  Counter,
  exponentialBuckets,
  EXPOSITION_CONTENT_TYPE,
  Gauge,
  Histogram,
  type MetricOptions,
  Registry,
} from "./registry.ts";
export { formatGoFloat } from "./format.ts";
export { registry, secondsSince } from "./define.ts";
export { authMetrics, leaseMetrics, serverMetrics } from "./etcd.ts";
export {
  countRange,
  diskMetrics,
  mvccMetrics,
  observeBackendCommit,
  snapMetrics,
  TxnTally,
} from "./etcd_storage.ts";
export { networkMetrics } from "./etcd_network.ts";
export { reportV2Read, reportV2Write, v2HttpMetrics, v2StoreMetrics } from "./etcd_v2.ts";
export { metricsResponse } from "./http.ts";
