// The proxy's own families, with etcd's names, types and HELP texts (etcd's grpcproxy/metrics.go).
// They join the process's registry when a proxy starts, so members never show them; the proxy
// serves them at /proxy/metrics (the path etcd 3.5 added: 3.4 registers them but its /metrics
// shows the cluster's).
import { Counter, Gauge, registry } from "../metrics/mod.ts";

export interface ProxyMetrics {
  watchersCoalescing: Gauge;
  eventsCoalescing: Counter;
  cacheKeys: Gauge;
  cacheHits: Gauge;
  cacheMisses: Gauge;
}

let families: ProxyMetrics | undefined;

/** The families, registered on first use. */
export function proxyMetrics(): ProxyMetrics {
  families ??= {
    watchersCoalescing: registry.register(
      new Gauge({
        name: "etcd_grpc_proxy_watchers_coalescing_total",
        help: "Total number of current watchers coalescing",
      }),
    ),
    eventsCoalescing: registry.register(
      new Counter({
        name: "etcd_grpc_proxy_events_coalescing_total",
        help: "Total number of events coalescing",
      }),
    ),
    cacheKeys: registry.register(
      new Gauge({
        name: "etcd_grpc_proxy_cache_keys_total",
        help: "Total number of keys/ranges cached",
      }),
    ),
    cacheHits: registry.register(
      new Gauge({ name: "etcd_grpc_proxy_cache_hits_total", help: "Total number of cache hits" }),
    ),
    cacheMisses: registry.register(
      new Gauge({
        name: "etcd_grpc_proxy_cache_misses_total",
        help: "Total number of cache misses",
      }),
    ),
  };
  return families;
}
