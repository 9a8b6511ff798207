// `etcd-ts gateway ...`: etcd's L4 TCP gateway, and how a cobra subcommand (gateway, grpc-proxy)
// prints its help or refusal, or runs until SIGTERM/SIGINT.
import { type CobraOutcome, parseGatewayArgs } from "../config/mod.ts";
import { createLogger } from "../log/mod.ts";
import { startGateway } from "./start.ts";

export { startGateway, stripScheme } from "./start.ts";
export type { Gateway, GatewayIO } from "./start.ts";
export { TcpProxy } from "./tcpproxy.ts";
export type { ProxyEndpoint, TcpProxyOptions } from "./tcpproxy.ts";
export { pickRemote } from "./pick.ts";
export type { PickState, Remote } from "./pick.ts";
export { discoverEndpoints } from "./discover.ts";
export type { Discovered, DiscoverOptions } from "./discover.ts";

const encoder = new TextEncoder();

/** Writes all of `text` to stdout or stderr, synchronously. */
export const writeTo = (stream: typeof Deno.stdout | typeof Deno.stderr) => (text: string) => {
  const bytes = encoder.encode(text);
  for (let off = 0; off < bytes.length;) off += stream.writeSync(bytes.subarray(off));
};

// A signal-terminated Go process reports 128 + signal number to its shell.
const SIGNAL_EXIT: Partial<Record<Deno.Signal, number>> = { SIGINT: 130, SIGTERM: 143 };

// Serves until SIGTERM or SIGINT, then closes; resolves with the exit code Go's would have.
async function serveUntilSignal(running: { close(): Promise<void> }): Promise<number> {
  const signal = await new Promise<Deno.Signal>((resolve) => {
    for (const s of Object.keys(SIGNAL_EXIT) as Deno.Signal[]) {
      Deno.addSignalListener(s, () => resolve(s));
    }
  });
  await running.close();
  return SIGNAL_EXIT[signal]!;
}

/**
 * Runs a cobra command (gateway, grpc-proxy): prints its help or its refusal, or starts it and
 * serves until told to stop. Resolves with the exit code.
 */
export async function runCobraCommand<C>(
  outcome: CobraOutcome<C>,
  start: (config: C) => Promise<{ close(): Promise<void> } | number>,
): Promise<number> {
  if (outcome.action === "print") {
    writeTo(Deno.stdout)(outcome.stdout);
    return 0;
  }
  if (outcome.action === "fail") {
    writeTo(Deno.stderr)(outcome.stderr);
    return outcome.exitCode;
  }
  const started = await start(outcome.config);
  if (typeof started === "number") return started;
  return await serveUntilSignal(started);
}

/** argv after "gateway"; resolves with the exit code (after SIGTERM/SIGINT when running). */
export function runGatewayCommand(argv: string[]): Promise<number> {
  return runCobraCommand(parseGatewayArgs(argv), (config) => {
    // etcd 3.4's gateway logs with zap.NewProduction: JSON on stderr, epoch-seconds timestamps.
    const log = createLogger({
      logger: "zap",
      level: "info",
      outputs: ["stderr"],
      zapTimestamp: "epoch",
    });
    return startGateway(config, {
      stdout: writeTo(Deno.stdout),
      stderr: writeTo(Deno.stderr),
      log,
    });
  });
}
