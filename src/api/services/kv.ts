// etcdserverpb.KV over gRPC: decoded requests go to the member, its answers come back.
import type { GrpcServer } from "../grpc/mod.ts";
import type { AuthApi, KvApi } from "../../server/mod.ts";
import type { Gate } from "./gate.ts";

export function addKvService(grpc: GrpcServer, gate: Gate, kv: KvApi, auth: AuthApi): void {
  grpc.addService("etcdserverpb.KV", {
    Range: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await kv.range(req, auth.identify(ctx));
    },
    Put: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await kv.put(req, auth.identify(ctx));
    },
    DeleteRange: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await kv.deleteRange(req, auth.identify(ctx));
    },
    Txn: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await kv.txn(req, auth.identify(ctx));
    },
    Compact: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await kv.compact(req);
    },
  });
}
