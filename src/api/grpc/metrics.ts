// grpc_server_* as go-grpc-prometheus counts them for etcd (started, handled by status code,
// messages each way), plus etcd's client byte counters, fed by the GrpcServer's observer. Every
// method of every registered service shows from the start with zero values, as
// grpc-prometheus' InitializeMetrics makes them.

import type { CallTracker, GrpcObserver, GrpcServer, GrpcType } from "./server.ts";
import { Counter, networkMetrics, registry } from "../../metrics/mod.ts";
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

interface MethodCounters {
  started: { inc(): void };
  received: { inc(): void };
  sent: { inc(): void };
  handled(code: number): { inc(): void };
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
    };
    for (let code = 0; code in GrpcCode; code++) {
      handled.labels({ ...labels, grpc_code: grpcCodeName(code) });
    }
    byMethod.set(key, c);
  }
  return c;
}

/** Counts every call `grpc` serves (on the wire or through the JSON gateway). */
export function instrumentGrpcServer(grpc: GrpcServer): void {
  const observer: GrpcObserver = {
    callStarted(service, method, type): CallTracker {
      const c = countersOf(service, method, type);
      c.started.inc();
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
        },
      };
    },
  };
  grpc.setObserver(observer);
  // Services registered later appear at the next scrape.
  registry.addCollector(() => {
    for (const m of grpc.serviceMethods()) countersOf(m.service, m.method, m.type);
  });
}
