// etcdserverpb.Cluster over gRPC.
import type { GrpcServer } from "../grpc/mod.ts";
import type { AuthApi, ClusterApi } from "../../server/mod.ts";
import type { Gate } from "./gate.ts";

export function addClusterService(
  grpc: GrpcServer,
  gate: Gate,
  cluster: ClusterApi,
  auth: AuthApi,
): void {
  grpc.addService("etcdserverpb.Cluster", {
    MemberList: async (_req, ctx) => {
      await gate.serving(ctx.metadata);
      return cluster.list();
    },
    MemberAdd: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      auth.checkAdmin(ctx);
      return await cluster.add(req.peerURLs, req.isLearner);
    },
    MemberRemove: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      auth.checkAdmin(ctx);
      return await cluster.remove(req.ID);
    },
    MemberUpdate: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      auth.checkAdmin(ctx);
      return await cluster.update(req.ID, req.peerURLs);
    },
    MemberPromote: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      auth.checkAdmin(ctx);
      return await cluster.promote(req.ID);
    },
  });
}
