// etcdserverpb.Watch over gRPC: one watch stream of the member's watcher hub per call. Like
// etcd, a client that half-closes keeps its watches until it cancels the call.
import type { GrpcServer } from "../grpc/mod.ts";
import type { Event } from "../../pb/mod.ts";
import type { WatcherHub } from "../../mvcc/mod.ts";
import type { AuthApi, ResponseHeader } from "../../server/mod.ts";
import type { Gate } from "./gate.ts";
import { countStreamFailure, receiving } from "./stream_failures.ts";

// etcd 3.4 puts the gRPC error's whole text in the cancel reason.
const PERMISSION_DENIED_REASON = "rpc error: code = PermissionDenied desc = " +
  "etcdserver: permission denied";

export function addWatchService(
  grpc: GrpcServer,
  gate: Gate,
  watchers: WatcherHub,
  auth: AuthApi,
  header: (revision: number) => ResponseHeader,
): void {
  grpc.addService("etcdserverpb.Watch", {
    Watch: async (requests, send, ctx) => {
      await gate.serving(ctx.metadata);
      let failure: unknown;
      let end!: () => void;
      const ended = new Promise<void>((resolve) => {
        end = resolve;
        ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      const stream = watchers.createStream(
        // The store's event types are numbered as the wire's (PUT 0, DELETE 1).
        (r) =>
          send({
            ...r,
            header: header(r.header.revision),
            events: r.events as unknown as Event[],
          }),
        (err) => {
          failure = err;
          countStreamFailure(ctx.signal, "send", "watch");
          end();
        },
      );
      try {
        for await (const req of receiving(requests, ctx.signal, "watch")) {
          if (req.createRequest) {
            // A watch its user may not read is created and canceled at once, as etcd does.
            if (auth.watchPermitted(ctx, req.createRequest)) {
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
