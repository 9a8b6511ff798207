// etcdserverpb.Cluster over gRPC.
import type { GrpcServer } from "../grpc/mod.ts";
import type { EtcdServer } from "../../server/mod.ts";
import { checkAdmin } from "../../auth/mod.ts";

export function addClusterService(grpc: GrpcServer, server: EtcdServer): void {
  grpc.addService("etcdserverpb.Cluster", {
    MemberList: async (_req, ctx) => {
      await server.serving(ctx.metadata);
      return server.cluster.list();
    },
    MemberAdd: async (req, ctx) => {
      await server.serving(ctx.metadata);
      checkAdmin(server.auth, ctx);
      return await server.cluster.add(req.peerURLs, req.isLearner);
    },
    MemberRemove: async (req, ctx) => {
      await server.serving(ctx.metadata);
      checkAdmin(server.auth, ctx);
      return await server.cluster.remove(req.ID);
    },
    MemberUpdate: async (req, ctx) => {
      await server.serving(ctx.metadata);
      checkAdmin(server.auth, ctx);
      return await server.cluster.update(req.ID, req.peerURLs);
    },
    MemberPromote: async (req, ctx) => {
      await server.serving(ctx.metadata);
      checkAdmin(server.auth, ctx);
      return await server.cluster.promote(req.ID);
    },
  });
}
