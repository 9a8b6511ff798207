// Services the proxy only forwards (etcd's maintenance.go, auth.go, election.go, lock.go and the
// rest of cluster.go): each unary call goes to the cluster as it came, with the client's token,
// deadline and cancellation; a server-streaming call (Snapshot, Observe) streams back.
import type { CallContext, ServiceHandlers, ServiceName } from "../api/mod.ts";
import type { EtcdError } from "../errors/mod.ts";
import { schema } from "../pb/mod.ts";
import { callOf } from "./kv.ts";
import type { Upstream } from "./upstream.ts";

/** Forwards one server-streaming call, each response as it arrives. */
function forwardStream(
  up: Upstream,
  service: string,
  method: string,
  req: unknown,
  ctx: CallContext,
  send: (res: never) => Promise<void>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Responses are sent in order; the stream ends after the last one went out.
    let sending = Promise.resolve();
    let call: { cancel(): void } | undefined;
    const fail = (err: unknown) => {
      call?.cancel();
      reject(err);
    };
    up.open(service, method, {
      message: (res) => {
        sending = sending.then(() => send(res as never)).catch(fail);
      },
      end: (err?: EtcdError) => {
        sending.then(() => err ? reject(err) : resolve(), reject);
      },
    }, { ...callOf(ctx), request: req, halfClose: true }).then((c) => (call = c), reject);
  });
}

/** Handlers that forward every method of `service` (those in `except` are left out). */
export function passThrough<S extends ServiceName>(
  up: Upstream,
  service: S,
  except: string[] = [],
): ServiceHandlers<S> {
  const handlers: Record<string, unknown> = {};
  for (const [method, m] of Object.entries(schema.services[service].methods)) {
    if (except.includes(method)) continue;
    if (m.clientStreaming) continue; // Watch and LeaseKeepAlive have their own proxies
    handlers[method] = m.serverStreaming
      ? (req: unknown, ctx: CallContext, send: (res: never) => Promise<void>) =>
        forwardStream(up, service, method, req, ctx, send)
      : (req: unknown, ctx: CallContext) => up.unary(service, method, req, callOf(ctx));
  }
  return handlers as ServiceHandlers<S>;
}
