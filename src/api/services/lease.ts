// etcdserverpb.Lease over gRPC.
import type { GrpcServer } from "../grpc/mod.ts";
import type { AuthApi, LeaseApi } from "../../server/mod.ts";
import type { Gate } from "./gate.ts";
import { countStreamFailure, receiving } from "./stream_failures.ts";

export function addLeaseService(
  grpc: GrpcServer,
  gate: Gate,
  lease: LeaseApi,
  auth: AuthApi,
): void {
  grpc.addService("etcdserverpb.Lease", {
    LeaseGrant: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      auth.identify(ctx); // any user may grant, but a token must be valid (etcd 3.4)
      return await lease.grant(req.ID, req.TTL);
    },
    LeaseRevoke: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await lease.revoke(req.ID, auth.identify(ctx));
    },
    LeaseKeepAlive: async (requests, send, ctx) => {
      await gate.serving(ctx.metadata);
      for await (const req of receiving(requests, ctx.signal, "lease-keepalive")) {
        const res = await lease.renew(req.ID);
        await send(res).catch((err) => {
          countStreamFailure(ctx.signal, "send", "lease-keepalive");
          throw err;
        });
      }
    },
    LeaseTimeToLive: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await lease.timeToLive(req.ID, req.keys);
    },
    LeaseLeases: async (_req, ctx) => {
      await gate.serving(ctx.metadata);
      return await lease.leases();
    },
  });
}
