// etcdserverpb.KV over gRPC: decoded requests go to the member, its answers come back.
import type { GrpcServer } from "../grpc/mod.ts";
import type { EtcdServer } from "../../server/mod.ts";
import { authInfoOf } from "../../auth/mod.ts";

export function addKvService(grpc: GrpcServer, server: EtcdServer): void {
  grpc.addService("etcdserverpb.KV", {
    Range: async (req, ctx) => {
      await server.serving(ctx.metadata);
      return await server.kv.range(req, authInfoOf(server.auth, ctx));
    },
    Put: async (req, ctx) => {
      await server.serving(ctx.metadata);
      return await server.kv.put(req, authInfoOf(server.auth, ctx));
    },
    DeleteRange: async (req, ctx) => {
      await server.serving(ctx.metadata);
      return await server.kv.deleteRange(req, authInfoOf(server.auth, ctx));
    },
    Txn: async (req, ctx) => {
      await server.serving(ctx.metadata);
      return await server.kv.txn(req, authInfoOf(server.auth, ctx));
    },
    Compact: async (req, ctx) => {
      await server.serving(ctx.metadata);
      return await server.kv.compact(req);
    },
  });
}
