// `etcd-ts grpc-proxy ...`: etcd's stateless gRPC proxy in front of a cluster — a cache for
// serializable reads, watch coalescing, keep-alives sharing one stream, resolver registration,
// every other call passed through.
import { parseGrpcProxyArgs } from "../config/mod.ts";
import { createLogger } from "../log/mod.ts";
import { runCobraCommand, writeTo } from "../gateway/mod.ts";
import { startGrpcProxy } from "./start.ts";

export { startGrpcProxy } from "./start.ts";
export type { GrpcProxy, GrpcProxyIO } from "./start.ts";
export { overlaps, RangeCache } from "./cache.ts";
export { Namespace } from "./namespace.ts";
export { parseEndpoint } from "./upstream.ts";
export { Broadcast, type Receiver } from "./watch_broadcast.ts";
export { ClientWatcher } from "./watch.ts";

/** argv after "grpc-proxy"; resolves with the exit code (after SIGTERM/SIGINT when running). */
export function runGrpcProxyCommand(argv: string[]): Promise<number> {
  return runCobraCommand(parseGrpcProxyArgs(argv), (config) => {
    const level = config.debug ? "debug" : "info";
    // etcd 3.4's proxy: etcdmain logs zap JSON (ISO-8601 times), the grpcproxy package capnslog.
    const log = createLogger({ logger: "zap", level, outputs: ["stderr"] });
    const plog = createLogger({ logger: "capnslog", level, outputs: ["stderr"] });
    return startGrpcProxy(config, { log, plog, stderr: writeTo(Deno.stderr) });
  });
}
