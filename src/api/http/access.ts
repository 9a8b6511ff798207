// etcd's access controller on the client port's HTTP side (embed/serve.go): a plain-HTTP
// request must name a whitelisted host (--host-whitelist, against DNS rebinding), and each
// answer carries CORS headers for the origins --cors allows; OPTIONS is answered at once.
import type { MiddlewareHandler } from "hono";
import { goQuote, splitHostPort } from "../../config/mod.ts";
import { goHttpError } from "./go_http.ts";

export interface AccessOptions {
  /** --cors: origins given CORS headers; "*" (or nothing) allows every origin. */
  cors: string[];
  /** --host-whitelist: hosts plain-HTTP requests may name; "*" (or nothing) allows any. */
  hostWhitelist: string[];
  /** Told of each request refused for its host (etcd logs a warning). */
  onHostRejected?(host: string): void;
}

/** AccessController.OriginAllowed and IsHostWhitelisted share this rule. */
const allows = (list: string[], value: string) =>
  list.length === 0 || list.includes("*") || list.includes(value);

/** httputil.GetHostname: the Host without its port, or whole when Go cannot split it. */
function hostnameOf(req: Request): string {
  const host = req.headers.get("host") ?? new URL(req.url).host;
  return splitHostPort(host)?.host ?? host;
}

// etcd's own answer (errCVE20185702), sent with status 421.
function rebindingText(host: string): string {
  return `
etcd received your request, but the Host header was unrecognized.

To fix this, choose one of the following options:
- Enable TLS, then any HTTPS request will be allowed.
- Add the hostname you want to use to the whitelist in settings.
  - e.g. etcd --host-whitelist ${goQuote(host)}

This requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).
`;
}

function corsHeaders(origin: string): Record<string, string> {
  return {
    "access-control-allow-methods": "POST, GET, OPTIONS, PUT, DELETE",
    "access-control-allow-origin": origin,
    "access-control-allow-headers": "accept, content-type, authorization",
  };
}

export function accessController(opts: AccessOptions): MiddlewareHandler {
  return async (c, next) => {
    const req = c.req.raw;
    if (new URL(req.url).protocol !== "https:") {
      const host = hostnameOf(req);
      if (!allows(opts.hostWhitelist, host)) {
        opts.onHostRejected?.(host);
        return goHttpError(421, rebindingText(host));
      }
    }
    const origin = allows(opts.cors, "*")
      ? "*"
      : allows(opts.cors, req.headers.get("origin") ?? "")
      ? req.headers.get("origin")!
      : undefined;
    const headers = origin === undefined ? {} : corsHeaders(origin);
    if (req.method === "OPTIONS") {
      return new Response(null, { status: 200, headers: { ...headers, "content-length": "0" } });
    }
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  };
}
