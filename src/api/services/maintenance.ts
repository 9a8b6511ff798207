// etcdserverpb.Maintenance over gRPC.
import type { GrpcServer } from "../grpc/mod.ts";
import type { EtcdServer } from "../../server/mod.ts";
import { checkMaintenanceAdmin } from "../../auth/mod.ts";

export function addMaintenanceService(grpc: GrpcServer, server: EtcdServer): void {
  const m = server.maintenance;
  grpc.addService("etcdserverpb.Maintenance", {
    // Status answers without a leader too: etcdctl shows the error in its last column.
    Status: async () => {
      await server.ready();
      return m.status();
    },
    Alarm: async (req, ctx) => {
      await server.serving(ctx.metadata);
      return await m.alarm(req);
    },
    Hash: async (_req, ctx) => {
      await server.serving(ctx.metadata);
      checkMaintenanceAdmin(server.auth, ctx);
      return m.hash();
    },
    HashKV: async (req, ctx) => {
      await server.serving(ctx.metadata);
      checkMaintenanceAdmin(server.auth, ctx);
      return m.hashKV(req.revision);
    },
    Defragment: async (_req, ctx) => {
      await server.serving(ctx.metadata);
      checkMaintenanceAdmin(server.auth, ctx);
      return m.defragment();
    },
    Snapshot: async (_req, ctx, send) => {
      await server.serving(ctx.metadata);
      checkMaintenanceAdmin(server.auth, ctx);
      for (const chunk of m.snapshotChunks()) {
        if (ctx.signal.aborted) return;
        await send(chunk);
      }
    },
    MoveLeader: async (req, ctx) => {
      await server.serving(ctx.metadata);
      return await m.moveLeader(req.targetID);
    },
  });
}
