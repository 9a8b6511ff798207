// etcdserverpb.Lease over gRPC.
import type { GrpcServer } from "../grpc/mod.ts";
import type { EtcdServer } from "../../server/mod.ts";
import { authInfoOf } from "../../auth/mod.ts";

export function addLeaseService(grpc: GrpcServer, server: EtcdServer): void {
  const l = server.lease;
  grpc.addService("etcdserverpb.Lease", {
    LeaseGrant: async (req, ctx) => {
      await server.serving(ctx.metadata);
      authInfoOf(server.auth, ctx); // any user may grant, but a token must be valid (etcd 3.4)
      return await l.grant(req.ID, req.TTL);
    },
    LeaseRevoke: async (req, ctx) => {
      await server.serving(ctx.metadata);
      return await l.revoke(req.ID, authInfoOf(server.auth, ctx));
    },
    LeaseKeepAlive: async (requests, send, ctx) => {
      await server.serving(ctx.metadata);
      for await (const req of requests) await send(await l.renew(req.ID));
    },
    LeaseTimeToLive: async (req, ctx) => {
      await server.serving(ctx.metadata);
      await server.linearizableRead();
      return await l.timeToLive(req.ID, req.keys);
    },
    LeaseLeases: async (_req, ctx) => {
      await server.serving(ctx.metadata);
      await server.linearizableRead();
      return l.leases();
    },
  });
}
