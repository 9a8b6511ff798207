// etcd 3.4's v2 proxy metrics (package proxy/httpproxy), in the process-wide registry so that
// the proxy's own /metrics shows them beside the process metrics, as etcd's does.
import { Counter, exponentialBuckets, Histogram, registry } from "../metrics/mod.ts";

export const proxyMetrics = {
  requests: registry.register(
    new Counter<"method">({
      name: "etcd_proxy_requests_total",
      help: "Counter requests incoming by method.",
      labelNames: ["method"],
    }),
  ),
  handled: registry.register(
    new Counter<"method" | "code">({
      name: "etcd_proxy_handled_total",
      help: "Counter of requests fully handled (by authoratitave servers)",
      labelNames: ["method", "code"],
    }),
  ),
  dropped: registry.register(
    new Counter<"method" | "proxying_error">({
      name: "etcd_proxy_dropped_total",
      help: "Counter of requests dropped on the proxy.",
      labelNames: ["method", "proxying_error"],
    }),
  ),
  handlingSeconds: registry.register(
    new Histogram<"method">({
      name: "etcd_proxy_handling_duration_seconds",
      help: "Bucketed histogram of handling time of successful events (non-watches), " +
        "by method (GET/PUT etc.).",
      buckets: exponentialBuckets(0.0005, 2, 13),
      labelNames: ["method"],
    }),
  ),
};

/** Why a request was dropped (etcd's `proxying_error` label values). */
export type DropReason = "zero_endpoints" | "failed_sending_request" | "failed_getting_response";
