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
export { diskMetrics, mvccMetrics, networkMetrics, registry, serverMetrics } from "./etcd.ts";
export { metricsResponse } from "./http.ts";
