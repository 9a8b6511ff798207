// etcdserverpb.Watch over gRPC: one watch stream of the member's watcher hub per call. Like
// etcd, a client that half-closes keeps its watches until it cancels the call.
import type { GrpcServer } from "../grpc/mod.ts";
import type { Event } from "../../pb/mod.ts";
import type { EtcdServer } from "../../server/mod.ts";
import { watchPermitted } from "../../auth/mod.ts";

// etcd 3.4 puts the gRPC error's whole text in the cancel reason.
const PERMISSION_DENIED_REASON = "rpc error: code = PermissionDenied desc = " +
  "etcdserver: permission denied";

export function addWatchService(grpc: GrpcServer, server: EtcdServer): void {
  grpc.addService("etcdserverpb.Watch", {
    Watch: async (requests, send, ctx) => {
      await server.serving(ctx.metadata);
      let failure: unknown;
      let end!: () => void;
      const ended = new Promise<void>((resolve) => {
        end = resolve;
        ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      const stream = server.hub.createStream(
        // The store's event types are numbered as the wire's (PUT 0, DELETE 1).
        (r) =>
          send({
            ...r,
            header: server.header(r.header.revision),
            events: r.events as unknown as Event[],
          }),
        (err) => {
          failure = err;
          end();
        },
      );
      try {
        for await (const req of requests) {
          if (req.createRequest) {
            // A watch its user may not read is created and canceled at once, as etcd does.
            if (watchPermitted(server.auth, ctx, req.createRequest)) {
              stream.create(req.createRequest);
            } else {
              stream.refuse(PERMISSION_DENIED_REASON);
            }
          } else if (req.cancelRequest) stream.cancel(req.cancelRequest.watchId);
          else if (req.progressRequest) stream.progress();
        }
        await ended;
      } finally {
        stream.close();
      }
      if (failure) throw failure;
    },
  });
}
