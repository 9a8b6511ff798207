// `etcd-ts grpc-proxy ...`: etcd's stateless gRPC proxy in front of a cluster — a cache for
// serializable reads, watch coalescing, keep-alives sharing one stream, resolver registration,
// every other call passed through.
import { parseGrpcProxyArgs } from "../config/mod.ts";
import { createLogger } from "../log/mod.ts";
import { startGrpcProxy } from "./start.ts";

export { startGrpcProxy } from "./start.ts";
export type { GrpcProxy, GrpcProxyIO } from "./start.ts";
export { DEFAULT_MAX_ENTRIES, overlaps, RangeCache } from "./cache.ts";
export { Namespace } from "./namespace.ts";
export { endpointRecord } from "./register.ts";
export { parseEndpoint } from "./upstream.ts";
export { Broadcast, type Receiver } from "./watch_broadcast.ts";
export { ClientWatcher } from "./watch.ts";

const encoder = new TextEncoder();
const write = (stream: typeof Deno.stdout | typeof Deno.stderr) => (text: string) => {
  const bytes = encoder.encode(text);
  for (let off = 0; off < bytes.length;) off += stream.writeSync(bytes.subarray(off));
};

// A signal-terminated Go process reports 128 + signal number to its shell.
const SIGNAL_EXIT: Partial<Record<Deno.Signal, number>> = { SIGINT: 130, SIGTERM: 143 };

/** argv after "grpc-proxy"; resolves with the exit code (after SIGTERM/SIGINT when running). */
export async function runGrpcProxyCommand(argv: string[]): Promise<number> {
  const outcome = parseGrpcProxyArgs(argv);
  if (outcome.action === "print") {
    write(Deno.stdout)(outcome.stdout);
    return 0;
  }
  if (outcome.action === "fail") {
    write(Deno.stderr)(outcome.stderr);
    return outcome.exitCode;
  }
  const level = outcome.config.debug ? "debug" : "info";
  // etcd 3.4's proxy: etcdmain logs zap JSON (ISO-8601 times), the grpcproxy package capnslog.
  const log = createLogger({ logger: "zap", level, outputs: ["stderr"] });
  const plog = createLogger({ logger: "capnslog", level, outputs: ["stderr"] });
  const started = await startGrpcProxy(outcome.config, { log, plog, stderr: write(Deno.stderr) });
  if (typeof started === "number") return started;
  const signal = await new Promise<Deno.Signal>((resolve) => {
    for (const s of Object.keys(SIGNAL_EXIT) as Deno.Signal[]) {
      Deno.addSignalListener(s, () => resolve(s));
    }
  });
  await started.close();
  return SIGNAL_EXIT[signal]!;
}
