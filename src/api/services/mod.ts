// The client port's services on top of one member: each gRPC service is a thin adapter over one
// of the member's operations, and the HTTP app serves /health, /version, /metrics, the JSON
// gateway and (with --enable-v2) etcd's v2 API.
import type { Config } from "../../config/mod.ts";
import { ETCD_VERSION, goQuote } from "../../config/mod.ts";
import { AlarmType, type EtcdServer } from "../../server/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { type GrpcServer, instrumentGrpcServer } from "../grpc/mod.ts";
import { addPprofRoutes, createHttpApp, createMetricsApp, type FetchHandler } from "../mod.ts";
import { addKvService } from "./kv.ts";
import { addClusterService } from "./cluster.ts";
import { addMaintenanceService } from "./maintenance.ts";
import { addLeaseService } from "./lease.ts";
import { addWatchService } from "./watch.ts";
import { addAuthService } from "./auth.ts";
import { addElectionService, addLockService } from "./election.ts";
import { v2Deps } from "./v2.ts";
import { addGatewayRoutes } from "../gateway/mod.ts";
import { addV2Routes, v2v3Deps } from "../v2/mod.ts";
import { metricsResponse } from "../../metrics/mod.ts";

export function registerServices(grpc: GrpcServer, server: EtcdServer): void {
  const { auth } = server;
  addKvService(grpc, server, server.kv, auth);
  addClusterService(grpc, server, server.cluster, auth);
  addMaintenanceService(grpc, server, server.maintenance, auth);
  addLeaseService(grpc, server, server.lease, auth);
  addWatchService(grpc, server, server.watchers, auth, server.header);
  addAuthService(grpc, server, auth);
  // etcd instruments its gRPC server here, before adding the Election and Lock services.
  instrumentGrpcServer(grpc);
  addElectionService(grpc, server, server.election, auth);
  addLockService(grpc, server, server.lock, auth);
}

export function createClientHttp(
  server: EtcdServer,
  config: Config,
  grpc: GrpcServer,
  log: Logger,
): FetchHandler {
  const m = server.maintenance;
  const app = createHttpApp({
    routes: (app) => {
      app.all("/metrics", () => metricsResponse());
      // etcd also serves pprof under --debug.
      if (config.enablePprof || config.debug) addPprofRoutes(app);
      if (config.enableGrpcGateway) addGatewayRoutes(app, grpc);
      if (config.enableV2) {
        const deps = v2Deps(server.v2, server.cluster, () => server.clusterId);
        const prefix = config.experimentalEnableV2v3;
        const v3 = { kv: server.kv, watchers: server.watchers };
        addV2Routes(app, prefix === "" ? deps : v2v3Deps(deps, v3, prefix));
      }
    },
    version: () => ({
      etcdserver: ETCD_VERSION,
      etcdcluster: server.clusterVersion() || "not_decided",
    }),
    health: ({ exclude, serializable }) => m.health(exclude, serializable),
    // etcd 3.5.11's probes: /livez asks whether this process serves reads, /readyz whether the
    // cluster does too and no corruption was found.
    probes: {
      livez: [["serializable_read", () => m.probeRead(true)]],
      readyz: [
        ["data_corruption", () => m.alarmCheck(AlarmType.CORRUPT)],
        ["serializable_read", () => m.probeRead(true)],
        ["linearizable_read", () => m.probeRead(false)],
      ],
    },
    access: {
      cors: config.cors,
      hostWhitelist: config.hostWhitelist,
      onHostRejected: (host) =>
        log.warn({
          pkg: "embed",
          text: `rejecting HTTP request from ${goQuote(host)} to prevent DNS rebinding attacks`,
          msg: "rejecting HTTP request to prevent DNS rebinding attacks",
          fields: { host },
        }),
    },
  });
  return (req) => Promise.resolve(app.fetch(req));
}

/** The HTTP side of a --listen-metrics-urls URL. */
export function createMetricsHttp(server: EtcdServer): FetchHandler {
  const app = createMetricsApp({
    routes: (app) => app.all("/metrics", () => metricsResponse()),
    health: ({ exclude }) => server.maintenance.health(exclude),
  });
  return (req) => Promise.resolve(app.fetch(req));
}
