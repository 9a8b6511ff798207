// grpc_server_* as go-grpc-prometheus counts them for etcd (started, handled by status code,
// messages each way, and with --metrics=extensive the handling time), plus etcd's client byte
// and per-client-version counters, fed by the GrpcServer's observer. Every method of the
// services registered when the server is instrumented shows from the start with zero values,
// as grpc-prometheus' InitializeMetrics makes them; services added later (etcd's Election and
// Lock) show once called.

import type { CallTracker, GrpcObserver, GrpcServer, GrpcType } from "./server.ts";
import {
  Counter,
  Histogram,
  networkMetrics,
  registry,
  secondsSince,
  serverMetrics,
} from "../../metrics/mod.ts";
import { GrpcCode, grpcCodeName } from "../../errors/mod.ts";

type MethodLabels = "grpc_type" | "grpc_service" | "grpc_method";

const methodLabels: MethodLabels[] = ["grpc_type", "grpc_service", "grpc_method"];

const started = registry.register(
  new Counter<MethodLabels>({
    name: "grpc_server_started_total",
    help: "Total number of RPCs started on the server.",
    labelNames: methodLabels,
  }),
);
const handled = registry.register(
  new Counter<MethodLabels | "grpc_code">({
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    labelNames: [...methodLabels, "grpc_code"],
  }),
);
const received = registry.register(
  new Counter<MethodLabels>({
    name: "grpc_server_msg_received_total",
    help: "Total number of RPC stream messages received on the server.",
    labelNames: methodLabels,
  }),
);
const sent = registry.register(
  new Counter<MethodLabels>({
    name: "grpc_server_msg_sent_total",
    help: "Total number of gRPC stream messages sent by the server.",
    labelNames: methodLabels,
  }),
);

let handling: Histogram<MethodLabels> | undefined;

/**
 * --metrics=extensive: grpc_server_handling_seconds, registered only then (as etcd calls
 * grpc-prometheus' EnableHandlingTimeHistogram). Idempotent.
 */
export function enableHandlingTimeHistogram(): void {
  handling ??= registry.register(
    new Histogram<MethodLabels>({
      name: "grpc_server_handling_seconds",
      help:
        "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
      labelNames: methodLabels,
      // Prometheus' default buckets.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
  );
  // The methods already shown get their zero-valued histograms too.
  for (const c of byMethod.values()) c.handling();
}

interface MethodCounters {
  started: { inc(): void };
  received: { inc(): void };
  sent: { inc(): void };
  handled(code: number): { inc(): void };
  /** Present once the handling time histogram is enabled. */
  handling(): { observe(seconds: number): void } | undefined;
}

const byMethod = new Map<string, MethodCounters>();

function countersOf(service: string, method: string, type: GrpcType): MethodCounters {
  const key = `${service}/${method}`;
  let c = byMethod.get(key);
  if (!c) {
    const labels = { grpc_type: type, grpc_service: service, grpc_method: method };
    const byCode = new Map<number, { inc(): void }>();
    c = {
      started: started.labels(labels),
      received: received.labels(labels),
      sent: sent.labels(labels),
      handled: (code) => {
        let h = byCode.get(code);
        if (!h) byCode.set(code, h = handled.labels({ ...labels, grpc_code: grpcCodeName(code) }));
        return h;
      },
      handling: () => handling?.labels(labels),
    };
    for (let code = 0; code in GrpcCode; code++) {
      handled.labels({ ...labels, grpc_code: grpcCodeName(code) });
    }
    c.handling();
    byMethod.set(key, c);
  }
  return c;
}

const byClientVersion = new Map<string, { inc(): void }>();

/** etcd's interceptors count every call by kind and by the client's client-api-version. */
function countClientRequest(type: GrpcType, metadata: Record<string, string>): void {
  const kind = type === "unary" ? "unary" : "stream";
  const version = metadata["client-api-version"] ?? "unknown";
  const key = `${kind} ${version}`;
  let c = byClientVersion.get(key);
  if (!c) {
    c = serverMetrics.clientRequests.labels({ type: kind, client_api_version: version });
    byClientVersion.set(key, c);
  }
  c.inc();
}

/**
 * Counts every call `grpc` serves (on the wire or through the JSON gateway). Call it once the
 * services etcd's v3rpc.Server registers are in, before the others.
 */
export function instrumentGrpcServer(grpc: GrpcServer): void {
  const observer: GrpcObserver = {
    callStarted(service, method, type, metadata): CallTracker {
      const c = countersOf(service, method, type);
      c.started.inc();
      countClientRequest(type, metadata);
      const timed = c.handling();
      const start = timed ? performance.now() : 0;
      return {
        received(bytes) {
          c.received.inc();
          networkMetrics.clientGrpcReceivedBytes.inc(bytes);
        },
        sent(bytes) {
          c.sent.inc();
          networkMetrics.clientGrpcSentBytes.inc(bytes);
        },
        finished(code) {
          c.handled(code).inc();
          timed?.observe(secondsSince(start));
        },
      };
    },
  };
  grpc.setObserver(observer);
  for (const m of grpc.serviceMethods()) countersOf(m.service, m.method, m.type);
}
