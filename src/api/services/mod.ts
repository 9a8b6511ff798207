// The client port's services on top of one member: gRPC services and the HTTP app.
import type { Config } from "../../config/mod.ts";
import type { EtcdServer } from "../../server/mod.ts";
import { ETCD_VERSION } from "../../config/mod.ts";
import { type GrpcServer, instrumentGrpcServer } from "../grpc/mod.ts";
import { createHttpApp, type FetchHandler } from "../mod.ts";
import { addKvService } from "./kv.ts";
import { addClusterService } from "./cluster.ts";
import { addMaintenanceService } from "./maintenance.ts";
import { addLeaseService } from "./lease.ts";
import { addWatchService } from "./watch.ts";
import { addAuthService } from "./auth.ts";
import { addGatewayRoutes } from "../gateway/mod.ts";
import { addV2Routes } from "../v2/mod.ts";
import { observeMember, V2Api } from "../../server/mod.ts";
import { metricsResponse } from "../../metrics/mod.ts";

export function registerServices(grpc: GrpcServer, server: EtcdServer, config: Config): void {
  instrumentGrpcServer(grpc);
  observeMember(server, config);
  addKvService(grpc, server);
  addClusterService(grpc, server);
  addMaintenanceService(grpc, server);
  addLeaseService(grpc, server);
  addWatchService(grpc, server);
  addAuthService(grpc, server, config.bcryptCost);
}

/** How long /health waits for a linearizable read before calling the member unhealthy. */
const HEALTH_READ_TIMEOUT_MS = 1000;

export function createClientHttp(
  server: EtcdServer,
  config: Config,
  grpc: GrpcServer,
): FetchHandler {
  const app = createHttpApp({
    routes: (app) => {
      app.all("/metrics", () => metricsResponse());
      addGatewayRoutes(app, grpc);
      if (config.enableV2) addV2Routes(app, V2Api.of(server).deps());
    },
    version: () => ({
      etcdserver: ETCD_VERSION,
      etcdcluster: server.clusterVersion() || "not_decided",
    }),
    health: async ({ exclude }) => {
      const alarms = server.backend.alarms.list()
        .filter((a) => !exclude.includes(alarmName(a.alarm)));
      if (alarms.length > 0) return { ok: false, reason: "ALARM" };
      if (server.leader === 0n) {
        server.log.warn({
          pkg: "etcdserver/api/etcdhttp",
          text: "/health error; no leader (status code 503)",
        });
        return { ok: false, reason: "RAFT NO LEADER" };
      }
      try {
        await server.linearizableRead(HEALTH_READ_TIMEOUT_MS);
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: `QGET ERROR:${(err as Error).message}` };
      }
    },
  });
  return (req) => Promise.resolve(app.fetch(req));
}

function alarmName(alarm: number): string {
  return ["NONE", "NOSPACE", "CORRUPT"][alarm] ?? String(alarm);
}
