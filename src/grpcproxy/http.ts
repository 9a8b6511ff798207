// The proxy's HTTP side (etcd's grpc_proxy.go mux, grpcproxy/metrics.go and health.go):
// /metrics answers with a cluster member's own /metrics, /health asks the cluster for a key,
// /proxy/metrics shows the proxy's registry (etcd 3.5's path: 3.4 shows no proxy metrics), and
// any other path is Go's "404 page not found".
import http from "node:http";
import https from "node:https";
import type tls from "node:tls";
import { type FetchHandler, goHttpError, methodNotAllowed } from "../api/mod.ts";
import { GrpcCode } from "../errors/mod.ts";
import { EXPOSITION_CONTENT_TYPE, registry } from "../metrics/mod.ts";
import type { Endpoint, Upstream } from "./upstream.ts";

const HEALTH_TIMEOUT_MS = 1000;

export interface ProxyHttpOptions {
  up: Upstream;
  /** Where /metrics is fetched: the first --endpoints entry after a shuffle, as given. */
  metricsEndpoint: Endpoint;
  /** Client TLS for https metrics endpoints (etcd's HTTP client of the proxy). */
  tls: tls.ConnectionOptions;
}

/** GET `url` with the proxy's client TLS: the body, or the error. */
function fetchText(url: string, tlsOpts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith("https:") ? https.get : http.get;
    const req = get(url, { ...tlsOpts, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** The proxy's HTTP handler; `secure` says whether it serves a TLS port (an endpoint without a
 * scheme is then fetched over https, as etcd's handler decides from the incoming request). */
export function proxyHttp(o: ProxyHttpOptions, secure: boolean): FetchHandler {
  const metrics = async (): Promise<Response> => {
    const ep = o.metricsEndpoint;
    const base = /^https?:\/\//.test(ep.text)
      ? ep.text.replace(/\/$/, "")
      : `${secure ? "https" : "http"}://${ep.text}`;
    try {
      const body = await fetchText(`${base}/metrics`, o.tls);
      return new Response(body, { headers: { "content-type": "text/plain; version=0.0.4" } });
    } catch {
      return goHttpError(500, "Internal server error");
    }
  };
  const health = async (req: Request): Promise<Response> => {
    if (req.method !== "GET") return methodNotAllowed("GET");
    let ok = true;
    try {
      await o.up.unary("etcdserverpb.KV", "Range", { key: new TextEncoder().encode("a") }, {
        deadline: Date.now() + HEALTH_TIMEOUT_MS,
      });
    } catch (err) {
      ok = (err as { code?: number }).code === GrpcCode.PermissionDenied;
    }
    if (!ok) return goHttpError(503, JSON.stringify({ health: "false" }));
    return new Response(JSON.stringify({ health: "true" }), {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  };
  return (req: Request) => {
    const path = new URL(req.url).pathname;
    if (path === "/metrics") return metrics();
    if (path === "/health") return health(req);
    if (path === "/proxy/metrics") {
      return Promise.resolve(
        new Response(registry.expose(), { headers: { "content-type": EXPOSITION_CONTENT_TYPE } }),
      );
    }
    return Promise.resolve(goHttpError(404, "404 page not found"));
  };
}
