// etcd_network_server_stream_failures_total: a Watch or LeaseKeepAlive stream that failed to
// receive or send for a reason other than the client going away (etcd's isClientCtxErr).
import { networkMetrics } from "../../metrics/mod.ts";

type Api = "watch" | "lease-keepalive";

export function countStreamFailure(signal: AbortSignal, type: "receive" | "send", api: Api): void {
  if (!signal.aborted) networkMetrics.serverStreamFailures.labels({ Type: type, API: api }).inc();
}

/** The client's messages, counting a failure to read the next one. */
export async function* receiving<T>(
  requests: AsyncIterable<T>,
  signal: AbortSignal,
  api: Api,
): AsyncIterable<T> {
  try {
    yield* requests;
  } catch (err) {
    countStreamFailure(signal, "receive", api);
    throw err;
  }
}
