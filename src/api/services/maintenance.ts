// etcdserverpb.Maintenance over gRPC.
import type { GrpcServer } from "../grpc/mod.ts";
import { AuthError, type CallIdentity } from "../../auth/mod.ts";
import { EtcdError, GrpcCode } from "../../errors/mod.ts";
import type { AuthApi, Maintenance } from "../../server/mod.ts";
import type { Gate } from "./gate.ts";

/**
 * The Maintenance calls etcd guards (Defragment, Hash, HashKV, Snapshot) hand the auth store's
 * error back unconverted: etcdctl shows it as `rpc error: code = Unknown desc = auth:
 * permission denied`.
 */
export function checkMaintenanceAdmin(auth: Pick<AuthApi, "checkAdmin">, ctx: CallIdentity): void {
  try {
    auth.checkAdmin(ctx);
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    throw new EtcdError(GrpcCode.Unknown, err.message);
  }
}

export function addMaintenanceService(
  grpc: GrpcServer,
  gate: Gate,
  m: Maintenance,
  auth: AuthApi,
): void {
  grpc.addService("etcdserverpb.Maintenance", {
    // Status answers without a leader too: etcdctl shows the error in its last column.
    Status: async () => {
      await gate.ready();
      return m.status();
    },
    Alarm: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await m.alarm(req);
    },
    Hash: async (_req, ctx) => {
      await gate.serving(ctx.metadata);
      checkMaintenanceAdmin(auth, ctx);
      return m.hash();
    },
    HashKV: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      checkMaintenanceAdmin(auth, ctx);
      return m.hashKV(req.revision);
    },
    Defragment: async (_req, ctx) => {
      await gate.serving(ctx.metadata);
      checkMaintenanceAdmin(auth, ctx);
      return m.defragment();
    },
    Snapshot: async (_req, ctx, send) => {
      await gate.serving(ctx.metadata);
      checkMaintenanceAdmin(auth, ctx);
      for await (const chunk of m.snapshotChunks()) {
        if (ctx.signal.aborted) return;
        await send(chunk);
      }
    },
    MoveLeader: async (req, ctx) => {
      await gate.serving(ctx.metadata);
      return await m.moveLeader(req.targetID);
    },
  });
}
