// The client port's services on top of one member: each gRPC service is a thin adapter over one
// of the member's operations, and the HTTP app serves /health, /version, /metrics, the JSON
// gateway and (with --enable-v2) etcd's v2 API.
import type { Config } from "../../config/mod.ts";
import { ETCD_VERSION } from "../../config/mod.ts";
import type { EtcdServer } from "../../server/mod.ts";
import { type GrpcServer, instrumentGrpcServer } from "../grpc/mod.ts";
import { createHttpApp, type FetchHandler } from "../mod.ts";
import { addKvService } from "./kv.ts";
import { addClusterService } from "./cluster.ts";
import { addMaintenanceService } from "./maintenance.ts";
import { addLeaseService } from "./lease.ts";
import { addWatchService } from "./watch.ts";
import { addAuthService } from "./auth.ts";
import { addElectionService, addLockService } from "./election.ts";
import { v2Deps } from "./v2.ts";
import { addGatewayRoutes } from "../gateway/mod.ts";
import { addV2Routes } from "../v2/mod.ts";
import { metricsResponse } from "../../metrics/mod.ts";

export function registerServices(grpc: GrpcServer, server: EtcdServer): void {
  instrumentGrpcServer(grpc);
  const { auth } = server;
  addKvService(grpc, server, server.kv, auth);
  addClusterService(grpc, server, server.cluster, auth);
  addMaintenanceService(grpc, server, server.maintenance, auth);
  addLeaseService(grpc, server, server.lease, auth);
  addWatchService(grpc, server, server.watchers, auth, server.header);
  addAuthService(grpc, server, auth);
  addElectionService(grpc, server, server.election, auth);
  addLockService(grpc, server, server.lock, auth);
}

export function createClientHttp(
  server: EtcdServer,
  config: Config,
  grpc: GrpcServer,
): FetchHandler {
  const app = createHttpApp({
    routes: (app) => {
      app.all("/metrics", () => metricsResponse());
      addGatewayRoutes(app, grpc);
      if (config.enableV2) {
        addV2Routes(app, v2Deps(server.v2, server.cluster, () => server.clusterId));
      }
    },
    version: () => ({
      etcdserver: ETCD_VERSION,
      etcdcluster: server.clusterVersion() || "not_decided",
    }),
    health: ({ exclude }) => server.maintenance.health(exclude),
  });
  return (req) => Promise.resolve(app.fetch(req));
}
