// `etcd-ts grpc-proxy ...`: etcd's stateless gRPC proxy in front of a cluster — a cache for
// serializable reads, watch coalescing, keep-alives sharing one stream, resolver registration,
// every other call passed through.
import { parseGrpcProxyArgs } from "../config/mod.ts";
import { createLogger } from "../log/mod.ts";
import { serveUntilSignal, writeTo } from "../gateway/mod.ts";
import { startGrpcProxy } from "./start.ts";

export { startGrpcProxy } from "./start.ts";
export type { GrpcProxy, GrpcProxyIO } from "./start.ts";
export { overlaps, RangeCache } from "./cache.ts";
export { Namespace } from "./namespace.ts";
export { parseEndpoint } from "./upstream.ts";
export { Broadcast, type Receiver } from "./watch_broadcast.ts";
export { ClientWatcher } from "./watch.ts";

/** argv after "grpc-proxy"; resolves with the exit code (after SIGTERM/SIGINT when running). */
export async function runGrpcProxyCommand(argv: string[]): Promise<number> {
  const outcome = parseGrpcProxyArgs(argv);
  if (outcome.action === "print") {
    writeTo(Deno.stdout)(outcome.stdout);
    return 0;
  }
  if (outcome.action === "fail") {
    writeTo(Deno.stderr)(outcome.stderr);
    return outcome.exitCode;
  }
  const level = outcome.config.debug ? "debug" : "info";
  // etcd 3.4's proxy: etcdmain logs zap JSON (ISO-8601 times), the grpcproxy package capnslog.
  const log = createLogger({ logger: "zap", level, outputs: ["stderr"] });
  const plog = createLogger({ logger: "capnslog", level, outputs: ["stderr"] });
  const started = await startGrpcProxy(outcome.config, { log, plog, stderr: writeTo(Deno.stderr) });
  if (typeof started === "number") return started;
  return await serveUntilSignal(started);
}
